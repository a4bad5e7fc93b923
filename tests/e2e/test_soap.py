"""The SOAP endpoint with WS-Security X.509 signatures, over HTTP, against the simulator."""

import base64
import datetime
import logging

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from cloudbridge import errors
from cloudbridge.cli import register
from cloudbridge.protocol.soap import fault_document
from tests.harness import USERS, assert_valid, calls, wait_for
from tests.soap_client import (SOAP_NS, SoapClient, SoapResponse, certificate_pem,
                               ec2_namespace, make_certificate, operation_element, serialize,
                               sign_envelope, signed_request, unsigned_envelope)

BASE = "2010-11-15"
JAVA = "2013-02-01"
UTC = datetime.timezone.utc


@pytest.fixture(scope="module")
def alice_certificate(cloud, tmp_path_factory):
    """Alice's key and certificate, registered with cloud-bridge-register --cert."""
    key, certificate = make_certificate("alice")
    folder = tmp_path_factory.mktemp("alice")
    cert_file = folder / "cert.pem"
    cert_file.write_text(certificate_pem(certificate))
    key_file = folder / "key.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    alice = USERS["alice"]
    status = register.main(["--apikey", alice.access_key, "--secretkey", alice.secret_key,
                            "--cert", str(cert_file), "--key", str(key_file),
                            "--url", cloud.bridge.url + "/bridge"])
    assert status == 0
    cloud.responses.clear()
    return key, certificate


@pytest.fixture
def soap(cloud, alice_certificate):
    return SoapClient(cloud.bridge.url, *alice_certificate)


def cloudstack_vm(cloud, vm_id):
    found = cloud.cloudstack("admin").list("listVirtualMachines", "virtualmachine",
                                           listall=True, id=vm_id)
    return found[0] if found else None


def soap_instance_state(soap, version, instance_id):
    described = soap.call("DescribeInstances", version,
                          {"instancesSet": [{"instanceId": instance_id}]})
    states = described.texts(".//instanceState/name") if not described.is_fault else []
    return states[0] if states else None


def wait_for_soap_state(soap, version, instance_id, state):
    wait_for(lambda: soap_instance_state(soap, version, instance_id) == state,
             what="%s to be %s" % (instance_id, state))


def ok(response, action, version):
    """Assert a successful response in the request's namespace; return it."""
    assert response.status == 200, response.raw.decode()
    assert response.content_type == "text/xml; charset=UTF-8"
    assert response.element.tag == "{%s}%sResponse" % (ec2_namespace(version), action)
    if version == BASE:
        assert_valid(etree.tostring(response.element))
    return response


def assert_fault(response, faultcode):
    assert response.status == 500
    assert response.content_type == "text/xml; charset=UTF-8"
    assert response.is_fault, response.raw.decode()
    assert response.faultcode == faultcode
    assert response.faultstring


def first_item(response, path):
    values = response.texts(path)
    assert values, "no %s in %s" % (path, response.raw.decode())
    return values[0]


# The instance lifecycle.

