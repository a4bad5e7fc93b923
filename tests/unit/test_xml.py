import datetime

from lxml import etree

from cloudbridge.protocol.schema import validation_errors
from cloudbridge.protocol.xml import error_document, response_element, serialize


def test_response_in_version_namespace_with_declaration():
    body = serialize(response_element("DescribeAddresses", "2016-11-15", "req-1",
                                      {"addressesSet": []}))
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    root = etree.fromstring(body)
    assert root.tag == "{http://ec2.amazonaws.com/doc/2016-11-15/}DescribeAddressesResponse"
    assert root.findtext("{*}requestId") == "req-1"


def test_values_lists_and_none():
    element = response_element("RunInstances", "2010-11-15", "r", {
        "reservationId": "r-1", "ownerId": "alice", "groupSet": [{"groupId": "default"}],
        "instancesSet": [{
            "instanceId": "i-1", "imageId": "ami-1",
            "instanceState": {"code": 16, "name": "running"},
            "privateDnsName": "vm1", "dnsName": "", "keyName": None,
            "instanceType": "m1.small",
            "launchTime": datetime.datetime(2026, 1, 2, 3, 4, 5, 678000,
                                            tzinfo=datetime.timezone.utc),
            "placement": {"availabilityZone": "zone1"},
            "monitoring": {"state": "disabled"},
        }]})
    body = serialize(element)
    assert validation_errors(body) == []
    assert b"<launchTime>2026-01-02T03:04:05.678Z</launchTime>" in body
    assert b"keyName" not in body


def test_error_document_shape():
    root = etree.fromstring(error_document("AuthFailure", "no", "req-2"))
    assert root.tag == "Response"
    assert root.findtext("Errors/Error/Code") == "AuthFailure"
    assert root.findtext("Errors/Error/Message") == "no"
    assert root.findtext("RequestID") == "req-2"
