"""SigV4 verification, checked against captured requests and requests signed by botocore and boto 2."""

import hashlib
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import boto.auth
import boto.connection
import boto.provider
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cloudbridge.errors import (
    AuthFailure,
    MissingParameter,
    RequestExpired,
    SignatureDoesNotMatch,
)
from cloudbridge.protocol import sigv4
from cloudbridge.protocol.auth import AuthResult, authenticate
from cloudbridge.protocol.request import HttpRequest, parse_query_params

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "SECRETEXAMPLE"
CAPTURE_TIME = datetime(2026, 12, 4, 19, 50, 0, tzinfo=timezone.utc)
ENDPOINT = "/bridge/rest/AmazonEC2"
FORM_UTF8 = "application/x-www-form-urlencoded; charset=utf-8"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def lookup_secret(access_key):
    return SECRET_KEY if access_key == ACCESS_KEY else None


def make_request(method, path, headers, query_string="", body=b""):
    """Build an HttpRequest as the web layer does: header names in lower case."""
    request = HttpRequest(method=method, path=path, query_string=query_string,
                          headers={name.lower(): value for name, value in headers.items()},
                          body=body)
    request.params = parse_query_params(query_string, body, form=request.is_form_post())
    return request


# Captured SigV4 requests: (method, path, query string, headers as sent, body).
CAPTURED = {
    "boto3": (
        "POST", ENDPOINT, "",
        {"Content-Type": FORM_UTF8, "Host": "127.0.0.1:37531", "X-Amz-Date": "20261204T194730Z",
         "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261204/zone1/ec2/"
                          "aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
                          "7f5f6619dd895d57987cdb099ae5ab5e698bab61f370cd0393d9fd785dd00c70"},
        b"Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-00000001"
        b"&Filter.1.Name=instance-state-name&Filter.1.Value.1=running"),
    "awscli": (
        "POST", ENDPOINT, "",
        {"Content-Type": FORM_UTF8, "Host": "127.0.0.1:37531", "X-Amz-Date": "20261204T194757Z",
         "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261204/zone1/ec2/"
                          "aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
                          "f21b511146b36e0c35dbbb508c0b8e9048f832cc7f047ad49721d490a8687435"},
        b"Action=RunInstances&Version=2016-11-15&ImageId=ami-00000001&InstanceType=m1.small"
        b"&Placement.AvailabilityZone=zone1&MinCount=1&MaxCount=1"
        b"&ClientToken=46d94cb5-f316-40ce-9e7e-62dafb50b9bb"),
    "boto2": (
        "POST", ENDPOINT + "/", "",
        {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
         "Host": "127.0.0.1:37531", "X-Amz-Date": "20261204T194649Z",
         "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261204/0/127/aws4_request,"
                          "SignedHeaders=host;x-amz-date,Signature="
                          "cc2901ee62051a7e9435800b12a4c9a7dc54d9f68ab3cb80df03aa28424e9dc8"},
        b"Action=DescribeInstances&Filter.1.Name=instance-state-name&Filter.1.Value.1=running"
        b"&InstanceId.1=i-00000001&Version=2014-10-01"),
    "libcloud": (
        "GET", ENDPOINT, "Action=DescribeInstances&Version=2016-11-15",
        {"Accept-Encoding": "gzip,deflate", "Host": "127.0.0.1:37531",
         "User-Agent": "libcloud/3.9.1 (Amazon EC2) ", "X-Amz-Content-Sha256": EMPTY_SHA256,
         "X-AMZ-Date": "20261204T194843Z",
         "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261204/us-east-1/ec2/"
                          "aws4_request, SignedHeaders=accept-encoding;host;user-agent;"
                          "x-amz-content-sha256;x-amz-date, Signature="
                          "05f0fce9554e08779cceff8283c067cb57744765998f339e9747c8291bd374f8"},
        b""),
}