@pytest.mark.parametrize("version", [BASE, JAVA])
def test_instance_lifecycle(cloud, soap, version):
    zones = ok(soap.call("DescribeAvailabilityZones", version), "DescribeAvailabilityZones",
               version)
    assert sorted(zones.texts(".//zoneName")) == ["zone1", "zone2"]
    assert set(zones.texts(".//zoneState")) == {"available"}

    images = ok(soap.call("DescribeImages", version), "DescribeImages", version)
    names = dict(zip(images.texts("imagesSet/item/imageId"),
                     images.texts("imagesSet/item/name")))
    image_id = next(i for i, name in names.items() if "CentOS" in (name or ""))

    cloud.simulator.clear_calls()
    user_data = b"#!/bin/sh\necho soap\n"
    run = ok(soap.call("RunInstances", version, {
        "imageId": image_id, "minCount": 1, "maxCount": 1, "groupSet": [],
        "userData": {"data": base64.b64encode(user_data).decode()},
        "instanceType": "m1.small", "placement": {"availabilityZone": "zone1"},
        "monitoring": {"enabled": "false"}, "disableApiTermination": "false"}),
        "RunInstances", version)
    instance_id = first_item(run, "instancesSet/item/instanceId")
    assert run.texts("instancesSet/item/imageId") == [image_id]
    assert run.texts("instancesSet/item/instanceType") == ["m1.small"]
    assert run.texts("instancesSet/item/placement/availabilityZone") == ["zone1"]
    assert run.texts("instancesSet/item/instanceState/name") == ["running"]
    deploys = calls(cloud, "deployVirtualMachine")
    assert len(deploys) == 1
    assert deploys[0]["apikey"] == USERS["alice"].access_key
    assert base64.b64decode(deploys[0]["params"]["userdata"]) == user_data
    assert deploys[0]["params"]["serviceofferingid"] == cloud.offerings()["Small Instance"]

    described = ok(soap.call("DescribeInstances", version, {
        "instancesSet": [{"instanceId": instance_id}],
        "filterSet": [{"name": "instance-state-name", "valueSet": [{"value": "running"}]}]}),
        "DescribeInstances", version)
    assert described.texts("reservationSet/item/reservationId") == run.texts("reservationId")
    assert described.texts(".//instancesSet/item/instanceId") == [instance_id]
    vm_id = cloud.stores[0].cloudstack_ids("i", [instance_id])[instance_id]
    assert cloudstack_vm(cloud, vm_id)["state"] == "Running"

    stopped = ok(soap.call("StopInstances", version,
                           {"instancesSet": [{"instanceId": instance_id}]}),
                 "StopInstances", version)
    assert stopped.texts("instancesSet/item/previousState/name") == ["running"]
    assert stopped.texts("instancesSet/item/currentState/name")[0] in ("stopping", "stopped")
    wait_for_soap_state(soap, version, instance_id, "stopped")
    assert cloudstack_vm(cloud, vm_id)["state"] == "Stopped"

    started = ok(soap.call("StartInstances", version,
                           {"instancesSet": [{"instanceId": instance_id}]}),
                 "StartInstances", version)
    assert started.texts("instancesSet/item/previousState/name") == ["stopped"]
    assert started.texts("instancesSet/item/currentState/name")[0] in ("pending", "running")
    wait_for_soap_state(soap, version, instance_id, "running")
    assert cloudstack_vm(cloud, vm_id)["state"] == "Running"

    rebooted = ok(soap.call("RebootInstances", version,
                            {"instancesSet": [{"instanceId": instance_id}]}),
                  "RebootInstances", version)
    assert rebooted.texts("return") == ["true"]
    assert calls(cloud, "rebootVirtualMachine")[-1]["params"]["id"] == vm_id
    wait_for_soap_state(soap, version, instance_id, "running")

    terminated = ok(soap.call("TerminateInstances", version,
                              {"instancesSet": [{"instanceId": instance_id}]}),
                    "TerminateInstances", version)
    assert terminated.texts("instancesSet/item/currentState/name")[0] in ("shutting-down",
                                                                          "terminated")
    wait_for(lambda: cloudstack_vm(cloud, vm_id)["state"] in ("Destroyed", "Expunging"),
             what="VM %s to be destroyed" % vm_id)


def test_access_log_names_user_and_action(cloud, soap, caplog):
    with caplog.at_level(logging.INFO, logger="cloudbridge.access"):
        ok(soap.call("DescribeRegions", BASE), "DescribeRegions", BASE)
    lines = [r.getMessage() for r in caplog.records if r.name == "cloudbridge.access"]
    assert any(" %s DescribeRegions 200 " % USERS["alice"].access_key in line
               for line in lines), lines


