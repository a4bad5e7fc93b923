"""Key pairs through boto3 and boto 2, checked against CloudStack's SSH key pairs."""

import base64
import hashlib
import logging

import boto.exception
import botocore.exceptions
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.harness import calls, error_code, signed_query


def md5_fingerprint(openssh_line):
    """CloudStack's fingerprint: MD5 of the key blob as colon-separated hex pairs."""
    digest = hashlib.md5(base64.b64decode(openssh_line.split()[1])).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def new_public_key(comment="test@example"):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()
    return "%s %s" % (line, comment)


def rfc4716(openssh_line):
    """The same key in the RFC 4716 ("SSH2") file format, with a wrapped header."""
    blob = openssh_line.split()[1]
    body = [blob[i:i + 70] for i in range(0, len(blob), 70)]
    return "\n".join(["---- BEGIN SSH2 PUBLIC KEY ----",
                      'Comment: "a comment that goes on \\',
                      'to a second line"'] + body + ["---- END SSH2 PUBLIC KEY ----", ""])


def cloudstack_keys(cloud, user="alice"):
    return {k["name"]: k for k in cloud.cloudstack(user).list("listSSHKeyPairs", "sshkeypair")}


def client_error(call):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    return raised.value.response


def test_boto3_create_describe_delete(cloud, caplog):
    ec2 = cloud.boto3("alice")
    with caplog.at_level(logging.DEBUG):
        created = ec2.create_key_pair(KeyName="k3-create")
    assert created["KeyName"] == "k3-create"
    assert created["KeyMaterial"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    # The private key belongs to the public key CloudStack stored.
    private = serialization.load_pem_private_key(created["KeyMaterial"].encode(), None)
    public_line = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    assert created["KeyFingerprint"] == md5_fingerprint(public_line)
    assert cloudstack_keys(cloud)["k3-create"]["fingerprint"] == created["KeyFingerprint"]
    # The client logs the response body; the server logs none of it.
    server_log = "\n".join(r.getMessage() for r in caplog.records
                           if r.name.startswith("cloudbridge.")
                           and not r.name.startswith("cloudbridge.simulator"))
    assert "k3-create" in server_log
    assert "PRIVATE KEY" not in server_log

    described = ec2.describe_key_pairs(KeyNames=["k3-create"])["KeyPairs"]
    assert described == [{"KeyName": "k3-create", "KeyFingerprint": created["KeyFingerprint"]}]
    assert "k3-create" in [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]]

    ec2.delete_key_pair(KeyName="k3-create")
    assert "k3-create" not in cloudstack_keys(cloud)
    assert calls(cloud, "deleteSSHKeyPair")[-1]["params"]["name"] == "k3-create"


def test_boto2_create_describe_delete(cloud):
    conn = cloud.boto2("bob")
    created = conn.create_key_pair("k2-create")
    assert created.name == "k2-create"
    assert created.material.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert cloudstack_keys(cloud, "bob")["k2-create"]["fingerprint"] == created.fingerprint

    found = conn.get_all_key_pairs(keynames=["k2-create"])
    assert [(k.name, k.fingerprint) for k in found] == [("k2-create", created.fingerprint)]
    assert conn.get_key_pair("k2-create").fingerprint == created.fingerprint

    assert conn.delete_key_pair("k2-create") is True
    assert "k2-create" not in cloudstack_keys(cloud, "bob")
    assert conn.get_key_pair("k2-create") is None


def test_boto3_import(cloud):
    ec2 = cloud.boto3("alice")
    line = new_public_key()
    imported = ec2.import_key_pair(KeyName="k3-import", PublicKeyMaterial=line.encode())
    assert imported["KeyName"] == "k3-import"
    assert imported["KeyFingerprint"] == md5_fingerprint(line)
    assert "KeyMaterial" not in imported
    assert calls(cloud, "registerSSHKeyPair")[-1]["params"]["publickey"] == line
    assert cloudstack_keys(cloud)["k3-import"]["fingerprint"] == md5_fingerprint(line)
    ec2.delete_key_pair(KeyName="k3-import")
    assert "k3-import" not in cloudstack_keys(cloud)


def test_boto2_import(cloud):
    conn = cloud.boto2("alice")
    line = new_public_key()
    imported = conn.import_key_pair("k2-import", line.encode())
    assert imported.name == "k2-import"
    assert imported.fingerprint == md5_fingerprint(line)
    assert cloudstack_keys(cloud)["k2-import"]["fingerprint"] == md5_fingerprint(line)
    assert conn.delete_key_pair("k2-import") is True


def test_import_plain_key_text(cloud):
    line = new_public_key()
    response = signed_query(cloud, "alice", {"Action": "ImportKeyPair", "KeyName": "k-plain",
                                             "PublicKeyMaterial": line})
    assert response.status_code == 200, response.text
    assert cloudstack_keys(cloud)["k-plain"]["fingerprint"] == md5_fingerprint(line)
    cloud.boto3("alice").delete_key_pair(KeyName="k-plain")


def test_import_rfc4716_key(cloud):
    line = new_public_key()
    imported = cloud.boto3("alice").import_key_pair(
        KeyName="k-rfc4716", PublicKeyMaterial=rfc4716(line).encode())
    assert imported["KeyFingerprint"] == md5_fingerprint(line)
    assert calls(cloud, "registerSSHKeyPair")[-1]["params"]["publickey"] == \
        " ".join(line.split()[:2])
    cloud.boto3("alice").delete_key_pair(KeyName="k-rfc4716")