def captured_request(name, body=None, query_string=None, **header_changes):
    method, path, sent_query, sent_headers, sent_body = CAPTURED[name]
    headers = dict(sent_headers)
    for header, value in header_changes.items():
        header = header.replace("_", "-")
        if value is None:
            headers.pop(header, None)
        else:
            headers[header] = value
    return make_request(method, path, headers,
                        query_string=sent_query if query_string is None else query_string,
                        body=sent_body if body is None else body)


def botocore_request(aws_request):
    """Convert a botocore request, after signing, into what the server receives."""
    prepared = aws_request.prepare()
    url = urlsplit(prepared.url)
    headers = dict(prepared.headers.items())
    headers.setdefault("Host", url.netloc)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return make_request(prepared.method, url.path, headers, query_string=url.query, body=body)


def sign_with_botocore(method="POST", url="http://127.0.0.1:8090" + ENDPOINT, data=None,
                       headers=None, region="zone1", secret=SECRET_KEY):
    if data is None and method == "POST":
        data = {"Action": "DescribeInstances", "Version": "2016-11-15"}
    aws_request = AWSRequest(method=method, url=url, data=data, headers=headers or {})
    if method == "POST":
        aws_request.headers["Content-Type"] = FORM_UTF8
    SigV4Auth(Credentials(ACCESS_KEY, secret), "ec2", region).add_auth(aws_request)
    return botocore_request(aws_request)


@pytest.mark.parametrize("name", sorted(CAPTURED))
def test_captured_request_accepted(name):
    result = authenticate(captured_request(name), lookup_secret, now=CAPTURE_TIME)
    assert result == AuthResult(access_key=ACCESS_KEY, signature_version=4)


def test_tampered_body_rejected():
    _, _, _, _, body = CAPTURED["boto3"]
    request = captured_request("boto3", body=body.replace(b"i-00000001", b"i-00000002"))
    with pytest.raises(SignatureDoesNotMatch) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert raised.value.status == 403


def test_tampered_query_rejected():
    request = captured_request("libcloud", query_string="Action=TerminateInstances&Version=2016-11-15")
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(request, lookup_secret, now=CAPTURE_TIME)


def test_tampered_signed_header_rejected():
    request = captured_request("libcloud", User_Agent="libcloud/3.9.2 (Amazon EC2)")
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(request, lookup_secret, now=CAPTURE_TIME)


def test_unsigned_header_change_accepted():
    request = captured_request("boto2", User_Agent="changed by a proxy")
    assert authenticate(request, lookup_secret, now=CAPTURE_TIME).signature_version == 4


def test_header_value_whitespace_collapsed():
    request = captured_request("libcloud", User_Agent="  libcloud/3.9.1   (Amazon   EC2)  ")
    assert authenticate(request, lookup_secret, now=CAPTURE_TIME).access_key == ACCESS_KEY


def test_content_sha256_mismatch_rejected():
    request = captured_request("libcloud", X_Amz_Content_Sha256=hashlib.sha256(b"x").hexdigest())
    with pytest.raises(SignatureDoesNotMatch) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert "x-amz-content-sha256" in raised.value.message


def test_tampered_body_with_content_sha256_rejected():
    request = captured_request("libcloud", body=b"Action=TerminateInstances")
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(request, lookup_secret, now=CAPTURE_TIME)


def test_old_amz_date_expired():
    later = CAPTURE_TIME + timedelta(minutes=20)
    with pytest.raises(RequestExpired) as raised:
        authenticate(captured_request("boto3"), lookup_secret, now=later)
    assert raised.value.status == 400
    assert "20261204T194730Z" in raised.value.message


def test_future_amz_date_expired():
    earlier = CAPTURE_TIME - timedelta(minutes=20)
    with pytest.raises(RequestExpired):
        authenticate(captured_request("boto3"), lookup_secret, now=earlier)


def test_wrong_secret_rejected():
    request = sign_with_botocore(secret="NOT-THE-SECRET")
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(request, lookup_secret)