def test_soap_on_bridge_path_without_soap_action(cloud, alice_certificate):
    body = signed_request("DescribeAvailabilityZones", JAVA, {}, *alice_certificate)
    response = SoapResponse(requests.post(
        cloud.bridge.url + "/bridge", data=body,
        headers={"Content-Type": "text/xml; charset=UTF-8"}, timeout=60))
    ok(response, "DescribeAvailabilityZones", JAVA)


def test_bare_soap_action_header(soap, alice_certificate):
    body = signed_request("DescribeRegions", BASE, {}, *alice_certificate)
    response = SoapResponse(soap.post(body, headers={"SOAPAction": "DescribeRegions"}))
    ok(response, "DescribeRegions", BASE)


def test_sha256_signature(soap):
    ok(soap.call("DescribeRegions", JAVA, signature_algorithm="rsa-sha256",
                 digest_algorithm="sha256"), "DescribeRegions", JAVA)


# Rejected requests: a Fault, HTTP 500, and nothing done.

def test_tampered_body_rejected(cloud, soap, alice_certificate):
    envelope = unsigned_envelope(operation_element("DescribeInstances", BASE, {}))
    sign_envelope(envelope, *alice_certificate)
    operation = envelope.find("{%s}Body" % SOAP_NS)[0]
    etree.SubElement(etree.SubElement(etree.SubElement(
        operation, "{%s}instancesSet" % ec2_namespace(BASE)),
        "{%s}item" % ec2_namespace(BASE)), "{%s}instanceId" % ec2_namespace(BASE)).text = "i-1"
    response = SoapResponse(soap.post(serialize(envelope), soap_action="DescribeInstances"))
    assert_fault(response, "soapenv:Client.SignatureDoesNotMatch")


def test_signature_by_another_key_rejected(cloud, soap, alice_certificate):
    other_key, _ = make_certificate("mallory")
    body = signed_request("DescribeInstances", BASE, {}, other_key, alice_certificate[1])
    response = SoapResponse(soap.post(body, soap_action="DescribeInstances"))
    assert_fault(response, "soapenv:Client.SignatureDoesNotMatch")


def test_unregistered_certificate_rejected(cloud, alice_certificate):
    stranger = SoapClient(cloud.bridge.url, *make_certificate("stranger"))
    response = stranger.call("DescribeInstances", BASE)
    assert_fault(response, "soapenv:Client.AuthFailure")
    assert "not registered" in response.faultstring


def test_expired_timestamp_rejected(soap):
    created = datetime.datetime.now(UTC) - datetime.timedelta(minutes=10)
    response = soap.call("DescribeInstances", BASE, created=created)
    assert_fault(response, "soapenv:Client.RequestExpired")


def test_missing_security_header_rejected(soap):
    envelope = unsigned_envelope(operation_element("DescribeInstances", BASE, {}))
    response = SoapResponse(soap.post(serialize(envelope), soap_action="DescribeInstances"))
    assert_fault(response, "soapenv:Client.AuthFailure")
    assert "not signed" in response.faultstring


def test_wrapped_body_rejected(cloud, soap, alice_certificate):
    run = ok(soap.call("RunInstances", BASE, {
        "imageId": first_item(soap.call("DescribeImages", BASE), "imagesSet/item/imageId"),
        "minCount": 1, "maxCount": 1, "instanceType": "m1.small"}), "RunInstances", BASE)
    instance_id = first_item(run, "instancesSet/item/instanceId")

    # Alice signed a harmless DescribeInstances; the attacker moves that Body
    # into the Header and adds a Body that terminates her instance.
    envelope = unsigned_envelope(operation_element("DescribeInstances", BASE, {}))
    sign_envelope(envelope, *alice_certificate)
    signed_body = envelope.find("{%s}Body" % SOAP_NS)
    etree.SubElement(envelope.find("{%s}Header" % SOAP_NS), "{urn:attack}Wrapper").append(
        signed_body)
    forged = etree.SubElement(envelope, "{%s}Body" % SOAP_NS)
    forged.append(operation_element("TerminateInstances", BASE,
                                    {"instancesSet": [{"instanceId": instance_id}]}))
    cloud.simulator.clear_calls()
    response = SoapResponse(soap.post(serialize(envelope), soap_action="TerminateInstances"))
    assert_fault(response, "soapenv:Client.AuthFailure")
    assert calls(cloud, "destroyVirtualMachine") == []

    described = ok(soap.call("DescribeInstances", BASE,
                             {"instancesSet": [{"instanceId": instance_id}]}),
                   "DescribeInstances", BASE)
    assert described.texts(".//instanceState/name") == ["running"]
    ok(soap.call("TerminateInstances", BASE, {"instancesSet": [{"instanceId": instance_id}]}),
       "TerminateInstances", BASE)


