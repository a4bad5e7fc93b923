"""Images through boto3 and boto 2: RegisterImage, CreateImage, DeregisterImage, DescribeImages.

Alice registers, creates and deregisters images; Bob registers two images
that the DescribeImages tests select from, so that what Bob sees is known
exactly: the simulator's three public templates plus his own two.
"""

import re
import time

import boto.exception
import botocore.exceptions
import pytest

from tests.harness import calls, error_code, signed_query

EC2_IMAGE_ID = re.compile(r"^ami-[0-9a-f]{17}$")
UNKNOWN_IMAGE = "ami-0123456789abcdef0"
UNKNOWN_INSTANCE = "i-0123456789abcdef0"

# The simulator's public templates, all owned by the CloudStack account "system".
PUBLIC_CENTOS = "CentOS 5.5(64-bit) no GUI (XenServer)"
PUBLIC_UBUNTU = "Ubuntu 12.04 i386 (password enabled)"
PUBLIC_DEBIAN = "Debian 7 x86_64 (community)"
PUBLIC = {PUBLIC_CENTOS, PUBLIC_UBUNTU, PUBLIC_DEBIAN}
BOB_CENTOS = "bob-centos"
BOB_UBUNTU = "bob-ubuntu"
BOB = {BOB_CENTOS, BOB_UBUNTU}


def client_error(excinfo):
    return excinfo.value.response["Error"]["Code"]


def own_templates(cloud, user, name=None):
    return cloud.cloudstack(user).list("listTemplates", "template", templatefilter="self",
                                       name=name)


def cloudstack_vm(cloud, vm_id):
    return cloud.cloudstack("admin").list("listVirtualMachines", "virtualmachine",
                                          listall=True, id=vm_id)[0]


def wait_for_state(cloud, vm_id, state):
    """Poll CloudStack until the VM is in this state (EC2 state changes return at once)."""
    for _ in range(400):
        if cloudstack_vm(cloud, vm_id)["state"] == state:
            return
        time.sleep(0.05)
    raise AssertionError("VM %s never reached state %s" % (vm_id, state))


def template_id(cloud, image_id):
    return cloud.stores[0].cloudstack_ids("ami", [image_id])[image_id]


def zone_id(cloud, name):
    zones = cloud.cloudstack("alice").list("listZones", "zone")
    return next(z["id"] for z in zones if z["name"] == name)


def os_type_id(cloud, description):
    os_types = cloud.cloudstack("alice").list("listOsTypes", "ostype")
    return next(o["id"] for o in os_types if o["description"] == description)


def wait_until_available(ec2, image_ids):
    """Poll DescribeImages until the images are available (the simulator downloads them)."""
    for _ in range(200):
        images = ec2.describe_images(ImageIds=image_ids)["Images"]
        if all(i["State"] == "available" for i in images):
            return images
    raise AssertionError("images %s never became available" % image_ids)


@pytest.fixture(scope="module")
def bob_images(cloud):
    """Bob's two private images, by name."""
    ec2 = cloud.boto3("bob")
    centos = ec2.register_image(Name=BOB_CENTOS, Description="Bob's CentOS",
                                ImageLocation="http://images.example/bob-centos.vhd",
                                Architecture="VHD:zone1:CentOS 5.5")["ImageId"]
    ubuntu = ec2.register_image(Name=BOB_UBUNTU, Description="Bob's Ubuntu on KVM",
                                ImageLocation="https://images.example/bob-ubuntu.qcow2",
                                Architecture="QCOW2:zone2:Ubuntu 12.04 (64-bit):KVM")["ImageId"]
    wait_until_available(ec2, [centos, ubuntu])
    return {BOB_CENTOS: centos, BOB_UBUNTU: ubuntu}


