"""Malformed input at the protocol layer: characters XML 1.0 does not allow."""

import pytest
from lxml import etree

from cloudbridge import errors
from cloudbridge.protocol.params import Parameters
from cloudbridge.protocol.soap import fault_document
from cloudbridge.protocol.xml import error_document, response_element, serialize, xml_safe

REPLACEMENT = "\ufffd"


# Characters XML 1.0 does not allow

@pytest.mark.parametrize("character", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f",
                                       "\ud800", "\udfff", "\ufffe", "\uffff"])
def test_xml_safe_replaces_disallowed(character):
    assert xml_safe("a%sb" % character) == "a%sb" % REPLACEMENT


@pytest.mark.parametrize("character", ["\t", "\n", "\r", " ", "\x7f", "\x85", "\ud7ff",
                                       "\ue000", "\ufffd", "\U00010000", "\U0010ffff"])
def test_xml_safe_keeps_allowed(character):
    assert xml_safe("a%sb" % character) == "a%sb" % character


def test_response_with_control_character():
    element = response_element("DescribeTags", "2010-11-15", "req-1", {
        "tagSet": [{"resourceId": "i-1", "resourceType": "instance", "key": "k\x01",
                    "value": "v\x02w"}]})
    root = etree.fromstring(serialize(element))
    assert root.findtext(".//{*}key") == "k" + REPLACEMENT
    assert root.findtext(".//{*}value") == "v%sw" % REPLACEMENT


def test_error_document_with_control_character():
    root = etree.fromstring(error_document("AuthFailure", "version '\x01' unknown", "req\x02"))
    assert root.findtext("Errors/Error/Message") == "version '%s' unknown" % REPLACEMENT
    assert root.findtext("RequestID") == "req" + REPLACEMENT


def test_soap_fault_with_control_character():
    error = errors.InvalidParameterValue("bad value '\x01'")
    root = etree.fromstring(fault_document(error, "req\x02"))
    fault = root.find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault")
    assert fault.findtext("faultcode") == "soapenv:Client.InvalidParameterValue"
    assert fault.findtext("faultstring") == "bad value '%s'" % REPLACEMENT
    assert fault.findtext("detail/RequestID") == "req" + REPLACEMENT


def test_parameter_with_control_character_rejected():
    with pytest.raises(errors.InvalidParameterValue) as raised:
        Parameters.from_query({"Action": "CreateTags", "Tag.1.Key": "k",
                               "Tag.1.Value": "v\x01"})
    assert "Tag.1.Value" in raised.value.message
    assert "U+0001" in raised.value.message
    assert "\x01" not in raised.value.message


def test_parameter_with_tab_and_newlines_accepted():
    params = Parameters.from_query({"GroupDescription": "web\tservers\r\nfront"})
    assert params.get("GroupDescription") == "web\tservers\r\nfront"
