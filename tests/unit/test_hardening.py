"""Malformed input at the protocol layer: characters XML cannot carry, nested
parameters where one value is read, request bodies, and secrets in tracebacks."""

import io
import logging

import pytest
from lxml import etree

from cloudbridge import errors
from cloudbridge.app import MAX_BODY_BYTES, _read_body
from cloudbridge.logs import SecretFilter
from cloudbridge.protocol.params import Parameters, Structure
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


# Nested parameters where a single value is read

def test_structure_get_single_value():
    placement = Parameters.from_query({"Placement.AvailabilityZone": "zone1"}).structure(
        "Placement")
    assert placement.get("AvailabilityZone") == "zone1"
    assert placement["AvailabilityZone"] == "zone1"
    assert placement.get("GroupName") is None
    assert placement.get("GroupName", "x") == "x"


@pytest.mark.parametrize("sent", ["Placement.AvailabilityZone.x",
                                  "Placement.AvailabilityZone.1"])
def test_structure_get_nested_rejected(sent):
    placement = Parameters.from_query({sent: "zone1"}).structure("Placement")
    with pytest.raises(errors.InvalidParameterValue) as raised:
        placement.get("AvailabilityZone")
    assert "Placement.AvailabilityZone" in raised.value.message
    assert sent in raised.value.message
    with pytest.raises(errors.InvalidParameterValue):
        placement["AvailabilityZone"]
    with pytest.raises(errors.InvalidParameterValue):
        placement.string("AvailabilityZone")


def test_structure_membership_and_items():
    placement = Parameters.from_query({"Placement.AvailabilityZone.x": "zone1",
                                       "Placement.GroupName": "g"}).structure("Placement")
    assert "AvailabilityZone" in placement
    assert "Tenancy" not in placement
    assert sorted(placement) == ["AvailabilityZone", "GroupName"]
    assert len(placement) == 2
    items = dict(placement.items())
    assert items["GroupName"] == "g"
    assert isinstance(items["AvailabilityZone"], Structure)
    assert items["AvailabilityZone"].name == "Placement.AvailabilityZone"
    assert items["AvailabilityZone"] == {"x": "zone1"}


def test_structure_get_member_list():
    params = Parameters.from_query({"LaunchPermission.Add.1.UserId": "bob",
                                    "LaunchPermission.Add.2.Group": "all"})
    added = params.structure("LaunchPermission").get("Add")
    assert [member.name for member in added] == ["LaunchPermission.Add.1",
                                                 "LaunchPermission.Add.2"]
    assert added[0].get("UserId") == "bob"
    assert "Group" in added[1]


def test_structure_get_list_of_values_rejected():
    params = Parameters.from_query({"LaunchPermission.Add.1.UserId.1": "bob"})
    [member] = params.structure("LaunchPermission").get("Add")
    with pytest.raises(errors.InvalidParameterValue) as raised:
        member.get("UserId")
    assert "LaunchPermission.Add.1.UserId.1" in raised.value.message


def test_structures_named_by_position():
    params = Parameters.from_query({
        "IpPermissions.1.IpProtocol": "tcp",
        "IpPermissions.1.IpRanges.1.CidrIp": "10.0.0.0/8",
        "IpPermissions.1.Groups.1.GroupId.1": "sg-1",
        "IpPermissions.2.IpProtocol.1": "udp"})
    first, second = params.structures("IpPermissions")
    assert first.name == "IpPermissions.1"
    assert first.string("IpProtocol") == "tcp"
    [cidr] = first.structures("IpRanges")
    assert cidr.name == "IpPermissions.1.IpRanges.1"
    assert cidr.string("CidrIp") == "10.0.0.0/8"
    [group] = first.structures("Groups")
    with pytest.raises(errors.InvalidParameterValue) as raised:
        group.string("GroupId")
    assert "IpPermissions.1.Groups.1.GroupId" in raised.value.message
    with pytest.raises(errors.InvalidParameterValue) as raised:
        second.string("IpProtocol")
    assert "IpPermissions.2.IpProtocol" in raised.value.message


def test_structures_keep_tree_for_digest():
    params = Parameters.from_query({"Placement.AvailabilityZone": "zone1"})
    params.structure("Placement")
    assert params.tree == {"Placement": {"AvailabilityZone": "zone1"}}


def test_filter_name_nested_rejected():
    params = Parameters.from_query({"Filter.1.Name.1": "image-id", "Filter.1.Value.1": "a"})
    with pytest.raises(errors.InvalidParameterValue) as raised:
        params.filters()
    assert "Filter.1.Name" in raised.value.message