@pytest.fixture(scope="module")
def alice_instance(cloud):
    """A running instance of Alice in zone1: (instance id, CloudStack VM id)."""
    ec2 = cloud.boto3("alice")
    image = next(i for i in ec2.describe_images()["Images"] if i["Name"] == PUBLIC_CENTOS)
    run = ec2.run_instances(ImageId=image["ImageId"], MinCount=1, MaxCount=1,
                            InstanceType="m1.small", Placement={"AvailabilityZone": "zone1"})
    instance_id = run["Instances"][0]["InstanceId"]
    vm_id = cloud.stores[0].cloudstack_ids("i", [instance_id])[instance_id]
    wait_for_state(cloud, vm_id, "Running")
    return instance_id, vm_id


def names(images):
    return {i["Name"] for i in images}


# RegisterImage

def test_register_image_boto3(cloud):
    ec2 = cloud.boto3("alice")
    cloud.simulator.clear_calls()
    image_id = ec2.register_image(Name="alice-centos", Description="Alice's CentOS",
                                  ImageLocation="http://images.example/alice.vhd",
                                  Architecture="VHD:zone1:CentOS 5.5")["ImageId"]
    assert EC2_IMAGE_ID.match(image_id)

    [register] = calls(cloud, "registerTemplate")
    assert register["params"]["name"] == "alice-centos"
    assert register["params"]["displaytext"] == "Alice's CentOS"
    assert register["params"]["url"] == "http://images.example/alice.vhd"
    assert register["params"]["format"] == "VHD"
    assert register["params"]["hypervisor"] == "XenServer"
    assert register["params"]["zoneid"] == zone_id(cloud, "zone1")
    # "CentOS 5.5" is part of two OS type names; the first one listed is taken.
    assert register["params"]["ostypeid"] == os_type_id(cloud, "CentOS 5.5 (32-bit)")

    [template] = own_templates(cloud, "alice", "alice-centos")
    assert template["id"] == template_id(cloud, image_id)
    assert template["ispublic"] is False

    [image] = ec2.describe_images(ImageIds=[image_id])["Images"]
    assert image["Name"] == "alice-centos"
    assert image["Description"] == "Alice's CentOS"
    assert image["OwnerId"] == "alice"
    assert image["Public"] is False
    assert image["Hypervisor"] == "xenserver"
    assert image["State"] in ("pending", "available")


def test_register_image_boto2_with_hypervisor(cloud):
    conn = cloud.boto2("alice")
    cloud.simulator.clear_calls()
    image_id = conn.register_image(name="alice-ubuntu-kvm", description="Ubuntu on KVM",
                                   image_location="https://images.example/ubuntu.qcow2",
                                   architecture="QCOW2:zone2:Ubuntu 12.04 (64-bit):KVM")
    assert EC2_IMAGE_ID.match(image_id)

    [register] = calls(cloud, "registerTemplate")
    assert register["params"]["format"] == "QCOW2"
    assert register["params"]["hypervisor"] == "KVM"
    assert register["params"]["zoneid"] == zone_id(cloud, "zone2")
    assert register["params"]["ostypeid"] == os_type_id(cloud, "Ubuntu 12.04 (64-bit)")

    [template] = own_templates(cloud, "alice", "alice-ubuntu-kvm")
    assert template["hypervisor"] == "KVM"
    assert template["zonename"] == "zone2"

    [image] = conn.get_all_images(image_ids=[image_id])
    assert image.name == "alice-ubuntu-kvm"
    assert image.description == "Ubuntu on KVM"
    assert image.hypervisor == "kvm"
    assert image.ownerId == "alice"


@pytest.mark.parametrize("architecture", [
    "x86_64",                          # the usual EC2 value carries no format, zone or OS
    "VHD:zone1",                       # too few parts
    "VHD:zone1:CentOS:XenServer:extra",
    "ZIP:zone1:CentOS 5.5",            # not a template format
    "VHD:zone9:CentOS 5.5",            # no such zone
    "VHD:zone1:Plan 9",                # no such OS type
    "VHD::CentOS 5.5",                 # empty zone
])
def test_register_image_bad_architecture(cloud, architecture):
    ec2 = cloud.boto3("alice")
    cloud.simulator.clear_calls()
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.register_image(Name="alice-bad-architecture", Architecture=architecture,
                           ImageLocation="http://images.example/bad.vhd")
    assert client_error(excinfo) == "InvalidParameterValue"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert calls(cloud, "registerTemplate") == []
    assert own_templates(cloud, "alice", "alice-bad-architecture") == []


