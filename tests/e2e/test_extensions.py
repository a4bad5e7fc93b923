"""CloudBridge's own actions: certificates, the offering map, raw CloudStack ids."""

import datetime
import os
import subprocess
import sys

import botocore.exceptions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from cloudbridge.certificates import load_certificate, sign_proof
from tests.harness import USERS, error_code, signed_query


def self_signed(name):
    """Return (private key, PEM certificate)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    return key, certificate.public_bytes(serialization.Encoding.PEM).decode()


def set_certificate(cloud, user, key, pem, prove_as=None):
    proof = sign_proof(key, USERS[prove_as or user].access_key, load_certificate(pem))
    return signed_query(cloud, user, {"Action": "SetCertificate", "cert": pem, "proof": proof})


def test_certificate_set_and_delete(cloud):
    key, pem = self_signed("bob")
    stored = set_certificate(cloud, "bob", key, pem)
    assert stored.status_code == 200
    assert b"<return>true</return>" in stored.content
    credentials = cloud.stores[0].get_credentials("AKIDBOB000000000000001")
    assert x509.load_pem_x509_certificate(credentials.cert_pem.encode()) == \
        x509.load_pem_x509_certificate(pem.encode())

    garbage = signed_query(cloud, "bob", {"Action": "SetCertificate", "cert": "not a cert",
                                          "proof": "AAAA"})
    assert garbage.status_code == 400
    assert error_code(garbage) == "InvalidParameterValue"

    deleted = signed_query(cloud, "bob", {"Action": "DeleteCertificate"})
    assert deleted.status_code == 200
    assert cloud.stores[0].get_credentials("AKIDBOB000000000000001").cert_pem is None
    again = signed_query(cloud, "bob", {"Action": "DeleteCertificate"})
    assert again.status_code == 400


def test_certificate_needs_proof_of_possession(cloud):
    key, pem = self_signed("alice-soap")
    # Without a proof, or with alice's proof replayed by bob, bob cannot take
    # alice's certificate (a public document) for his own keys.
    unproven = signed_query(cloud, "bob", {"Action": "SetCertificate", "cert": pem})
    assert unproven.status_code == 400
    assert error_code(unproven) == "MissingParameter"
    replayed = set_certificate(cloud, "bob", key, pem, prove_as="alice")
    assert replayed.status_code == 400
    assert error_code(replayed) == "InvalidParameterValue"
    other_key, _ = self_signed("someone")
    forged = set_certificate(cloud, "bob", other_key, pem)
    assert forged.status_code == 400
    assert cloud.stores[0].get_credentials("AKIDBOB000000000000001").cert_pem is None

    assert set_certificate(cloud, "alice", key, pem).status_code == 200
    taken = set_certificate(cloud, "bob", key, pem)
    assert taken.status_code == 400
    assert error_code(taken) == "InvalidParameterValue"
    signed_query(cloud, "alice", {"Action": "DeleteCertificate"})


def test_offer_mapping_lifecycle(cloud):
    offerings = cloud.offerings()
    mapped = signed_query(cloud, "admin", {"Action": "SetOfferMapping", "amazonoffer": "c1.medium",
                                           "cloudoffer": offerings["Large Instance"]})
    assert mapped.status_code == 200
    assert cloud.stores[0].offering_map()["c1.medium"] == offerings["Large Instance"]

    ec2 = cloud.boto3("alice")
    image_id = next(i["ImageId"] for i in ec2.describe_images()["Images"]
                    if "CentOS" in i["Name"])
    run = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="c1.medium")
    assert run["Instances"][0]["InstanceType"] == "c1.medium"
    deploy = [c for c in cloud.simulator.calls if c["command"] == "deployVirtualMachine"][-1]
    assert deploy["params"]["serviceofferingid"] == offerings["Large Instance"]

    deleted = signed_query(cloud, "admin", {"Action": "DeleteOfferMapping",
                                            "amazonoffer": "c1.medium"})
    assert deleted.status_code == 200
    assert "c1.medium" not in cloud.stores[0].offering_map()
    # The running instance now shows its offering's CloudStack name, never a guess.
    described = ec2.describe_instances(InstanceIds=[run["Instances"][0]["InstanceId"]])
    assert described["Reservations"][0]["Instances"][0]["InstanceType"] == "Large Instance"
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="c1.medium")
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    ec2.terminate_instances(InstanceIds=[run["Instances"][0]["InstanceId"]])

    unknown = signed_query(cloud, "admin", {"Action": "DeleteOfferMapping",
                                            "amazonoffer": "c1.medium"})
    assert unknown.status_code == 400


def test_raw_cloudstack_ids_accepted(cloud):
    ec2 = cloud.boto3("alice")
    image_id = next(i["ImageId"] for i in ec2.describe_images()["Images"]
                    if "CentOS" in i["Name"])
    template_id = cloud.stores[0].cloudstack_ids("ami", [image_id])[image_id]
    run = ec2.run_instances(ImageId=template_id, MinCount=1, MaxCount=1,
                            InstanceType="m1.small")
    instance_id = run["Instances"][0]["InstanceId"]
    assert run["Instances"][0]["ImageId"] == image_id
    vm_id = cloud.stores[0].cloudstack_ids("i", [instance_id])[instance_id]
    by_raw_id = ec2.describe_instances(InstanceIds=[vm_id])["Reservations"]
    assert by_raw_id[0]["Instances"][0]["InstanceId"] == instance_id
    ec2.terminate_instances(InstanceIds=[vm_id])


def test_register_command_maps_offerings(cloud):
    command = os.path.join(os.path.dirname(sys.executable), "cloud-bridge-register")
    url = cloud.bridge.url + "/bridge"
    offering = cloud.offerings()["Extra Large Instance"]
    admin = USERS["admin"]
    mapped = subprocess.run([command, "-a", admin.access_key, "-s", admin.secret_key,
                             "-u", url, "--map", "m2.2xlarge=%s" % offering],
                            capture_output=True, text=True, timeout=60)
    assert mapped.returncode == 0, mapped.stderr
    assert "m2.2xlarge" in mapped.stdout
    assert cloud.stores[0].offering_map()["m2.2xlarge"] == offering

    alice = USERS["alice"]
    refused = subprocess.run([command, "-a", alice.access_key, "-s", alice.secret_key,
                              "-u", url, "--unmap", "m2.2xlarge"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "UnauthorizedOperation" in refused.stderr
    assert "m2.2xlarge" in cloud.stores[0].offering_map()

    removed = subprocess.run([command, "-a", admin.access_key, "-s", admin.secret_key,
                              "-u", url, "--unmap", "m2.2xlarge"],
                             capture_output=True, text=True, timeout=60)
    assert removed.returncode == 0, removed.stderr
    assert "m2.2xlarge" not in cloud.stores[0].offering_map()