def test_unknown_access_key_rejected():
    request = captured_request("boto3")
    with pytest.raises(AuthFailure) as raised:
        authenticate(request, lambda access_key: None, now=CAPTURE_TIME)
    assert raised.value.status == 401
    assert ACCESS_KEY in raised.value.message


@pytest.mark.parametrize("field", ["Credential", "SignedHeaders", "Signature"])
def test_authorization_field_missing(field):
    _, _, _, headers, _ = CAPTURED["boto3"]
    fields = headers["Authorization"].split(" ", 1)[1].split(", ")
    remaining = [item for item in fields if not item.startswith(field + "=")]
    request = captured_request("boto3", Authorization="AWS4-HMAC-SHA256 " + ", ".join(remaining))
    with pytest.raises(AuthFailure) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert field in raised.value.message


def test_missing_date_headers_rejected():
    request = captured_request("boto2", X_Amz_Date=None)
    with pytest.raises(AuthFailure) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert "X-Amz-Date" in raised.value.message


def test_malformed_amz_date_rejected():
    request = captured_request("boto2", X_Amz_Date="2026-12-04T19:46:49Z")
    with pytest.raises(AuthFailure) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert "X-Amz-Date" in raised.value.message


def test_signed_header_absent_rejected():
    request = captured_request("libcloud", Accept_Encoding=None)
    with pytest.raises(AuthFailure) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert "accept-encoding" in raised.value.message


def test_signed_headers_without_host_rejected():
    _, _, _, headers, _ = CAPTURED["boto2"]
    authorization = headers["Authorization"].replace("SignedHeaders=host;", "SignedHeaders=")
    request = captured_request("boto2", Authorization=authorization)
    with pytest.raises(AuthFailure) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert "host" in raised.value.message


def test_unsigned_amz_date_rejected():
    _, _, _, headers, _ = CAPTURED["boto2"]
    authorization = headers["Authorization"].replace("host;x-amz-date", "host")
    request = captured_request("boto2", Authorization=authorization)
    with pytest.raises(AuthFailure) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert "x-amz-date" in raised.value.message


def test_scope_date_mismatch_rejected():
    _, _, _, headers, _ = CAPTURED["boto2"]
    authorization = headers["Authorization"].replace("/20261204/", "/20261203/")
    request = captured_request("boto2", Authorization=authorization)
    with pytest.raises(AuthFailure) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert "20261203" in raised.value.message


def test_malformed_credential_rejected():
    _, _, _, headers, _ = CAPTURED["boto2"]
    authorization = headers["Authorization"].replace("/aws4_request", "/aws4")
    request = captured_request("boto2", Authorization=authorization)
    with pytest.raises(AuthFailure) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert "Credential" in raised.value.message


def test_botocore_form_post_accepted():
    request = sign_with_botocore(data={"Action": "CreateSecurityGroup", "Version": "2016-11-15",
                                       "GroupDescription": "web servers *prod*"})
    assert request.params["GroupDescription"] == "web servers *prod*"
    assert authenticate(request, lookup_secret) == AuthResult(ACCESS_KEY, 4)


def test_botocore_get_with_query_accepted():
    request = sign_with_botocore(
        method="GET", region="us-east-1",
        url="http://127.0.0.1:8090/bridge?Action=DescribeImages&Owner.1=self&Filter.1.Value.1=a%20b")
    assert request.query_string
    assert authenticate(request, lookup_secret).access_key == ACCESS_KEY


def test_botocore_date_header_accepted():
    request = sign_with_botocore(headers={"Date": "Thu, 01 Jan 1970 00:00:00 GMT"})
    assert "x-amz-date" not in request.headers
    assert "date" in request.headers
    assert authenticate(request, lookup_secret).access_key == ACCESS_KEY