def test_filter_single_value():
    params = Parameters.from_query({"Filter.1.Name": "image-id", "Filter.1.Value": "ami-1"})
    assert params.filters() == [("image-id", ["ami-1"])]


# Request bodies

class RecordingStream:
    """A wsgi.input that returns `data` and records each size it is asked for."""

    def __init__(self, data=b"", error=None):
        self.stream = io.BytesIO(data)
        self.error = error
        self.sizes = []

    def read(self, size=-1):
        self.sizes.append(size)
        if self.error is not None:
            raise self.error
        return self.stream.read(size)


def environ_with(stream, content_length=None, transfer_encoding=None):
    environ = {"wsgi.input": stream}
    if content_length is not None:
        environ["CONTENT_LENGTH"] = content_length
    if transfer_encoding is not None:
        environ["HTTP_TRANSFER_ENCODING"] = transfer_encoding
    return environ


def test_body_by_content_length():
    stream = RecordingStream(b"Action=DescribeRegions&more")
    assert _read_body(environ_with(stream, "22")) == b"Action=DescribeRegions"
    assert stream.sizes == [22]


@pytest.mark.parametrize("length", ["-1", "-0", "abc", "1e3", "+5", "\u0661"])
def test_body_invalid_content_length(length):
    stream = RecordingStream(b"Action=DescribeRegions")
    with pytest.raises(errors.InvalidParameterValue) as raised:
        _read_body(environ_with(stream, length))
    assert raised.value.status == 400
    assert "Content-Length" in raised.value.message
    assert stream.sizes == []


def test_body_content_length_too_large():
    stream = RecordingStream()
    with pytest.raises(errors.ClientError) as raised:
        _read_body(environ_with(stream, str(MAX_BODY_BYTES + 1)))
    assert raised.value.status == 413
    assert raised.value.code == "RequestEntityTooLarge"
    assert stream.sizes == []


def test_body_chunked_read_to_end():
    stream = RecordingStream(b"Action=DescribeRegions")
    assert _read_body(environ_with(stream, transfer_encoding="chunked")) == \
        b"Action=DescribeRegions"
    assert stream.sizes == [MAX_BODY_BYTES + 1]


def test_body_chunked_too_large():
    stream = RecordingStream(b"a" * (MAX_BODY_BYTES + 10))
    with pytest.raises(errors.ClientError) as raised:
        _read_body(environ_with(stream, transfer_encoding="chunked"))
    assert raised.value.status == 413
    assert stream.sizes == [MAX_BODY_BYTES + 1]


def test_body_chunked_malformed():
    stream = RecordingStream(error=ValueError("Bad chunked transfer size: b'zz'"))
    with pytest.raises(errors.ClientError) as raised:
        _read_body(environ_with(stream, transfer_encoding="chunked"))
    assert raised.value.status == 400
    assert "Bad chunked transfer size" in raised.value.message


def test_body_absent():
    stream = RecordingStream(b"ignored")
    assert _read_body(environ_with(stream)) == b""
    assert _read_body(environ_with(stream, "0")) == b""
    assert stream.sizes == []


# Secrets in logged exceptions

def logged_text(log_call):
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(SecretFilter())
    logger = logging.getLogger("tests.hardening")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        log_call(logger)
    finally:
        logger.removeHandler(handler)
    return output.getvalue()


def test_exception_traceback_masked():
    def log_call(logger):
        try:
            raise RuntimeError("request failed: secretkey=abc&accesskey=AKID1")
        except RuntimeError:
            logger.exception("request %s failed", "req-1")

    text = logged_text(log_call)
    assert "Traceback" in text
    assert "RuntimeError: request failed: secretkey=****&accesskey=AKID1" in text
    assert "abc" not in text


def test_exception_passed_as_exc_info_masked():
    error = ValueError("Signature=c2VjcmV0 does not match")
    text = logged_text(lambda logger: logger.error(
        "check failed", exc_info=(ValueError, error, None)))
    assert "ValueError: Signature=**** does not match" in text
    assert "c2VjcmV0" not in text


def test_stack_info_masked():
    def log_call(logger):
        # The stack shows this source line, secret-shaped text included.
        logger.warning("lookup of secretkey=abc", stack_info=True)

    text = logged_text(log_call)
    assert "Stack (most recent call last)" in text
    assert 'logger.warning("lookup of secretkey=****", stack_info=True)' in text
    assert "abc" not in text
