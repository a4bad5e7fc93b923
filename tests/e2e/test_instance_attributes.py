"""Instance attributes through boto3 and boto 2: DescribeInstanceAttribute and
ModifyInstanceAttribute against the simulator."""

import base64
import time

import boto.exception
import botocore.exceptions
import pytest

from tests.harness import calls, error_code, signed_query, xml_text

UNKNOWN_INSTANCE = "i-0123456789abcdef0"


def client_error(excinfo):
    return excinfo.value.response["Error"]["Code"]


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


def ec2_ids(cloud, kind, cloudstack_ids):
    return cloud.stores[0].ec2_ids(kind, cloudstack_ids)


class Instance:
    """Alice's instance with a data volume attached at device id 1."""

    def __init__(self, cloud):
        ec2 = cloud.boto3("alice")
        image = next(i for i in ec2.describe_images()["Images"] if "CentOS" in i["Name"])
        run = ec2.run_instances(ImageId=image["ImageId"], MinCount=1, MaxCount=1,
                                InstanceType="m1.small", Placement={"AvailabilityZone": "zone1"})
        self.cloud = cloud
        self.instance_id = run["Instances"][0]["InstanceId"]
        self.vm_id = cloud.stores[0].cloudstack_ids("i", [self.instance_id])[self.instance_id]
        wait_for_state(cloud, self.vm_id, "Running")

        cloudstack = cloud.cloudstack("alice")
        zone = next(z for z in cloudstack.list("listZones", "zone") if z["name"] == "zone1")
        offering = next(o for o in cloudstack.list("listDiskOfferings", "diskoffering")
                        if o["name"] == "Small")
        created = cloudstack.run_job("createVolume", name="alice-data", zoneid=zone["id"],
                                     diskofferingid=offering["id"])
        self.data_volume_id = created["volume"]["id"]
        cloudstack.run_job("attachVolume", id=self.data_volume_id, virtualmachineid=self.vm_id,
                           deviceid=1)
        [root] = cloudstack.list("listVolumes", "volume", virtualmachineid=self.vm_id,
                                 type="ROOT")
        self.root_volume_id = root["id"]

    def state(self):
        return cloudstack_vm(self.cloud, self.vm_id)["state"]

    def stop(self):
        if self.state() != "Stopped":
            self.cloud.boto3("alice").stop_instances(InstanceIds=[self.instance_id])
            wait_for_state(self.cloud, self.vm_id, "Stopped")

    def start(self):
        if self.state() != "Running":
            self.cloud.boto3("alice").start_instances(InstanceIds=[self.instance_id])
            wait_for_state(self.cloud, self.vm_id, "Running")


@pytest.fixture(scope="module")
def instance(cloud):
    return Instance(cloud)


def describe(ec2, instance, attribute):
    return ec2.describe_instance_attribute(InstanceId=instance.instance_id, Attribute=attribute)


# DescribeInstanceAttribute

def test_describe_instance_type(cloud, instance):
    described = describe(cloud.boto3("alice"), instance, "instanceType")
    assert described["InstanceId"] == instance.instance_id
    assert described["InstanceType"] == {"Value": "m1.small"}
    conn = cloud.boto2("alice")
    assert conn.get_instance_attribute(instance.instance_id, "instanceType") == \
        {"instanceType": "m1.small"}


def test_describe_fixed_attributes_boto3(cloud, instance):
    ec2 = cloud.boto3("alice")
    assert describe(ec2, instance, "kernel")["KernelId"] == {}
    assert describe(ec2, instance, "ramdisk")["RamdiskId"] == {}
    assert describe(ec2, instance, "rootDeviceName")["RootDeviceName"] == {"Value": "/dev/sda1"}
    assert describe(ec2, instance, "disableApiTermination")["DisableApiTermination"] == \
        {"Value": False}
    assert describe(ec2, instance, "instanceInitiatedShutdownBehavior")[
        "InstanceInitiatedShutdownBehavior"] == {"Value": "stop"}
    assert describe(ec2, instance, "productCodes")["ProductCodes"] == []
    assert describe(ec2, instance, "ebsOptimized")["EbsOptimized"] == {"Value": False}