def test_entity_expansion_rejected(soap):
    # Nine levels of ten references each: a billion "lol"s if expanded.
    entities = ['<!ENTITY lol0 "lol">'] + [
        '<!ENTITY lol%d "%s">' % (level, ("&lol%d;" % (level - 1)) * 10)
        for level in range(1, 10)]
    payload = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [%s]>\n'
               '<soap:Envelope xmlns:soap="%s"><soap:Body>&lol9;</soap:Body></soap:Envelope>'
               % ("".join(entities), SOAP_NS)).encode()
    response = SoapResponse(soap.post(payload, soap_action="DescribeInstances"))
    assert_fault(response, "soapenv:Client.InvalidRequest")
    assert "DOCTYPE" in response.faultstring


def test_external_entity_rejected(soap):
    payload = (b'<?xml version="1.0"?>\n<!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
               b'<soap:Envelope xmlns:soap="%s"><soap:Body>&xxe;</soap:Body></soap:Envelope>'
               % SOAP_NS.encode())
    response = SoapResponse(soap.post(payload, soap_action="DescribeInstances"))
    assert_fault(response, "soapenv:Client.InvalidRequest")
    assert "root:" not in response.raw.decode()


def test_soap_action_mismatch_rejected(cloud, soap, alice_certificate):
    body = signed_request("DescribeInstances", BASE, {}, *alice_certificate)
    response = SoapResponse(soap.post(body, soap_action="TerminateInstances"))
    assert_fault(response, "soapenv:Client.InvalidRequest")
    assert "SOAPAction" in response.faultstring


def test_unsupported_version_rejected(soap):
    response = soap.call("DescribeInstances", "2009-11-30")
    assert_fault(response, "soapenv:Client.InvalidParameterValue")
    assert "2009-11-30" in response.faultstring


def test_unknown_operation_rejected(soap):
    response = soap.call("DescribeSpotPriceHistory", BASE)
    assert_fault(response, "soapenv:Client.InvalidAction")


def test_action_error_is_client_fault(soap):
    response = soap.call("DescribeInstances", BASE,
                         {"instancesSet": [{"instanceId": "i-0123456789abcdef0"}]})
    assert_fault(response, "soapenv:Client.InvalidInstanceID.NotFound")
    assert response.element.findtext("detail/RequestID")


# One or more actions of every other resource family.