@pytest.mark.parametrize("location", ["ftp://images.example/a.vhd", "images.example/a.vhd",
                                      "http://", "file:///var/images/a.vhd"])
def test_register_image_bad_location(cloud, location):
    conn = cloud.boto2("alice")
    with pytest.raises(boto.exception.EC2ResponseError) as excinfo:
        conn.register_image(name="alice-bad-location", image_location=location,
                            architecture="VHD:zone1:CentOS 5.5")
    assert excinfo.value.error_code == "InvalidParameterValue"
    assert excinfo.value.status == 400
    assert own_templates(cloud, "alice", "alice-bad-location") == []


@pytest.mark.parametrize("missing", ["Name", "ImageLocation", "Architecture"])
def test_register_image_missing_parameter(cloud, missing):
    params = {"Action": "RegisterImage", "Name": "alice-missing",
              "ImageLocation": "http://images.example/a.vhd",
              "Architecture": "VHD:zone1:CentOS 5.5"}
    del params[missing]
    response = signed_query(cloud, "alice", params)
    assert response.status_code == 400
    assert error_code(response) == "MissingParameter"
    assert missing in response.text


def test_register_image_name_rules(cloud):
    ec2 = cloud.boto3("alice")
    ec2.register_image(Name="alice-once", ImageLocation="http://images.example/once.vhd",
                       Architecture="VHD:zone1:CentOS 5.5")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.register_image(Name="alice-once", ImageLocation="http://images.example/twice.vhd",
                           Architecture="VHD:zone1:CentOS 5.5")
    assert client_error(excinfo) == "InvalidAMIName.Duplicate"
    assert len(own_templates(cloud, "alice", "alice-once")) == 1

    # boto3 checks the length itself, boto 2 sends any name.
    conn = cloud.boto2("alice")
    for bad_name in ("ab", "semi;colon", "x" * 129):
        with pytest.raises(boto.exception.EC2ResponseError) as excinfo:
            conn.register_image(name=bad_name, image_location="http://images.example/n.vhd",
                                architecture="VHD:zone1:CentOS 5.5")
        assert excinfo.value.error_code == "InvalidAMIName.Malformed"


def test_register_image_unsupported_parameters(cloud):
    ec2 = cloud.boto3("alice")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.register_image(Name="alice-kernel", ImageLocation="http://images.example/k.vhd",
                           Architecture="VHD:zone1:CentOS 5.5", KernelId="aki-12345678")
    assert client_error(excinfo) == "InvalidParameterValue"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.register_image(Name="alice-from-snapshot", RootDeviceName="/dev/sda1",
                           BlockDeviceMappings=[{"DeviceName": "/dev/sda1",
                                                 "Ebs": {"SnapshotId": "snap-12345678"}}])
    assert client_error(excinfo) == "UnsupportedOperation"
    assert own_templates(cloud, "alice", "alice-kernel") == []
    assert own_templates(cloud, "alice", "alice-from-snapshot") == []


# CreateImage

def test_create_image_of_running_instance_boto3(cloud, alice_instance):
    instance_id, vm_id = alice_instance
    ec2 = cloud.boto3("alice")
    [root] = cloud.cloudstack("alice").list("listVolumes", "volume", virtualmachineid=vm_id,
                                            type="ROOT")
    cloud.simulator.clear_calls()

    image_id = ec2.create_image(InstanceId=instance_id, Name="alice-running-image",
                                Description="made while running")["ImageId"]
    assert EC2_IMAGE_ID.match(image_id)

    commands = [c["command"] for c in cloud.simulator.calls
                if c["command"] in ("stopVirtualMachine", "createTemplate",
                                    "startVirtualMachine")]
    assert commands == ["stopVirtualMachine", "createTemplate", "startVirtualMachine"]
    [create] = calls(cloud, "createTemplate")
    assert create["params"]["volumeid"] == root["id"]
    assert create["params"]["name"] == "alice-running-image"
    assert create["params"]["displaytext"] == "made while running"
    assert create["params"]["ostypeid"] == cloudstack_vm(cloud, vm_id)["guestosid"]
    assert cloudstack_vm(cloud, vm_id)["state"] == "Running"

    [template] = own_templates(cloud, "alice", "alice-running-image")
    assert template["id"] == template_id(cloud, image_id)
    [image] = ec2.describe_images(ImageIds=[image_id])["Images"]
    assert image["State"] == "available"
    assert image["Description"] == "made while running"
    assert image["OwnerId"] == "alice"

    # The new image launches like any other.
    run = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                            Placement={"AvailabilityZone": "zone1"})
    assert run["Instances"][0]["ImageId"] == image_id
    ec2.terminate_instances(InstanceIds=[run["Instances"][0]["InstanceId"]])