def test_botocore_presigned_url_accepted():
    aws_request = AWSRequest(
        method="GET", url="http://127.0.0.1:8090" + ENDPOINT + "?Action=DescribeInstances"
                          "&Version=2016-11-15")
    SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), "ec2", "zone1", expires=300).add_auth(
        aws_request)
    request = botocore_request(aws_request)
    assert "authorization" not in request.headers
    assert "X-Amz-Signature" in request.params
    assert authenticate(request, lookup_secret) == AuthResult(ACCESS_KEY, 4)


def presigned_request(expires=300):
    aws_request = AWSRequest(method="GET", url="http://127.0.0.1:8090" + ENDPOINT
                             + "?Action=DescribeInstances&Version=2016-11-15")
    signer = SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), "ec2", "zone1", expires=expires)
    signer.add_auth(aws_request)
    return botocore_request(aws_request), datetime.now(timezone.utc)


def test_presigned_url_expired():
    request, signed_at = presigned_request(expires=60)
    with pytest.raises(RequestExpired):
        authenticate(request, lookup_secret, now=signed_at + timedelta(minutes=2))


def test_presigned_url_valid_until_expires():
    request, signed_at = presigned_request(expires=3600)
    result = authenticate(request, lookup_secret, now=signed_at + timedelta(minutes=50))
    assert result.access_key == ACCESS_KEY


def test_presigned_url_tampered_rejected():
    request, _ = presigned_request()
    tampered = make_request("GET", request.path, request.headers,
                            query_string=request.query_string.replace("DescribeInstances",
                                                                      "RunInstances"))
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(tampered, lookup_secret)


@pytest.mark.parametrize("name", ["X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature",
                                  "X-Amz-Date"])
def test_presigned_parameter_missing(name):
    request, _ = presigned_request()
    remaining = [item for item in request.query_string.split("&")
            if not item.startswith(name + "=")]
    incomplete = make_request("GET", request.path, request.headers, query_string="&".join(remaining))
    with pytest.raises(MissingParameter) as raised:
        authenticate(incomplete, lookup_secret)
    assert name in raised.value.message


def test_boto2_v4_handler_accepted():
    provider = boto.provider.Provider("aws", ACCESS_KEY, SECRET_KEY)
    handler = boto.auth.HmacAuthV4Handler("127.0.0.1", None, provider)
    boto_request = boto.connection.HTTPRequest(
        "POST", "http", "127.0.0.1", 8090, ENDPOINT + "/", ENDPOINT + "/",
        {"Action": "DescribeInstances", "Version": "2014-10-01", "InstanceId.1": "i-00000001"},
        {}, "")
    handler.add_auth(boto_request)
    headers = dict(boto_request.headers, Host=handler.host_header("127.0.0.1", boto_request))
    assert "/0/127/aws4_request" in headers["Authorization"]
    request = make_request("POST", boto_request.path, headers,
                           body=boto_request.body.encode("utf-8"))
    assert authenticate(request, lookup_secret) == AuthResult(ACCESS_KEY, 4)


def test_canonical_query_string_sorted_and_reencoded():
    text = sigv4.canonical_query_string("b=2&a=x+y&a=%2a&X-Amz-Signature=abc&c",
                                        skipped={"X-Amz-Signature"})
    assert text == "a=%2A&a=x%20y&b=2&c="


def test_presigned_date_at_datetime_limit_expired():
    query = ("Action=DescribeInstances&Version=2016-11-15&X-Amz-Algorithm=AWS4-HMAC-SHA256"
             "&X-Amz-Credential=AKIDEXAMPLE%2F99991231%2Fzone1%2Fec2%2Faws4_request"
             "&X-Amz-Date=99991231T235959Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host"
             "&X-Amz-Signature=00")
    request = make_request("GET", ENDPOINT, {"Host": "127.0.0.1:8090"}, query_string=query)
    with pytest.raises(RequestExpired) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert "not yet valid" in raised.value.message


def test_date_header_at_datetime_limit_rejected():
    request = captured_request("boto3", X_Amz_Date=None, Date="Fri, 31 Dec 9999 23:59:59 -0100")
    with pytest.raises(AuthFailure) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert "Date header" in raised.value.message
