"""Malformed requests get an EC2 client error, never 500, and change nothing.

Covers characters XML 1.0 does not allow, nested parameters where one value
is expected, time stamps at the limits of datetime, and request bodies with
a negative Content-Length or chunked transfer coding.
"""

import datetime
import http.client
from urllib.parse import urlencode

import requests
from lxml import etree

from cloudbridge.app import MAX_BODY_BYTES
from cloudbridge.protocol import sigv2
from tests.harness import QUERY_PATH, USERS, calls, error_code, signed_query

REPLACEMENT = "\ufffd"
UNKNOWN_INSTANCE = "i-0123456789abcdef0"


def image_id(cloud):
    images = cloud.boto3("alice").describe_images()["Images"]
    return next(i["ImageId"] for i in images if "CentOS" in i["Name"])


def error_message(response):
    return etree.fromstring(response.content).findtext("Errors/Error/Message")


# Characters XML 1.0 does not allow

def test_control_character_echoed_in_error(cloud):
    response = requests.get(cloud.endpoint(), timeout=30, params={
        "Action": "DescribeRegions", "SignatureVersion": "\x01",
        "AWSAccessKeyId": USERS["alice"].access_key})
    assert response.status_code == 401
    assert error_code(response) == "AuthFailure"
    assert "'%s'" % REPLACEMENT in error_message(response)


