"""SigV2 signing and verification, checked against requests captured from real clients."""

from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from cloudbridge.errors import (
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
    RequestExpired,
    SignatureDoesNotMatch,
)
from cloudbridge.protocol import sigv2
from cloudbridge.protocol.auth import AuthResult, authenticate
from cloudbridge.protocol.request import HttpRequest, parse_query_params

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "SECRETEXAMPLE"
# The captures below were made between 19:47:14 and 19:49:22 on this day.
CAPTURE_TIME = datetime(2026, 12, 4, 19, 50, 0, tzinfo=timezone.utc)
ENDPOINT = "/bridge/rest/AmazonEC2"
FORM = "application/x-www-form-urlencoded; charset=UTF-8"


def lookup_secret(access_key):
    return SECRET_KEY if access_key == ACCESS_KEY else None


def make_request(method, path, host, query_string="", body=""):
    """Build an HttpRequest as the web layer does from what arrived on the wire."""
    headers = {"host": host}
    if method == "POST":
        headers["content-type"] = FORM
    request = HttpRequest(method=method, path=path, query_string=query_string,
                          headers=headers, body=body.encode("utf-8"))
    request.params = parse_query_params(query_string, request.body, form=request.is_form_post())
    return request


# Captured SigV2 requests: (client, method, path as sent, Host as sent, query or body).
CAPTURED = {
    "boto2": ("POST", ENDPOINT + "/", "127.0.0.1",
              "AWSAccessKeyId=AKIDEXAMPLE&Action=DescribeInstances&SignatureMethod=HmacSHA256"
              "&SignatureVersion=2&Timestamp=2026-12-04T19%3A47%3A14Z&Version=2010-11-15"
              "&Signature=JvVF3duw7A3zJF1xKDwAp8YyEpJlXD3KqF8r9I4tj9Y%3D"),
    "libcloud-describe": (
        "GET", ENDPOINT, "127.0.0.1:37531",
        "Action=DescribeInstances&SignatureVersion=2&SignatureMethod=HmacSHA256"
        "&AWSAccessKeyId=AKIDEXAMPLE&Version=2016-11-15&Timestamp=2026-12-04T19%3A48%3A42Z"
        "&Signature=mfYeUAfBj3f7yvZ8z42n8M3hxQorlhcbff312ODWi1o%3D"),
    "libcloud-run": (
        "GET", ENDPOINT, "127.0.0.1:37531",
        "Action=RunInstances&ImageId=ami-00000001&MinCount=1&MaxCount=1&InstanceType=m1.small"
        "&Placement.AvailabilityZone=zone1&TagSpecification.1.ResourceType=instance"
        "&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=n1"
        "&SignatureVersion=2&SignatureMethod=HmacSHA256&AWSAccessKeyId=AKIDEXAMPLE"
        "&Version=2016-11-15&Timestamp=2026-12-04T19%3A48%3A42Z"
        "&Signature=PbRu8mMnPEItNA%2FS5MzC4Mttux4ToRNn50cNCH8U4QI%3D"),
    "boto3-v2": (
        "POST", ENDPOINT, "127.0.0.1:37531",
        "Action=RunInstances&Version=2014-10-01&ImageId=ami-00000001&InstanceType=m1.small"
        "&MinCount=1&MaxCount=1&Placement.AvailabilityZone=zone1&AWSAccessKeyId=AKIDEXAMPLE"
        "&SignatureVersion=2&SignatureMethod=HmacSHA256&Timestamp=2026-12-04T19%3A47%3A42Z"
        "&Signature=9euOF6blhDae6MoOBWxhnlC0FMkdlCj3T4iw3zr%2FyAk%3D"),
    "ec2-api-tools-describe": (
        "POST", ENDPOINT + "/", "127.0.0.1:37531",
        "SignatureVersion=2&Action=DescribeInstances&Version=2013-02-01"
        "&Filter.1.Value.1=running&Signature=hW0rzGCZO%2B%2FBYStjNrIGkClcYgduIa5zUuWV89LBaWk%3D"
        "&AWSAccessKeyId=AKIDEXAMPLE&SignatureMethod=HmacSHA256"
        "&Filter.1.Name=instance-state-name&InstanceId.1=i-00000001"
        "&Timestamp=2026-12-04T19%3A49%3A21.742Z"),
    "ec2-api-tools-run": (
        "POST", ENDPOINT + "/", "127.0.0.1:37531",
        "Placement.AvailabilityZone=zone1&Action=RunInstances&AWSAccessKeyId=AKIDEXAMPLE"
        "&MaxCount=1&Timestamp=2026-12-04T19%3A49%3A22.448Z&EbsOptimized=false"
        "&DisableApiTermination=false&SignatureVersion=2&Version=2013-02-01"
        "&Signature=IqLmZaDVlsDiFo9Su03m2G%2FTBxOBAwg3%2BhWHBrrOG20%3D&ImageId=ami-00000001"
        "&Monitoring.Enabled=false&SignatureMethod=HmacSHA256&InstanceType=m1.small"
        "&MinCount=1"),
}