def test_create_image_of_stopped_instance_boto2(cloud, alice_instance):
    instance_id, vm_id = alice_instance
    conn = cloud.boto2("alice")
    conn.stop_instances(instance_ids=[instance_id])
    wait_for_state(cloud, vm_id, "Stopped")
    cloud.simulator.clear_calls()

    image_id = conn.create_image(instance_id, "alice-stopped-image",
                                 description="made while stopped", no_reboot=True)
    assert EC2_IMAGE_ID.match(image_id)
    assert calls(cloud, "stopVirtualMachine") == []
    assert calls(cloud, "startVirtualMachine") == []
    assert len(calls(cloud, "createTemplate")) == 1
    assert cloudstack_vm(cloud, vm_id)["state"] == "Stopped"

    [image] = conn.get_all_images(image_ids=[image_id])
    assert image.name == "alice-stopped-image"
    assert image.description == "made while stopped"
    conn.start_instances(instance_ids=[instance_id])
    wait_for_state(cloud, vm_id, "Running")


def test_create_image_no_reboot_of_running_instance(cloud, alice_instance):
    instance_id, vm_id = alice_instance
    ec2 = cloud.boto3("alice")
    assert cloudstack_vm(cloud, vm_id)["state"] == "Running"
    cloud.simulator.clear_calls()
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.create_image(InstanceId=instance_id, Name="alice-no-reboot", NoReboot=True)
    assert client_error(excinfo) == "IncorrectInstanceState"
    assert "NoReboot" in excinfo.value.response["Error"]["Message"]
    assert calls(cloud, "stopVirtualMachine") == []
    assert calls(cloud, "createTemplate") == []
    assert cloudstack_vm(cloud, vm_id)["state"] == "Running"


def test_create_image_errors(cloud, alice_instance):
    instance_id, vm_id = alice_instance
    ec2 = cloud.boto3("alice")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.create_image(InstanceId=UNKNOWN_INSTANCE, Name="alice-nothing")
    assert client_error(excinfo) == "InvalidInstanceID.NotFound"

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        cloud.boto3("bob").create_image(InstanceId=instance_id, Name="bob-steals")
    assert client_error(excinfo) == "InvalidInstanceID.NotFound"

    ec2.create_image(InstanceId=instance_id, Name="alice-twice")
    cloud.simulator.clear_calls()
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.create_image(InstanceId=instance_id, Name="alice-twice")
    assert client_error(excinfo) == "InvalidAMIName.Duplicate"
    assert calls(cloud, "stopVirtualMachine") == []
    assert cloudstack_vm(cloud, vm_id)["state"] == "Running"

    with pytest.raises(boto.exception.EC2ResponseError) as excinfo:
        cloud.boto2("alice").create_image(instance_id, "no")
    assert excinfo.value.error_code == "InvalidAMIName.Malformed"


# DeregisterImage

def test_deregister_image_boto3(cloud):
    ec2 = cloud.boto3("alice")
    image_id = ec2.register_image(Name="alice-short-lived",
                                  ImageLocation="http://images.example/short.vhd",
                                  Architecture="VHD:zone1:CentOS 5.5")["ImageId"]
    cloud.simulator.clear_calls()
    ec2.deregister_image(ImageId=image_id)

    [delete] = calls(cloud, "deleteTemplate")
    assert delete["params"]["id"] == template_id(cloud, image_id)
    assert own_templates(cloud, "alice", "alice-short-lived") == []
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.describe_images(ImageIds=[image_id])
    assert client_error(excinfo) == "InvalidAMIID.NotFound"