def test_describe_fixed_attributes_boto2(cloud, instance):
    conn = cloud.boto2("alice")
    get = conn.get_instance_attribute
    assert get(instance.instance_id, "rootDeviceName") == {"rootDeviceName": "/dev/sda1"}
    assert get(instance.instance_id, "disableApiTermination") == {"disableApiTermination": False}
    assert get(instance.instance_id, "instanceInitiatedShutdownBehavior") == \
        {"instanceInitiatedShutdownBehavior": "stop"}


def test_describe_block_device_mapping(cloud, instance):
    volume_ids = ec2_ids(cloud, "vol", [instance.root_volume_id, instance.data_volume_id])
    mapping = describe(cloud.boto3("alice"), instance,
                       "blockDeviceMapping")["BlockDeviceMappings"]
    assert [m["DeviceName"] for m in mapping] == ["/dev/sda1", "/dev/sdb"]
    root, data = mapping
    assert root["Ebs"]["VolumeId"] == volume_ids[instance.root_volume_id]
    assert root["Ebs"]["Status"] == "attached"
    assert root["Ebs"]["DeleteOnTermination"] is True
    assert data["Ebs"]["VolumeId"] == volume_ids[instance.data_volume_id]
    assert data["Ebs"]["DeleteOnTermination"] is False

    conn = cloud.boto2("alice")
    described = conn.get_instance_attribute(instance.instance_id, "blockDeviceMapping")
    devices = described["blockDeviceMapping"]
    assert sorted(devices) == ["/dev/sda1", "/dev/sdb"]
    assert devices["/dev/sdb"].volume_id == volume_ids[instance.data_volume_id]


def test_describe_block_device_mapping_2010_form(cloud, instance):
    response = signed_query(cloud, "alice", {"Action": "DescribeInstanceAttribute",
                                             "InstanceId": instance.instance_id,
                                             "Attribute": "blockDeviceMapping"})
    assert response.status_code == 200
    assert xml_text(response.content, "./blockDeviceMapping/item/deviceName") == \
        ["/dev/sda1", "/dev/sdb"]
    assert xml_text(response.content, "./blockDeviceMapping/item/ebs/status") == \
        ["attached", "attached"]


def test_describe_group_set(cloud, instance):
    groups = describe(cloud.boto3("alice"), instance, "groupSet")["Groups"]
    assert [g["GroupName"] for g in groups] == ["default"]
    assert groups[0]["GroupId"].startswith("sg-")
    # The 2010-11-15 schema has no groupSet attribute.
    with pytest.raises(boto.exception.EC2ResponseError) as excinfo:
        cloud.boto2("alice").get_instance_attribute(instance.instance_id, "groupSet")
    assert excinfo.value.error_code == "InvalidParameterValue"


def test_describe_user_data_from_store(cloud, instance):
    # CloudStack 4.2's listVirtualMachines does not return a VM's user data:
    # CloudBridge answers with what it launched the VM with.
    assert "userdata" not in cloudstack_vm(cloud, instance.vm_id)
    assert describe(cloud.boto3("alice"), instance, "userData")["UserData"] == {}