def test_key_pairs_and_password_data(cloud, soap):
    created = ok(soap.call("CreateKeyPair", BASE, {"keyName": "soap-key"}),
                 "CreateKeyPair", BASE)
    assert created.texts("keyName") == ["soap-key"]
    private_pem = first_item(created, "keyMaterial")
    private_key = serialization.load_pem_private_key(private_pem.encode(), None)

    imported_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    imported_line = imported_key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    imported = ok(soap.call("ImportKeyPair", BASE, {
        "keyName": "soap-imported",
        "publicKeyMaterial": base64.b64encode(imported_line.encode()).decode()}),
        "ImportKeyPair", BASE)
    assert imported.texts("keyName") == ["soap-imported"]
    assert calls(cloud, "registerSSHKeyPair")[-1]["params"]["publickey"] == imported_line

    described = ok(soap.call("DescribeKeyPairs", BASE, {
        "keySet": [{"keyName": "soap-key"}, {"keyName": "soap-imported"}]}),
        "DescribeKeyPairs", BASE)
    assert sorted(described.texts("keySet/item/keyName")) == ["soap-imported", "soap-key"]

    images = ok(soap.call("DescribeImages", BASE), "DescribeImages", BASE)
    image_id = next(i for i, name in zip(images.texts("imagesSet/item/imageId"),
                                         images.texts("imagesSet/item/name"))
                    if "password enabled" in (name or ""))
    run = ok(soap.call("RunInstances", BASE, {
        "imageId": image_id, "minCount": 1, "maxCount": 1, "keyName": "soap-key",
        "instanceType": "m1.small", "placement": {"availabilityZone": "zone1"}}),
        "RunInstances", BASE)
    instance_id = first_item(run, "instancesSet/item/instanceId")
    assert run.texts("instancesSet/item/keyName") == ["soap-key"]

    password = ok(soap.call("GetPasswordData", BASE, {"instanceId": instance_id}),
                  "GetPasswordData", BASE)
    assert password.texts("instanceId") == [instance_id]
    decrypted = private_key.decrypt(base64.b64decode(first_item(password, "passwordData")),
                                    padding.PKCS1v15()).decode()
    assert decrypted and decrypted.isprintable()

    ok(soap.call("TerminateInstances", BASE, {"instancesSet": [{"instanceId": instance_id}]}),
       "TerminateInstances", BASE)
    for name in ("soap-key", "soap-imported"):
        deleted = ok(soap.call("DeleteKeyPair", BASE, {"keyName": name}), "DeleteKeyPair", BASE)
        assert deleted.texts("return") == ["true"]
    remaining = cloud.cloudstack("alice").list("listSSHKeyPairs", "sshkeypair")
    assert not {"soap-key", "soap-imported"} & {k["name"] for k in remaining}


@pytest.mark.parametrize("version", [BASE, JAVA])
def test_security_group_rules(cloud, soap, version):
    name = "soap-web-%s" % version
    created = ok(soap.call("CreateSecurityGroup", version, {
        "groupName": name, "groupDescription": "Web servers"}), "CreateSecurityGroup", version)
    assert created.texts("return") == ["true"]

    permission = {"ipProtocol": "tcp", "fromPort": 80, "toPort": 80, "groups": [],
                  "ipRanges": [{"cidrIp": "192.0.2.0/24"}, {"cidrIp": "198.51.100.0/24"}]}
    ok(soap.call("AuthorizeSecurityGroupIngress", version, {
        "userId": "", "groupName": name, "ipPermissions": [permission]}),
        "AuthorizeSecurityGroupIngress", version)
    groups = cloud.cloudstack("alice").list("listSecurityGroups", "securitygroup",
                                            securitygroupname=name)
    rules = groups[0].get("ingressrule", [])
    assert sorted(r["cidr"] for r in rules) == ["192.0.2.0/24", "198.51.100.0/24"]
    assert {(r["protocol"], r["startport"], r["endport"]) for r in rules} == {("tcp", 80, 80)}

    described = ok(soap.call("DescribeSecurityGroups", version, {
        "securityGroupSet": [{"groupName": name}]}), "DescribeSecurityGroups", version)
    assert described.texts("securityGroupInfo/item/groupName") == [name]
    assert sorted(described.texts(".//ipRanges/item/cidrIp")) == ["192.0.2.0/24",
                                                                  "198.51.100.0/24"]

    ok(soap.call("RevokeSecurityGroupIngress", version, {
        "userId": "", "groupName": name, "ipPermissions": [permission]}),
        "RevokeSecurityGroupIngress", version)
    groups = cloud.cloudstack("alice").list("listSecurityGroups", "securitygroup",
                                            securitygroupname=name)
    assert groups[0].get("ingressrule", []) == []

    ok(soap.call("DeleteSecurityGroup", version, {"groupName": name}),
       "DeleteSecurityGroup", version)
    assert cloud.cloudstack("alice").list("listSecurityGroups", "securitygroup",
                                          securitygroupname=name) == []