def test_deregister_image_boto2(cloud):
    conn = cloud.boto2("alice")
    image_id = conn.register_image(name="alice-boto2-short-lived",
                                   image_location="http://images.example/short2.vhd",
                                   architecture="VHD:zone1:CentOS 5.5")
    assert conn.deregister_image(image_id) is True
    assert own_templates(cloud, "alice", "alice-boto2-short-lived") == []
    assert image_id not in [i.id for i in conn.get_all_images()]


def test_deregister_image_errors(cloud, bob_images):
    ec2 = cloud.boto3("alice")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.deregister_image(ImageId=UNKNOWN_IMAGE)
    assert client_error(excinfo) == "InvalidAMIID.NotFound"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    public = next(i for i in ec2.describe_images()["Images"] if i["Name"] == PUBLIC_DEBIAN)
    cloud.simulator.clear_calls()
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.deregister_image(ImageId=public["ImageId"])
    assert client_error(excinfo) == "UnauthorizedOperation"
    assert calls(cloud, "deleteTemplate") == []

    # Bob's private image does not exist for Alice.
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.deregister_image(ImageId=bob_images[BOB_CENTOS])
    assert client_error(excinfo) == "InvalidAMIID.NotFound"
    assert len(own_templates(cloud, "bob", BOB_CENTOS)) == 1


# DescribeImages

def test_describe_images_as_bob(cloud, bob_images):
    images = cloud.boto3("bob").describe_images()["Images"]
    assert names(images) == PUBLIC | BOB
    by_name = {i["Name"]: i for i in images}
    assert by_name[BOB_CENTOS]["ImageId"] == bob_images[BOB_CENTOS]
    assert by_name[BOB_CENTOS]["Description"] == "Bob's CentOS"
    assert by_name[BOB_CENTOS]["RootDeviceName"] == "/dev/sda1"
    assert by_name[BOB_CENTOS]["BlockDeviceMappings"][0]["DeviceName"] == "/dev/sda1"
    assert by_name[PUBLIC_DEBIAN]["OwnerId"] == "system"
    assert by_name[PUBLIC_DEBIAN]["Public"] is True


def test_describe_images_bounded_calls(cloud, bob_images):
    cloud.simulator.clear_calls()
    cloud.boto3("bob").describe_images()
    commands = [c["command"] for c in cloud.simulator.calls]
    # The caller's own templates (ready or not) and the launchable ones.
    assert commands == ["listTemplates", "listTemplates"]


@pytest.mark.parametrize("name,values,expected", [
    ("image-id", ["<bob-centos>"], {BOB_CENTOS}),
    ("name", ["bob-*"], BOB),
    ("name", [PUBLIC_DEBIAN], {PUBLIC_DEBIAN}),
    ("state", ["available"], PUBLIC | BOB),
    ("state", ["pending", "failed"], set()),
    ("owner-id", ["bob"], BOB),
    ("owner-id", ["system"], PUBLIC),
    ("architecture", ["i386"], {PUBLIC_UBUNTU, BOB_CENTOS}),
    ("architecture", ["x86_64"], {PUBLIC_CENTOS, PUBLIC_DEBIAN, BOB_UBUNTU}),
    ("image-type", ["machine"], PUBLIC | BOB),
    ("image-type", ["kernel", "ramdisk"], set()),
    ("is-public", ["true"], PUBLIC),
    ("is-public", ["false"], BOB),
    ("hypervisor", ["kvm"], {BOB_UBUNTU}),
    ("hypervisor", ["xenserver"], PUBLIC | {BOB_CENTOS}),
    ("root-device-type", ["ebs"], PUBLIC | BOB),
    ("root-device-type", ["instance-store"], set()),
])
def test_describe_images_filter(cloud, bob_images, name, values, expected):
    values = [bob_images.get(v.strip("<>"), v) for v in values]
    images = cloud.boto3("bob").describe_images(
        Filters=[{"Name": name, "Values": values}])["Images"]
    assert names(images) == expected


