"""The golden signing vectors of the CloudStack reference (section 1.5)."""

import pytest

from cloudbridge.cloudstack.signing import java_urlencode, sign, string_to_sign

VECTORS = [
    ("foo", "bar", {"command": "listVirtualMachines", "listall": "true", "response": "json"},
     "B0d6hBsZTcFVCiioSxzwKA9Pke8="),
    ("foo", "bar", {"command": "listVirtualMachines", "zoneId": "2", "templateId": "3",
                    "temPlateidd": "4", "pageSize": "10", "page": "1", "response": "json"},
     "mMS7XALuGkCXk7kj5SywySku0Z0="),
    ("foo", "bar", {"command": "listVirtualMachines", "listall": "1",
                    "unicode_param": "éèààû", "response": "json"},
     "gABU/KFJKD3FLAgKDuxQoryu4sA="),
    ("foo", "bar", {"command": "listVirtualMachines", "foo": "foo,bar", "bar[0].baz": "blah",
                    "bar[0].foo": "1000", "bytes_param": "blah", "response": "json"},
     "ImJ/5F0P2RDL7yn4LdLnGcEx5WE="),
    ("foo", "bar", {"command": "createNetwork", "name": "", "display_text": "",
                    "response": "json"},
     "CistTEiPt/4Rv1v4qSyILvPbhmg="),
    ("foo", "bar", {"command": "listVirtualMachines", "blah": "brah", "response": "json"},
     "58VvLSaVUqHnG9DhXNOAiDFwBoA="),
    ("fnord", "abracadabra", {"command": "listVirtualMachines", "response": "json"},
     "z/a9Y7J52u48VpqIgiwaGUMCso0="),
    ("fnord", "abracadabra", {"command": "deployVirtualMachine", "name": "fred",
                              "displayname": "George", "serviceofferingid": "5",
                              "templateid": "17", "zoneid": "23", "networkids": "42",
                              "response": "json"},
     "gHTo7mYmadZ+zluKHzlEKb1i/QU="),
    ("fnord", "abracadabra", {"command": "deployVirtualMachine", "name": "fred",
                              "displayname": "George+Ringo", "serviceofferingid": "5",
                              "templateid": "17", "zoneid": "23", "networkids": "42",
                              "response": "json"},
     "tAgfrreI1ZvWlWLClD3gu4+aKv4="),
    ("foo", "bar", {"command": "listZones", "response": "json", "signatureVersion": "3",
                    "expires": "2030-01-01T00:00:00+0000"},
     "S0OtoIAS+Tu8ylB/nsQh4B370TM="),
    ("foo", "bar", {"command": "createTags", "response": "json", "resourceids": "abc",
                    "resourcetype": "UserVm", "tags[0].key": "Name",
                    "tags[0].value": "web server ~1"},
     "8ykGDcBxOb9MBxF3EwnwBmPP74g="),
]


@pytest.mark.parametrize("key,secret,params,expected", VECTORS)
def test_golden_vectors(key, secret, params, expected):
    params = dict(params, apiKey=key)
    assert sign(params, secret) == expected


def test_signature_parameter_is_ignored():
    params = {"apiKey": "foo", "command": "listVirtualMachines", "listall": "true",
              "response": "json"}
    assert sign(dict(params, Signature="whatever"), "bar") == "B0d6hBsZTcFVCiioSxzwKA9Pke8="


def test_string_to_sign_for_version_3():
    params = {"apiKey": "foo", "command": "listZones", "response": "json",
              "signatureVersion": "3", "expires": "2030-01-01T00:00:00+0000"}
    assert string_to_sign(params) == ("apikey=foo&command=listzones&expires=2030-01-01t00%3a00"
                                      "%3a00%2b0000&response=json&signatureversion=3")


def test_python_quote_signature_differs_for_tilde():
    # what a signer that leaves "~" unencoded (like cs) computes
    import base64, hashlib, hmac
    from urllib.parse import quote
    params = {"apiKey": "foo", "command": "createTags", "response": "json",
              "resourceids": "abc", "resourcetype": "UserVm", "tags[0].key": "Name",
              "tags[0].value": "web server ~1"}
    text = "&".join("%s=%s" % (k, quote(params[k], safe="*")) for k in sorted(params)).lower()
    digest = hmac.new(b"bar", text.encode(), hashlib.sha1).digest()
    assert base64.b64encode(digest).decode() == "P2Nd0MENYp4y/xEq7WRCIYWgQyY="
    assert sign(params, "bar") != "P2Nd0MENYp4y/xEq7WRCIYWgQyY="


@pytest.mark.parametrize("value,encoded", [
    ("abc", "abc"), ("a b", "a%20b"), ("~", "%7E"), ("+", "%2B"), ("*._-", "*._-"),
    ("é", "%C3%A9"), ("a/b=c&d", "a%2Fb%3Dc%26d"), ("", ""), (10, "10"), (True, "true"),
])
def test_java_urlencode(value, encoded):
    assert java_urlencode(value) == encoded