def test_addresses(cloud, soap):
    allocated = ok(soap.call("AllocateAddress", BASE), "AllocateAddress", BASE)
    public_ip = first_item(allocated, "publicIp")

    # An elastic IP address serves only the network of its own zone.
    zone = next(a["zonename"] for a in cloud.cloudstack("alice").list(
        "listPublicIpAddresses", "publicipaddress") if a["ipaddress"] == public_ip)
    run = ok(soap.call("RunInstances", BASE, {
        "imageId": first_item(soap.call("DescribeImages", BASE), "imagesSet/item/imageId"),
        "minCount": 1, "maxCount": 1, "instanceType": "m1.small",
        "placement": {"availabilityZone": zone}}), "RunInstances", BASE)
    instance_id = first_item(run, "instancesSet/item/instanceId")
    associated = ok(soap.call("AssociateAddress", BASE, {
        "publicIp": public_ip, "instanceId": instance_id}), "AssociateAddress", BASE)
    assert associated.texts("return") == ["true"]
    by_instance = ok(soap.call("DescribeAddresses", BASE, {"filterSet": [
        {"name": "instance-id", "valueSet": [{"value": instance_id}]}]}),
        "DescribeAddresses", BASE)
    assert by_instance.texts("addressesSet/item/publicIp") == [public_ip]
    ok(soap.call("DisassociateAddress", BASE, {"publicIp": public_ip}),
       "DisassociateAddress", BASE)
    ok(soap.call("TerminateInstances", BASE, {"instancesSet": [{"instanceId": instance_id}]}),
       "TerminateInstances", BASE)

    described = ok(soap.call("DescribeAddresses", BASE, {
        "publicIpsSet": [{"publicIp": public_ip}]}), "DescribeAddresses", BASE)
    assert described.texts("addressesSet/item/publicIp") == [public_ip]

    released = ok(soap.call("ReleaseAddress", BASE, {"publicIp": public_ip}),
                  "ReleaseAddress", BASE)
    assert released.texts("return") == ["true"]
    remaining = cloud.cloudstack("alice").list("listPublicIpAddresses", "publicipaddress")
    assert public_ip not in {a["ipaddress"] for a in remaining}


def test_register_and_deregister_image(cloud, soap):
    registered = ok(soap.call("RegisterImage", BASE, {
        "imageLocation": "http://192.0.2.10/images/soap.vhd", "name": "soap-image",
        "architecture": "VHD:zone1:CentOS 5.5"}), "RegisterImage", BASE)
    image_id = first_item(registered, "imageId")

    described = ok(soap.call("DescribeImages", BASE, {"imagesSet": [{"imageId": image_id}]}),
                   "DescribeImages", BASE)
    assert described.texts("imagesSet/item/name") == ["soap-image"]
    assert calls(cloud, "registerTemplate")[-1]["params"]["url"] == (
        "http://192.0.2.10/images/soap.vhd")

    ok(soap.call("ModifyImageAttribute", BASE, {
        "imageId": image_id, "launchPermission": {"add": [{"group": "all"}]}}),
        "ModifyImageAttribute", BASE)
    launch = ok(soap.call("DescribeImageAttribute", BASE, {
        "imageId": image_id, "launchPermission": ""}), "DescribeImageAttribute", BASE)
    assert launch.texts("launchPermission/item/group") == ["all"]
    ok(soap.call("ResetImageAttribute", BASE, {"imageId": image_id, "launchPermission": ""}),
       "ResetImageAttribute", BASE)
    launch = ok(soap.call("DescribeImageAttribute", BASE, {
        "imageId": image_id, "launchPermission": ""}), "DescribeImageAttribute", BASE)
    assert launch.texts("launchPermission/item/group") == []

    deregistered = ok(soap.call("DeregisterImage", BASE, {"imageId": image_id}),
                      "DeregisterImage", BASE)
    assert deregistered.texts("return") == ["true"]