def test_describe_images_filters_boto2(cloud, bob_images):
    conn = cloud.boto2("bob")
    found = conn.get_all_images(filters={"owner-id": "bob", "hypervisor": "kvm"})
    assert [i.id for i in found] == [bob_images[BOB_UBUNTU]]
    found = conn.get_all_images(filters={"architecture": "i386", "is-public": "true"})
    assert {i.name for i in found} == {PUBLIC_UBUNTU}
    found = conn.get_all_images(filters={"state": "available", "image-type": "machine",
                                         "root-device-type": "ebs",
                                         "image-id": bob_images[BOB_CENTOS],
                                         "name": "bob-*"})
    assert [i.id for i in found] == [bob_images[BOB_CENTOS]]


def test_describe_images_unknown_filter(cloud):
    ec2 = cloud.boto3("bob")
    cloud.simulator.clear_calls()
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.describe_images(Filters=[{"Name": "colour", "Values": ["blue"]}])
    assert client_error(excinfo) == "InvalidParameterValue"
    assert calls(cloud, "listTemplates") == []


def test_describe_images_by_id(cloud, bob_images):
    ec2 = cloud.boto3("bob")
    wanted = [bob_images[BOB_UBUNTU], bob_images[BOB_CENTOS]]
    images = ec2.describe_images(ImageIds=wanted)["Images"]
    assert [i["ImageId"] for i in images] == wanted

    conn = cloud.boto2("bob")
    assert [i.id for i in conn.get_all_images(image_ids=wanted)] == wanted

    for unknown in ([UNKNOWN_IMAGE], [bob_images[BOB_CENTOS], UNKNOWN_IMAGE], ["ami-nothex"]):
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            ec2.describe_images(ImageIds=unknown)
        assert client_error(excinfo) == "InvalidAMIID.NotFound"
        assert unknown[-1] in excinfo.value.response["Error"]["Message"]

    with pytest.raises(boto.exception.EC2ResponseError) as excinfo:
        conn.get_all_images(image_ids=[UNKNOWN_IMAGE])
    assert excinfo.value.error_code == "InvalidAMIID.NotFound"
    assert excinfo.value.status == 400


def test_describe_images_private_image_of_another_account(cloud, bob_images):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        cloud.boto3("alice").describe_images(ImageIds=[bob_images[BOB_UBUNTU]])
    assert client_error(excinfo) == "InvalidAMIID.NotFound"
    assert not BOB & names(cloud.boto3("alice").describe_images()["Images"])


def test_describe_images_owner(cloud, bob_images):
    ec2 = cloud.boto3("bob")
    assert names(ec2.describe_images(Owners=["self"])["Images"]) == BOB
    assert names(ec2.describe_images(Owners=["system"])["Images"]) == PUBLIC
    assert names(ec2.describe_images(Owners=["self", "system"])["Images"]) == PUBLIC | BOB
    assert names(ec2.describe_images(Owners=["self"], ImageIds=[
        bob_images[BOB_CENTOS]])["Images"]) == {BOB_CENTOS}

    conn = cloud.boto2("bob")
    assert {i.name for i in conn.get_all_images(owners=["self"])} == BOB
    # Alice's own images are hers alone.
    assert not BOB & names(cloud.boto3("alice").describe_images(Owners=["self"])["Images"])


def test_describe_images_executable_by(cloud, bob_images):
    ec2 = cloud.boto3("bob")
    assert names(ec2.describe_images(ExecutableUsers=["all"])["Images"]) == PUBLIC
    assert names(ec2.describe_images(ExecutableUsers=["self"])["Images"]) == PUBLIC | BOB
    assert names(ec2.describe_images(ExecutableUsers=["all"], Owners=["self"])["Images"]) \
        == set()

    conn = cloud.boto2("bob")
    assert {i.name for i in conn.get_all_images(executable_by=["all"])} == PUBLIC

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.describe_images(ExecutableUsers=["alice"])
    assert client_error(excinfo) == "InvalidParameterValue"