def captured_request(name, path=None, host=None, data=None):
    method, sent_path, sent_host, sent_data = CAPTURED[name]
    path = sent_path if path is None else path
    host = sent_host if host is None else host
    data = sent_data if data is None else data
    if method == "GET":
        return make_request("GET", path, host, query_string=data)
    return make_request("POST", path, host, body=data)


def signed_request(method="POST", path=ENDPOINT, host="127.0.0.1:8090", secret=SECRET_KEY,
                   signature_method="HmacSHA256", drop=(), **params):
    """Sign params with sigv2.sign as a client would and build the request the server sees."""
    params.setdefault("Action", "DescribeInstances")
    params.setdefault("Version", "2010-11-15")
    params.setdefault("AWSAccessKeyId", ACCESS_KEY)
    params.setdefault("SignatureVersion", "2")
    params.setdefault("SignatureMethod", signature_method)
    if "Expires" not in params:
        params.setdefault("Timestamp", "2026-12-04T19:49:00Z")
    params["Signature"] = sigv2.sign(method, host, path, params, secret, signature_method)
    for name in drop:
        del params[name]
    encoded = urlencode(params)
    if method == "GET":
        return make_request("GET", path, host, query_string=encoded)
    return make_request("POST", path, host, body=encoded)


@pytest.mark.parametrize("name", sorted(CAPTURED))
def test_captured_request_accepted(name):
    result = authenticate(captured_request(name), lookup_secret, now=CAPTURE_TIME)
    assert result == AuthResult(access_key=ACCESS_KEY, signature_version=2)


def test_sign_reproduces_libcloud_signature():
    request = captured_request("libcloud-describe")
    signature = sigv2.sign("GET", "127.0.0.1:37531", ENDPOINT, request.params, SECRET_KEY)
    assert signature == "mfYeUAfBj3f7yvZ8z42n8M3hxQorlhcbff312ODWi1o="


def test_sign_reproduces_java_signature_without_slash():
    request = captured_request("ec2-api-tools-describe")
    signature = sigv2.sign("POST", "127.0.0.1:37531", ENDPOINT, request.params, SECRET_KEY)
    assert signature == "hW0rzGCZO+/BYStjNrIGkClcYgduIa5zUuWV89LBaWk="


def test_boto2_signed_slash_not_stripped_path():
    # boto 2 signs the path with its trailing slash, so the same body sent to
    # the path without the slash no longer verifies.
    request = captured_request("boto2", path=ENDPOINT)
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(request, lookup_secret, now=CAPTURE_TIME)


def test_java_signature_wrong_on_other_path():
    request = captured_request("ec2-api-tools-describe", path="/bridge/")
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(request, lookup_secret, now=CAPTURE_TIME)


def test_boto2_host_without_port_is_signed_as_received():
    request = captured_request("boto2", host="127.0.0.1:37531")
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(request, lookup_secret, now=CAPTURE_TIME)


def test_host_header_case_ignored():
    request = signed_request(host="Bridge.Example:8090")
    assert request.headers["host"] == "Bridge.Example:8090"
    assert authenticate(request, lookup_secret, now=CAPTURE_TIME).access_key == ACCESS_KEY


def test_tampered_parameter_rejected():
    method, path, host, data = CAPTURED["libcloud-run"]
    tampered = data.replace("MaxCount=1", "MaxCount=20")
    request = make_request(method, path, host, query_string=tampered)
    with pytest.raises(SignatureDoesNotMatch) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert raised.value.status == 403
    assert raised.value.code == "SignatureDoesNotMatch"