def test_regions_and_version(cloud, soap):
    regions = ok(soap.call("DescribeRegions", BASE), "DescribeRegions", BASE)
    assert regions.texts("regionInfo/item/regionName") == ["cloudstack"]

    version = soap.call("CloudEC2Version", BASE)
    assert version.status == 200
    assert version.texts("version") == ["test"]


def cloudstack_volume_of(cloud, volume_id):
    """The volume as CloudStack lists it for alice, or None once it is deleted."""
    cs_id = cloud.stores[0].cloudstack_ids("vol", [volume_id])[volume_id]
    found = cloud.cloudstack("alice").list("listVolumes", "volume", listall=True)
    return next((v for v in found if v["id"] == cs_id), None)


def test_volumes_snapshots_tags_and_attributes(cloud, soap):
    images = ok(soap.call("DescribeImages", BASE), "DescribeImages", BASE)
    image_id = next(i for i, name in zip(images.texts("imagesSet/item/imageId"),
                                         images.texts("imagesSet/item/name"))
                    if "CentOS" in (name or ""))
    run = ok(soap.call("RunInstances", BASE, {
        "imageId": image_id, "minCount": 1, "maxCount": 1, "instanceType": "m1.small",
        "placement": {"availabilityZone": "zone1"}}), "RunInstances", BASE)
    instance_id = first_item(run, "instancesSet/item/instanceId")

    # Instance and image attributes: the WSDL names the attribute by an empty element.
    attribute = ok(soap.call("DescribeInstanceAttribute", BASE, {
        "instanceId": instance_id, "instanceType": ""}), "DescribeInstanceAttribute", BASE)
    assert attribute.texts("instanceType/value") == ["m1.small"]
    modified = ok(soap.call("ModifyInstanceAttribute", BASE, {
        "instanceId": instance_id, "disableApiTermination": {"value": "false"}}),
        "ModifyInstanceAttribute", BASE)
    assert modified.texts("return") == ["true"]
    launch = ok(soap.call("DescribeImageAttribute", BASE, {
        "imageId": image_id, "launchPermission": ""}), "DescribeImageAttribute", BASE)
    assert launch.texts("imageId") == [image_id]

    # Volumes.
    created = ok(soap.call("CreateVolume", BASE, {"size": 2, "availabilityZone": "zone1"}),
                 "CreateVolume", BASE)
    volume_id = first_item(created, "volumeId")
    assert created.texts("size") == ["2"]
    assert cloudstack_volume_of(cloud, volume_id)["zonename"] == "zone1"

    attached = ok(soap.call("AttachVolume", BASE, {
        "volumeId": volume_id, "instanceId": instance_id, "device": "/dev/sdb"}),
        "AttachVolume", BASE)
    assert attached.texts("device") == ["/dev/sdb"]
    described = ok(soap.call("DescribeVolumes", BASE, {"volumeSet": [{"volumeId": volume_id}]}),
                   "DescribeVolumes", BASE)
    assert described.texts("volumeSet/item/status") == ["in-use"]
    assert described.texts(".//attachmentSet/item/instanceId") == [instance_id]
    assert cloudstack_volume_of(cloud, volume_id)["virtualmachineid"] == (
        cloud.stores[0].cloudstack_ids("i", [instance_id])[instance_id])

    ok(soap.call("DetachVolume", BASE, {"volumeId": volume_id, "instanceId": instance_id}),
       "DetachVolume", BASE)
    assert "virtualmachineid" not in cloudstack_volume_of(cloud, volume_id)

    # Snapshots.
    snapshot = ok(soap.call("CreateSnapshot", BASE, {"volumeId": volume_id,
                                                     "description": "soap"}),
                  "CreateSnapshot", BASE)
    snapshot_id = first_item(snapshot, "snapshotId")
    snapshots = ok(soap.call("DescribeSnapshots", BASE, {
        "snapshotSet": [{"snapshotId": snapshot_id}], "ownersSet": [{"owner": "self"}]}),
        "DescribeSnapshots", BASE)
    assert snapshots.texts("snapshotSet/item/volumeId") == [volume_id]
    permission = ok(soap.call("DescribeSnapshotAttribute", BASE, {
        "snapshotId": snapshot_id, "createVolumePermission": ""}),
        "DescribeSnapshotAttribute", BASE)
    assert permission.texts("snapshotId") == [snapshot_id]

    # Tags.
    ok(soap.call("CreateTags", BASE, {
        "resourcesSet": [{"resourceId": instance_id}, {"resourceId": volume_id}],
        "tagSet": [{"key": "Name", "value": "soap"}, {"key": "empty", "value": ""}]}),
        "CreateTags", BASE)
    tags = ok(soap.call("DescribeTags", BASE, {"filterSet": [
        {"name": "resource-id", "valueSet": [{"value": instance_id}]}]}), "DescribeTags", BASE)
    assert sorted(zip(tags.texts("tagSet/item/key"), tags.texts("tagSet/item/value"))) == [
        ("Name", "soap"), ("empty", None)]
    ok(soap.call("DeleteTags", BASE, {
        "resourcesSet": [{"resourceId": instance_id}, {"resourceId": volume_id}],
        "tagSet": [{"key": "Name"}, {"key": "empty"}]}), "DeleteTags", BASE)
    remaining = ok(soap.call("DescribeTags", BASE, {"filterSet": [
        {"name": "resource-id", "valueSet": [{"value": instance_id}, {"value": volume_id}]}]}),
        "DescribeTags", BASE)
    assert remaining.texts("tagSet/item/key") == []

    ok(soap.call("DeleteSnapshot", BASE, {"snapshotId": snapshot_id}), "DeleteSnapshot", BASE)
    ok(soap.call("DeleteVolume", BASE, {"volumeId": volume_id}), "DeleteVolume", BASE)
    assert cloudstack_volume_of(cloud, volume_id) is None
    ok(soap.call("TerminateInstances", BASE, {"instancesSet": [{"instanceId": instance_id}]}),
       "TerminateInstances", BASE)


