"""Choice of signature version, unknown keys and error hygiene in protocol.auth."""

import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode, urlsplit

import boto.auth
import boto.connection
import boto.provider
import pytest
from botocore.auth import SigV2Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cloudbridge.errors import AuthFailure, EC2Error, SignatureDoesNotMatch
from cloudbridge.protocol import sigv2
from cloudbridge.protocol.auth import AuthResult, authenticate
from cloudbridge.protocol.request import HttpRequest, parse_query_params

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "SECRETEXAMPLE"
CAPTURE_TIME = datetime(2026, 12, 4, 19, 50, 0, tzinfo=timezone.utc)
ENDPOINT = "/bridge/rest/AmazonEC2"
HOST = "127.0.0.1:8090"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def lookup_secret(access_key):
    return SECRET_KEY if access_key == ACCESS_KEY else None


def make_request(method, path, headers, query_string="", body=b""):
    """Build an HttpRequest as the web layer does: header names in lower case."""
    request = HttpRequest(method=method, path=path, query_string=query_string,
                          headers={name.lower(): value for name, value in headers.items()},
                          body=body)
    request.params = parse_query_params(query_string, body, form=request.is_form_post())
    return request


def form_post(params, headers=None):
    all_headers = {"Host": HOST, "Content-Type": FORM}
    all_headers.update(headers or {})
    return make_request("POST", ENDPOINT, all_headers, body=urlencode(params).encode("utf-8"))


def sigv2_params(**extra):
    params = {"Action": "DescribeInstances", "Version": "2010-11-15",
              "AWSAccessKeyId": ACCESS_KEY, "SignatureVersion": "2",
              "SignatureMethod": "HmacSHA256", "Timestamp": "2026-12-04T19:49:00Z"}
    params.update(extra)
    params["Signature"] = sigv2.sign("POST", HOST, ENDPOINT, params, SECRET_KEY)
    return params


def test_sigv2_result():
    result = authenticate(form_post(sigv2_params()), lookup_secret, now=CAPTURE_TIME)
    assert result == AuthResult(access_key=ACCESS_KEY, signature_version=2)


def test_unsigned_request_rejected():
    request = form_post({"Action": "DescribeInstances", "Version": "2010-11-15"})
    with pytest.raises(AuthFailure) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert raised.value.status == 401
    assert "signed with signature version 2 or 4" in raised.value.message


@pytest.mark.parametrize("version", ["0", "1", "3", "two"])
def test_other_signature_versions_rejected(version):
    request = form_post(sigv2_params(SignatureVersion=version))
    with pytest.raises(AuthFailure) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert raised.value.status == 401
    assert "SignatureVersion '%s'" % version in raised.value.message
    assert "signature version 2 or 4" in raised.value.message


def test_other_authorization_scheme_rejected():
    request = form_post({"Action": "DescribeInstances"},
                        headers={"Authorization": "AWS AKIDEXAMPLE:c2lnbmF0dXJl"})
    with pytest.raises(AuthFailure) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert "AWS" in raised.value.message
    assert "c2lnbmF0dXJl" not in raised.value.message


def test_unknown_access_key_sigv2():
    params = sigv2_params(AWSAccessKeyId="AKIDUNKNOWN")
    with pytest.raises(AuthFailure) as raised:
        authenticate(form_post(params), lookup_secret, now=CAPTURE_TIME)
    error = raised.value
    assert error.status == 401
    assert error.code == "AuthFailure"
    assert "AKIDUNKNOWN" in error.message
    assert "SetUserKeys" in error.message
    assert "cloud-bridge-register" in error.message


def test_lookup_receives_access_key():
    requested_keys = []

    def recording_lookup(access_key):
        requested_keys.append(access_key)
        return SECRET_KEY

    authenticate(form_post(sigv2_params()), recording_lookup, now=CAPTURE_TIME)
    assert requested_keys == [ACCESS_KEY]


def test_naive_now_rejected():
    with pytest.raises(ValueError):
        authenticate(form_post(sigv2_params()), lookup_secret, now=datetime(2026, 12, 4, 19, 50))


def test_now_in_other_zone_accepted():
    tokyo_time = CAPTURE_TIME.astimezone(timezone(timedelta(hours=9)))
    result = authenticate(form_post(sigv2_params()), lookup_secret, now=tokyo_time)
    assert result.signature_version == 2