def test_added_parameter_rejected():
    method, path, host, data = CAPTURED["boto3-v2"]
    request = make_request(method, path, host, body=data + "&KeyName=other")
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(request, lookup_secret, now=CAPTURE_TIME)


def test_wrong_secret_rejected():
    request = signed_request(secret="NOT-THE-SECRET")
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(request, lookup_secret, now=CAPTURE_TIME)


def test_stale_timestamp_expired():
    request = captured_request("libcloud-describe")
    later = CAPTURE_TIME + timedelta(minutes=20)
    with pytest.raises(RequestExpired) as raised:
        authenticate(request, lookup_secret, now=later)
    assert raised.value.status == 400
    assert "2026-12-04T19:48:42Z" in raised.value.message


def test_future_timestamp_expired():
    request = captured_request("libcloud-describe")
    earlier = CAPTURE_TIME - timedelta(minutes=30)
    with pytest.raises(RequestExpired):
        authenticate(request, lookup_secret, now=earlier)


def test_timestamp_within_window_accepted():
    request = captured_request("libcloud-describe")
    edge = datetime(2026, 12, 4, 20, 3, 42, tzinfo=timezone.utc)
    assert authenticate(request, lookup_secret, now=edge).signature_version == 2


def test_timestamp_with_offset_accepted():
    request = signed_request(Timestamp="2026-12-04T20:49:00+01:00")
    assert authenticate(request, lookup_secret, now=CAPTURE_TIME).access_key == ACCESS_KEY


def test_timestamp_offset_counts_in_window():
    # The same wall-clock time labelled +05:00 is five hours earlier in UTC.
    request = signed_request(Timestamp="2026-12-04T19:49:00+05:00")
    with pytest.raises(RequestExpired):
        authenticate(request, lookup_secret, now=CAPTURE_TIME)


@pytest.mark.parametrize("name", ["Timestamp", "Expires"])
@pytest.mark.parametrize("zone", ["+99:00", "-24:00", "+24:00", "+0560"])
def test_time_offset_out_of_range_rejected(name, zone):
    request = signed_request(**{name: "2026-12-04T19:49:00" + zone})
    with pytest.raises(InvalidParameterValue) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert name in raised.value.message
    assert zone in raised.value.message


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"])
def test_timestamp_at_datetime_limits_expired(value):
    request = signed_request(Timestamp=value)
    with pytest.raises(RequestExpired):
        authenticate(request, lookup_secret, now=CAPTURE_TIME)


@pytest.mark.parametrize("value", ["yesterday", "2026-12-04 19:49:00", "2026-13-04T19:49:00Z",
                                   "20261204T194900Z", ""])
def test_unparsable_timestamp_rejected(value):
    request = signed_request(Timestamp=value)
    with pytest.raises(InvalidParameterValue) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert "Timestamp" in raised.value.message


def test_future_expires_accepted():
    request = signed_request(Expires="2026-12-04T20:30:00Z")
    assert authenticate(request, lookup_secret, now=CAPTURE_TIME).access_key == ACCESS_KEY


@pytest.mark.parametrize("value", ["2036-12-04T19:49:00Z", "9999-12-31T23:59:59-23:59"])
def test_far_future_expires_accepted(value):
    # Expires is not capped to the Timestamp window: a far one stays valid until then.
    request = signed_request(Expires=value)
    assert authenticate(request, lookup_secret, now=CAPTURE_TIME).access_key == ACCESS_KEY


def test_past_expires_expired():
    request = signed_request(Expires="2026-12-04T19:45:00Z")
    with pytest.raises(RequestExpired) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert "Expires" in raised.value.message


def test_unparsable_expires_rejected():
    request = signed_request(Expires="next week")
    with pytest.raises(InvalidParameterValue) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert "Expires" in raised.value.message


def test_timestamp_and_expires_together_rejected():
    request = signed_request(Timestamp="2026-12-04T19:49:00Z", Expires="2026-12-04T20:30:00Z")
    with pytest.raises(InvalidParameterCombination):
        authenticate(request, lookup_secret, now=CAPTURE_TIME)