def test_server_error_fault_code():
    document = fault_document(errors.Unavailable("CloudStack is not reachable."), "req-1")
    fault = etree.fromstring(document).find("{%s}Body/{%s}Fault" % (SOAP_NS, SOAP_NS))
    assert fault.findtext("faultcode") == "soapenv:Server.Unavailable"
    assert fault.findtext("faultstring") == "CloudStack is not reachable."
    assert fault.findtext("detail/RequestID") == "req-1"


def test_replayed_request_rejected_on_every_server(cloud, soap, alice_certificate):
    second = cloud.servers[1] if len(cloud.servers) > 1 else cloud.add_server()
    body = signed_request("CreateKeyPair", BASE, {"keyName": "replayed-key"},
                          *alice_certificate)
    first = SoapResponse(soap.post(body, soap_action="CreateKeyPair"))
    assert first.status == 200, first.raw
    again = SoapResponse(soap.post(body, soap_action="CreateKeyPair"))
    assert_fault(again, "soapenv:Client.AuthFailure")
    assert "already received" in again.faultstring
    elsewhere = SoapClient(second.url, *alice_certificate)
    replayed = SoapResponse(elsewhere.post(body, soap_action="CreateKeyPair"))
    assert_fault(replayed, "soapenv:Client.AuthFailure")
    keys = cloud.cloudstack("alice").list("listSSHKeyPairs", "sshkeypair", name="replayed-key")
    assert len(keys) == 1
    soap.call("DeleteKeyPair", BASE, {"keyName": "replayed-key"})