def test_mismatch_error_hides_secrets(caplog):
    params = sigv2_params(Action="SetUserKeys", accesskey=ACCESS_KEY, secretkey="NEWSECRET")
    params["Version"] = "2016-11-15"  # changed after signing
    request = form_post(params)
    expected = sigv2.sign("POST", HOST, ENDPOINT, params, SECRET_KEY)
    text_to_sign = sigv2.string_to_sign("POST", HOST, ENDPOINT, params)

    caplog.set_level(logging.DEBUG)
    with pytest.raises(SignatureDoesNotMatch) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)

    visible_text = str(raised.value) + "\n" + caplog.text
    assert SECRET_KEY not in visible_text
    assert "NEWSECRET" not in visible_text
    assert expected not in visible_text
    assert params["Signature"] not in visible_text
    assert text_to_sign not in visible_text
    assert ACCESS_KEY in raised.value.message


def test_sigv4_mismatch_error_hides_secrets(caplog):
    aws_request = AWSRequest(method="POST", url="http://" + HOST + ENDPOINT,
                             data={"Action": "DescribeInstances", "Version": "2016-11-15"},
                             headers={"Content-Type": FORM})
    SigV4Auth(Credentials(ACCESS_KEY, "OTHERSECRET"), "ec2", "zone1").add_auth(aws_request)
    prepared = aws_request.prepare()
    request = make_request("POST", ENDPOINT, dict(prepared.headers.items(), Host=HOST),
                           body=prepared.body.encode("utf-8"))

    caplog.set_level(logging.DEBUG)
    with pytest.raises(SignatureDoesNotMatch) as raised:
        authenticate(request, lookup_secret)

    visible_text = str(raised.value) + "\n" + caplog.text
    assert SECRET_KEY not in visible_text
    assert prepared.headers["Authorization"].rsplit("=", 1)[1] not in visible_text


def test_errors_are_ec2_errors():
    request = form_post({"Action": "DescribeInstances"})
    with pytest.raises(EC2Error) as raised:
        authenticate(request, lookup_secret, now=CAPTURE_TIME)
    assert raised.value.is_client_error


def test_boto2_sigv2_handler_accepted():
    provider = boto.provider.Provider("aws", ACCESS_KEY, SECRET_KEY)
    handler = boto.auth.QuerySignatureV2AuthHandler("127.0.0.1", None, provider)
    boto_request = boto.connection.HTTPRequest(
        "POST", "http", "127.0.0.1", 8090, ENDPOINT + "/", ENDPOINT + "/",
        {"Action": "CreateSecurityGroup", "Version": "2010-11-15", "GroupName": "web",
         "GroupDescription": "web servers *prod*"}, {}, "")
    handler.add_auth(boto_request)
    # boto 2 sends and signs the Host header without the port.
    headers = dict(boto_request.headers, Host="127.0.0.1")
    request = make_request("POST", ENDPOINT + "/", headers,
                           body=boto_request.body.encode("utf-8"))
    assert authenticate(request, lookup_secret) == AuthResult(ACCESS_KEY, 2)


def test_botocore_sigv2_get_accepted():
    aws_request = AWSRequest(method="GET", url="http://" + HOST + "/bridge",
                             params={"Action": "DescribeImages", "Owner.1": "self",
                                     "Filter.1.Value.1": "a b*c"})
    SigV2Auth(Credentials(ACCESS_KEY, SECRET_KEY)).add_auth(aws_request)
    prepared = aws_request.prepare()
    url = urlsplit(prepared.url)
    request = make_request("GET", url.path, {"Host": url.netloc}, query_string=url.query)
    assert request.params["Filter.1.Value.1"] == "a b*c"
    assert authenticate(request, lookup_secret) == AuthResult(ACCESS_KEY, 2)


def test_botocore_sigv2_post_accepted():
    aws_request = AWSRequest(method="POST", url="http://" + HOST + ENDPOINT,
                             data={"Action": "ImportKeyPair", "KeyName": "k 1",
                                   "PublicKeyMaterial": "c3NoLXJzYSBBQUFB+/="},
                             headers={"Content-Type": FORM})
    SigV2Auth(Credentials(ACCESS_KEY, SECRET_KEY)).add_auth(aws_request)
    prepared = aws_request.prepare()
    body = prepared.body if isinstance(prepared.body, bytes) else prepared.body.encode("utf-8")
    request = make_request("POST", ENDPOINT, dict(prepared.headers.items(), Host=HOST), body=body)
    assert request.params["PublicKeyMaterial"] == "c3NoLXJzYSBBQUFB+/="
    assert authenticate(request, lookup_secret) == AuthResult(ACCESS_KEY, 2)