@pytest.mark.parametrize("name", ["AWSAccessKeyId", "Signature", "SignatureMethod", "Timestamp"])
def test_missing_parameter_named(name):
    request = signed_request(drop=[name])
    with pytest.raises(MissingParameter) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert raised.value.status == 400
    assert name in raised.value.message


def test_unsupported_signature_method_rejected():
    request = signed_request()
    request.params["SignatureMethod"] = "HmacMD5"
    with pytest.raises(InvalidParameterValue) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert "HmacMD5" in raised.value.message


def test_hmac_sha1_accepted():
    request = signed_request(signature_method="HmacSHA1")
    assert authenticate(request, lookup_secret, now=CAPTURE_TIME).access_key == ACCESS_KEY


def test_hmac_sha1_signature_must_match_method():
    request = signed_request(signature_method="HmacSHA1")
    body = request.body.decode().replace("SignatureMethod=HmacSHA1", "SignatureMethod=HmacSHA256")
    relabelled = make_request("POST", ENDPOINT, "127.0.0.1:8090", body=body)
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(relabelled, lookup_secret, now=CAPTURE_TIME)


def test_canonical_query_encodes_space_and_star():
    assert sigv2.canonical_query({"Value": "a b*c+d~e"}) == "Value=a%20b%2Ac%2Bd~e"


def test_canonical_query_sorted_by_byte_order():
    params = {"Action": "x", "AWSAccessKeyId": "k", "action": "y", "Signature": "s"}
    assert sigv2.canonical_query(params) == "AWSAccessKeyId=k&Action=x&action=y"


def test_canonical_query_encodes_utf8():
    assert sigv2.canonical_query({"Description": "caf\u00e9/x"}) == "Description=caf%C3%A9%2Fx"


def test_string_to_sign_layout():
    text = sigv2.string_to_sign("post", "Bridge.Example:8090", "", {"Action": "Run Instances"})
    assert text == "POST\nbridge.example:8090\n/\nAction=Run%20Instances"


def test_form_post_space_and_star_accepted():
    # urlencode sends the space as "+" and the star as "%2A", as browsers and
    # boto do; the signature covers the decoded value either way.
    request = signed_request(method="POST", GroupDescription="web servers *prod*")
    assert b"web+servers+%2Aprod%2A" in request.body
    assert authenticate(request, lookup_secret, now=CAPTURE_TIME).access_key == ACCESS_KEY


def test_form_post_signed_with_plus_rejected():
    # A client that signs a space as "+" (form encoding) instead of "%20"
    # computes a different signature, which must not verify.
    params = {"Action": "CreateSecurityGroup", "GroupDescription": "web servers",
              "AWSAccessKeyId": ACCESS_KEY, "SignatureVersion": "2",
              "SignatureMethod": "HmacSHA256", "Timestamp": "2026-12-04T19:49:00Z",
              "Version": "2010-11-15"}
    wrong = dict(params, GroupDescription="web+servers")
    params["Signature"] = sigv2.sign("POST", "127.0.0.1:8090", ENDPOINT, wrong, SECRET_KEY)
    request = make_request("POST", ENDPOINT, "127.0.0.1:8090", body=urlencode(params))
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(request, lookup_secret, now=CAPTURE_TIME)


def test_get_with_query_string_accepted():
    request = signed_request(method="GET", path="/bridge",
                             **{"Filter.1.Name": "tag:Name", "Filter.1.Value.1": "a b*"})
    assert "Filter.1.Value.1=a+b%2A" in request.query_string
    assert request.body == b""
    assert authenticate(request, lookup_secret, now=CAPTURE_TIME).access_key == ACCESS_KEY


def test_unencoded_plus_in_signature_accepted():
    method, path, host, data = CAPTURED["ec2-api-tools-describe"]
    # "%2B" sent as a bare "+", which query decoding turns into a space.
    request = make_request(method, path, host, body=data.replace("%2B", "+"))
    assert " " in request.params["Signature"]
    assert authenticate(request, lookup_secret, now=CAPTURE_TIME).access_key == ACCESS_KEY


def test_sign_rejects_unknown_method():
    with pytest.raises(ValueError):
        sigv2.sign("GET", "h", "/", {}, SECRET_KEY, signature_method="HmacMD5")