@pytest.mark.parametrize("material", [
    b"not a key at all",
    b"ssh-rsa !!!notbase64!!! comment",
    # A valid ssh-dss key blob under the ssh-rsa name.
    b"ssh-rsa AAAAB3NzaC1kc3MAAAABIw== comment",
    b"",
])
def test_import_malformed_key(cloud, material):
    before = len(calls(cloud, "registerSSHKeyPair"))
    response = client_error(lambda: cloud.boto3("alice").import_key_pair(
        KeyName="k-bad", PublicKeyMaterial=material))
    expected = "MissingParameter" if not material else "InvalidKeyPair.Format"
    assert response["Error"]["Code"] == expected
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(calls(cloud, "registerSSHKeyPair")) == before
    assert "k-bad" not in cloudstack_keys(cloud)


def test_duplicate_names(cloud):
    ec2 = cloud.boto3("alice")
    first = ec2.create_key_pair(KeyName="k-dup")
    duplicate = client_error(lambda: ec2.create_key_pair(KeyName="k-dup"))
    assert duplicate["Error"]["Code"] == "InvalidKeyPair.Duplicate"
    assert duplicate["ResponseMetadata"]["HTTPStatusCode"] == 400
    imported = client_error(lambda: ec2.import_key_pair(
        KeyName="k-dup", PublicKeyMaterial=new_public_key().encode()))
    assert imported["Error"]["Code"] == "InvalidKeyPair.Duplicate"
    assert cloudstack_keys(cloud)["k-dup"]["fingerprint"] == first["KeyFingerprint"]

    with pytest.raises(boto.exception.EC2ResponseError) as raised:
        cloud.boto2("alice").create_key_pair("k-dup")
    assert raised.value.error_code == "InvalidKeyPair.Duplicate"

    # Another account may use the same name.
    assert cloud.boto3("bob").create_key_pair(KeyName="k-dup")["KeyName"] == "k-dup"
    cloud.boto3("bob").delete_key_pair(KeyName="k-dup")
    ec2.delete_key_pair(KeyName="k-dup")


def test_delete_missing_key_is_true(cloud):
    # EC2 returns true for DeleteKeyPair of a key pair that does not exist.
    response = signed_query(cloud, "alice", {"Action": "DeleteKeyPair",
                                             "KeyName": "no-such-key"})
    assert response.status_code == 200
    assert b"<return>true</return>" in response.content
    assert cloud.boto2("alice").delete_key_pair("no-such-key") is True


def test_describe_unknown_name(cloud):
    ec2 = cloud.boto3("alice")
    ec2.create_key_pair(KeyName="k-known")
    response = client_error(lambda: ec2.describe_key_pairs(KeyNames=["k-known", "k-unknown"]))
    assert response["Error"]["Code"] == "InvalidKeyPair.NotFound"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "k-unknown" in response["Error"]["Message"]
    # Another account's key pair is not found either.
    other = client_error(lambda: cloud.boto3("bob").describe_key_pairs(KeyNames=["k-known"]))
    assert other["Error"]["Code"] == "InvalidKeyPair.NotFound"
    with pytest.raises(boto.exception.EC2ResponseError) as raised:
        cloud.boto2("alice").get_all_key_pairs(keynames=["k-unknown"])
    assert raised.value.error_code == "InvalidKeyPair.NotFound"
    ec2.delete_key_pair(KeyName="k-known")


@pytest.mark.parametrize("client", ["boto3", "boto2"])
def test_key_pair_filters(cloud, client):
    ec2 = cloud.boto3("alice")
    one = ec2.create_key_pair(KeyName="filter-one-%s" % client)
    two = ec2.import_key_pair(KeyName="filter-two-%s" % client,
                              PublicKeyMaterial=new_public_key().encode())
    cases = [
        ("key-name", one["KeyName"], [one["KeyName"]]),
        ("key-name", "filter-*-%s" % client, [one["KeyName"], two["KeyName"]]),
        ("fingerprint", two["KeyFingerprint"], [two["KeyName"]]),
        ("fingerprint", "00:00:*", []),
    ]
    for name, value, expected in cases:
        if client == "boto3":
            found = [k["KeyName"] for k in ec2.describe_key_pairs(
                Filters=[{"Name": name, "Values": [value]}])["KeyPairs"]]
        else:
            found = [k.name for k in cloud.boto2("alice").get_all_key_pairs(
                filters={name: value})]
        assert sorted(found) == sorted(expected), (name, value)
    ec2.delete_key_pair(KeyName=one["KeyName"])
    ec2.delete_key_pair(KeyName=two["KeyName"])


def test_unknown_key_pair_filter(cloud):
    before = len(calls(cloud, "listSSHKeyPairs"))
    response = signed_query(cloud, "alice", {"Action": "DescribeKeyPairs",
                                             "Filter.1.Name": "owner-id",
                                             "Filter.1.Value.1": "x"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterValue"
    assert len(calls(cloud, "listSSHKeyPairs")) == before


def test_invalid_key_name(cloud):
    response = client_error(lambda: cloud.boto3("alice").create_key_pair(KeyName="x" * 256))
    assert response["Error"]["Code"] == "InvalidParameterValue"
    assert not any(len(name) > 255 for name in cloudstack_keys(cloud))