def test_describe_user_data_outside_cloudbridge(cloud):
    # A VM deployed directly in CloudStack: its user data is unknown.
    cloudstack = cloud.cloudstack("alice")
    zone = next(z for z in cloudstack.list("listZones", "zone") if z["name"] == "zone1")
    template = next(t for t in cloudstack.list("listTemplates", "template",
                                               templatefilter="executable")
                    if "CentOS" in t["name"])
    deployed = cloudstack.run_job("deployVirtualMachine", zoneid=zone["id"],
                                  templateid=template["id"],
                                  serviceofferingid=cloud.offerings()["Small Instance"],
                                  userdata=base64.b64encode(b"direct").decode())
    vm_id = deployed["virtualmachine"]["id"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        cloud.boto3("alice").describe_instance_attribute(InstanceId=vm_id, Attribute="userData")
    assert client_error(excinfo) == "UnsupportedOperation"
    assert "user data" in excinfo.value.response["Error"]["Message"]
    cloudstack.run_job("destroyVirtualMachine", id=vm_id)


def test_describe_instance_attribute_errors(cloud, instance):
    ec2 = cloud.boto3("alice")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.describe_instance_attribute(InstanceId=UNKNOWN_INSTANCE, Attribute="instanceType")
    assert client_error(excinfo) == "InvalidInstanceID.NotFound"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        cloud.boto3("bob").describe_instance_attribute(InstanceId=instance.instance_id,
                                                       Attribute="instanceType")
    assert client_error(excinfo) == "InvalidInstanceID.NotFound"

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.describe_instance_attribute(InstanceId=instance.instance_id,
                                        Attribute="sriovNetSupport")
    assert client_error(excinfo) == "InvalidParameterValue"
    assert "instanceType" in excinfo.value.response["Error"]["Message"]

    response = signed_query(cloud, "alice", {"Action": "DescribeInstanceAttribute",
                                             "InstanceId": instance.instance_id})
    assert error_code(response) == "MissingParameter"


# ModifyInstanceAttribute: instanceType

def test_instance_type_needs_stopped_instance(cloud, instance):
    instance.start()
    cloud.simulator.clear_calls()
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        cloud.boto3("alice").modify_instance_attribute(InstanceId=instance.instance_id,
                                                       InstanceType={"Value": "m1.large"})
    assert client_error(excinfo) == "IncorrectInstanceState"
    assert calls(cloud, "changeServiceForVirtualMachine") == []
    assert cloudstack_vm(cloud, instance.vm_id)["serviceofferingname"] == "Small Instance"


def test_modify_instance_type_boto3(cloud, instance):
    instance.stop()
    ec2 = cloud.boto3("alice")
    cloud.simulator.clear_calls()
    ec2.modify_instance_attribute(InstanceId=instance.instance_id,
                                  InstanceType={"Value": "m1.large"})

    [change] = calls(cloud, "changeServiceForVirtualMachine")
    assert change["params"]["serviceofferingid"] == cloud.offerings()["Medium Instance"]
    assert cloudstack_vm(cloud, instance.vm_id)["serviceofferingname"] == "Medium Instance"
    assert describe(ec2, instance, "instanceType")["InstanceType"] == {"Value": "m1.large"}
    reservation = ec2.describe_instances(InstanceIds=[instance.instance_id])["Reservations"][0]
    assert reservation["Instances"][0]["InstanceType"] == "m1.large"


def test_modify_instance_type_boto2(cloud, instance):
    instance.stop()
    conn = cloud.boto2("alice")
    assert conn.modify_instance_attribute(instance.instance_id, "instanceType",
                                          "c1.xlarge") is True
    assert cloudstack_vm(cloud, instance.vm_id)["serviceofferingname"] == "Huge Instance"
    assert conn.get_instance_attribute(instance.instance_id, "instanceType") == \
        {"instanceType": "c1.xlarge"}


def test_modify_instance_type_2010_form(cloud, instance):
    instance.stop()
    response = signed_query(cloud, "alice", {"Action": "ModifyInstanceAttribute",
                                             "InstanceId": instance.instance_id,
                                             "Attribute": "instanceType", "Value": "m1.small"})
    assert response.status_code == 200
    assert xml_text(response.content, "./return") == ["true"]
    assert cloudstack_vm(cloud, instance.vm_id)["serviceofferingname"] == "Small Instance"

    # Asking for the type the instance already has changes nothing in CloudStack.
    cloud.simulator.clear_calls()
    response = signed_query(cloud, "alice", {"Action": "ModifyInstanceAttribute",
                                             "InstanceId": instance.instance_id,
                                             "Attribute": "instanceType", "Value": "m1.small"})
    assert response.status_code == 200
    assert calls(cloud, "changeServiceForVirtualMachine") == []


def test_modify_unmapped_instance_type(cloud, instance):
    instance.stop()
    cloud.simulator.clear_calls()
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        cloud.boto3("alice").modify_instance_attribute(InstanceId=instance.instance_id,
                                                       InstanceType={"Value": "t2.nano"})
    assert client_error(excinfo) == "InvalidParameterValue"
    assert "t2.nano" in excinfo.value.response["Error"]["Message"]
    assert calls(cloud, "changeServiceForVirtualMachine") == []


# ModifyInstanceAttribute: userData

def test_modify_user_data_boto3(cloud, instance):
    instance.stop()
    cloud.simulator.clear_calls()
    user_data = b"#!/bin/sh\necho replaced\n"
    cloud.boto3("alice").modify_instance_attribute(InstanceId=instance.instance_id,
                                                   UserData={"Value": user_data})
    [update] = calls(cloud, "updateVirtualMachine")
    assert update["params"]["id"] == instance.vm_id
    assert base64.b64decode(update["params"]["userdata"]) == user_data
    described = describe(cloud.boto3("alice"), instance, "userData")
    assert base64.b64decode(described["UserData"]["Value"]) == user_data


def test_modify_user_data_boto2(cloud, instance):
    instance.stop()
    cloud.simulator.clear_calls()
    encoded = base64.b64encode(b"boto 2 user data").decode()
    conn = cloud.boto2("alice")
    assert conn.modify_instance_attribute(instance.instance_id, "userData", encoded) is True
    [update] = calls(cloud, "updateVirtualMachine")
    assert update["params"]["userdata"] == encoded


@pytest.mark.parametrize("value,code", [
    ("", "InvalidParameterValue"),               # CloudStack cannot remove user data
    ("not base64!", "InvalidParameterValue"),
    (base64.b64encode(b"x" * (16 * 1024 + 1)).decode(), "InvalidParameterValue"),
])
def test_modify_user_data_bad_value(cloud, instance, value, code):
    instance.stop()
    cloud.simulator.clear_calls()
    response = signed_query(cloud, "alice", {"Action": "ModifyInstanceAttribute",
                                             "InstanceId": instance.instance_id,
                                             "Attribute": "userData", "Value": value})
    assert response.status_code == 400
    assert error_code(response) == code
    assert calls(cloud, "updateVirtualMachine") == []


def test_modify_user_data_running_instance(cloud, instance):
    instance.start()
    cloud.simulator.clear_calls()
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        cloud.boto3("alice").modify_instance_attribute(InstanceId=instance.instance_id,
                                                       UserData={"Value": b"late"})
    assert client_error(excinfo) == "IncorrectInstanceState"
    assert calls(cloud, "updateVirtualMachine") == []


# ModifyInstanceAttribute: everything else

def test_modify_unchanged_behavior_succeeds(cloud, instance):
    conn = cloud.boto2("alice")
    cloud.simulator.clear_calls()
    assert conn.modify_instance_attribute(instance.instance_id, "disableApiTermination",
                                          False) is True
    assert conn.modify_instance_attribute(instance.instance_id,
                                          "instanceInitiatedShutdownBehavior", "stop") is True
    assert [c["command"] for c in cloud.simulator.calls] == ["listVirtualMachines"] * 2


@pytest.mark.parametrize("params,code", [
    ({"DisableApiTermination.Value": "true"}, "UnsupportedOperation"),
    ({"InstanceInitiatedShutdownBehavior.Value": "terminate"}, "UnsupportedOperation"),
    ({"Kernel.Value": "aki-12345678"}, "UnsupportedOperation"),
    ({"Attribute": "ramdisk", "Value": "ari-12345678"}, "UnsupportedOperation"),
    ({"SourceDestCheck.Value": "false"}, "UnsupportedOperation"),
    ({"GroupId.1": "sg-12345678"}, "UnsupportedOperation"),
    ({"Attribute": "colour", "Value": "blue"}, "InvalidParameterValue"),
    ({"Attribute": "instanceType"}, "MissingParameter"),
    ({}, "MissingParameter"),
    ({"InstanceType.Value": "m1.large", "UserData.Value": "aGVsbG8="},
     "InvalidParameterCombination"),
])
def test_modify_instance_attribute_rejected(cloud, instance, params, code):
    before = cloudstack_vm(cloud, instance.vm_id)
    cloud.simulator.clear_calls()
    response = signed_query(cloud, "alice", dict(params, Action="ModifyInstanceAttribute",
                                                 InstanceId=instance.instance_id))
    assert response.status_code == 400
    assert error_code(response) == code
    assert calls(cloud, "updateVirtualMachine") == []
    assert calls(cloud, "changeServiceForVirtualMachine") == []
    assert cloudstack_vm(cloud, instance.vm_id)["serviceofferingid"] == \
        before["serviceofferingid"]


def test_modify_unknown_instance(cloud, instance):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        cloud.boto3("alice").modify_instance_attribute(InstanceId=UNKNOWN_INSTANCE,
                                                       InstanceType={"Value": "m1.large"})
    assert client_error(excinfo) == "InvalidInstanceID.NotFound"

    with pytest.raises(boto.exception.EC2ResponseError) as excinfo:
        cloud.boto2("bob").modify_instance_attribute(instance.instance_id, "instanceType",
                                                     "m1.large")
    assert excinfo.value.error_code == "InvalidInstanceID.NotFound"
    assert excinfo.value.status == 400