def test_control_character_in_key_name_rejected(cloud):
    cloud.simulator.clear_calls()
    response = signed_query(cloud, "alice", {"Action": "CreateKeyPair", "KeyName": "key\x02"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterValue"
    assert "KeyName" in error_message(response)
    assert calls(cloud, "createSSHKeyPair") == []


def test_control_character_in_tag_value_rejected(cloud):
    cloud.simulator.clear_calls()
    response = signed_query(cloud, "alice", {"Action": "CreateTags",
                                             "ResourceId.1": UNKNOWN_INSTANCE,
                                             "Tag.1.Key": "k", "Tag.1.Value": "v\x01"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterValue"
    assert "Tag.1.Value" in error_message(response)
    assert calls(cloud, "createTags") == []


def test_control_character_stored_in_cloudstack(cloud):
    # A group made in CloudStack directly, as an older CloudBridge would have stored it.
    cloudstack = cloud.cloudstack("alice")
    cloudstack.request("createSecurityGroup", name="ctl-description",
                       description="made\x01outside")
    try:
        groups = cloud.boto3("alice").describe_security_groups(
            GroupNames=["ctl-description"])["SecurityGroups"]
        assert [g["Description"] for g in groups] == ["made%soutside" % REPLACEMENT]
        everything = signed_query(cloud, "alice", {"Action": "DescribeSecurityGroups"})
        assert everything.status_code == 200
    finally:
        cloudstack.request("deleteSecurityGroup", name="ctl-description")


# Nested parameters where a single value is expected

def test_nested_availability_zone_rejected(cloud):
    cloud.simulator.clear_calls()
    response = signed_query(cloud, "alice", {"Action": "RunInstances",
                                             "ImageId": image_id(cloud),
                                             "Placement.AvailabilityZone.x": "zone1"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterValue"
    assert "Placement.AvailabilityZone" in error_message(response)
    assert calls(cloud, "deployVirtualMachine") == []


def test_listed_ip_protocol_rejected(cloud):
    cloud.simulator.clear_calls()
    response = signed_query(cloud, "alice", {
        "Action": "AuthorizeSecurityGroupIngress", "GroupName": "default",
        "IpPermissions.1.IpProtocol.1": "tcp", "IpPermissions.1.FromPort": "22",
        "IpPermissions.1.ToPort": "22", "IpPermissions.1.IpRanges.1.CidrIp": "192.0.2.0/24"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterValue"
    assert "IpPermissions.1.IpProtocol" in error_message(response)
    assert calls(cloud, "authorizeSecurityGroupIngress") == []


def test_listed_source_group_id_rejected(cloud):
    cloud.simulator.clear_calls()
    response = signed_query(cloud, "alice", {
        "Action": "AuthorizeSecurityGroupIngress", "GroupName": "default",
        "IpPermissions.1.IpProtocol": "tcp", "IpPermissions.1.FromPort": "22",
        "IpPermissions.1.ToPort": "22", "IpPermissions.1.Groups.1.GroupId.1": "sg-1"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterValue"
    assert "IpPermissions.1.Groups.1.GroupId" in error_message(response)
    assert calls(cloud, "authorizeSecurityGroupIngress") == []


def test_nested_instance_type_value_rejected(cloud):
    response = signed_query(cloud, "alice", {"Action": "ModifyInstanceAttribute",
                                             "InstanceId": UNKNOWN_INSTANCE,
                                             "InstanceType.Value.x": "m1.small"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterValue"
    assert "InstanceType.Value" in error_message(response)


def test_listed_launch_permission_user_rejected(cloud):
    cloud.simulator.clear_calls()
    response = signed_query(cloud, "alice", {"Action": "ModifyImageAttribute",
                                             "ImageId": image_id(cloud),
                                             "LaunchPermission.Add.1.UserId.1": "bob"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterValue"
    assert "LaunchPermission.Add.1.UserId" in error_message(response)
    assert calls(cloud, "updateTemplatePermissions") == []


# Time stamps at the limits of datetime

def test_timestamp_offset_beyond_a_day(cloud):
    response = requests.get(cloud.endpoint(), timeout=30, params={
        "Action": "DescribeRegions", "Version": "2010-11-15", "SignatureVersion": "2",
        "SignatureMethod": "HmacSHA256", "AWSAccessKeyId": USERS["alice"].access_key,
        "Signature": "x", "Timestamp": "2020-01-01T00:00:00+99:00"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterValue"
    assert "Timestamp" in error_message(response)


def test_presigned_date_in_year_9999(cloud):
    query = ("Action=DescribeRegions&Version=2010-11-15&X-Amz-Algorithm=AWS4-HMAC-SHA256"
             "&X-Amz-Credential=%s%%2F99991231%%2Fcloudstack%%2Fec2%%2Faws4_request"
             "&X-Amz-SignedHeaders=host&X-Amz-Signature=00&X-Amz-Date=99991231T235959Z"
             "&X-Amz-Expires=604800" % USERS["alice"].access_key)
    response = requests.get(cloud.endpoint() + "?" + query, timeout=30)
    assert response.status_code == 400
    assert error_code(response) == "RequestExpired"


# Request bodies

def signed_form(cloud, user, params):
    """Return the SigV2-signed form body of a POST Query request, as signed_query sends it."""
    u = USERS[user]
    signed = dict(params, AWSAccessKeyId=u.access_key, SignatureMethod="HmacSHA256",
                  SignatureVersion="2", Version="2010-11-15",
                  Timestamp=datetime.datetime.now(datetime.timezone.utc).strftime(
                      "%Y-%m-%dT%H:%M:%SZ"))
    signed["Signature"] = sigv2.sign("POST", "127.0.0.1:%d" % cloud.bridge.port, QUERY_PATH,
                                     signed, u.secret_key)
    return urlencode(signed).encode("ascii")


def test_negative_content_length(cloud):
    connection = http.client.HTTPConnection("127.0.0.1", cloud.bridge.port, timeout=10)
    try:
        connection.putrequest("POST", QUERY_PATH)
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Content-Length", "-1")
        connection.endheaders(b"Action=CloudEC2Version&Version=2010-11-15")
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 400
    root = etree.fromstring(body)
    assert root.findtext("Errors/Error/Code") == "InvalidParameterValue"
    assert "Content-Length" in root.findtext("Errors/Error/Message")


def test_chunked_body_read(cloud):
    body = signed_form(cloud, "alice", {"Action": "DescribeRegions"})

    def chunks():
        yield body[:20]
        yield body[20:]

    response = requests.post(cloud.endpoint(), data=chunks(), timeout=30, headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 200, response.text
    assert b"DescribeRegionsResponse" in response.content


def test_chunked_body_too_large(cloud):
    def chunks():
        yield b"Action=DescribeRegions&Pad="
        yield b"a" * MAX_BODY_BYTES

    response = requests.post(cloud.endpoint(), data=chunks(), timeout=30, headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert error_code(response) == "RequestEntityTooLarge"


def test_nested_placement_list_is_client_error(cloud):
    response = signed_query(cloud, "alice", {"Action": "RunInstances", "ImageId": "ami-1",
                                             "Placement.AvailabilityZone.1.x": "zone1"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterValue"
