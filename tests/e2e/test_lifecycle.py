"""An instance's whole life through each real EC2 client, against the simulator."""

import base64
import json
import re

import botocore.exceptions
import pytest

from tests.harness import calls, wait_for, wait_for_instance_state

EC2_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{17}$")
EC2_IMAGE_ID = re.compile(r"^ami-[0-9a-f]{17}$")
EC2_RESERVATION_ID = re.compile(r"^r-[0-9a-f]{17}$")


def cloudstack_vm(cloud, vm_id):
    """The VM as a CloudStack admin sees it (Destroyed VMs included)."""
    found = cloud.cloudstack("admin").list("listVirtualMachines", "virtualmachine",
                                           listall=True, id=vm_id)
    return found[0] if found else None


def centos_image(images):
    return next(i for i in images if "CentOS" in (i["Name"] or ""))


def test_boto3_lifecycle(cloud):
    ec2 = cloud.boto3("alice")

    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert sorted(z["ZoneName"] for z in zones) == ["zone1", "zone2"]
    assert {z["State"] for z in zones} == {"available"}

    images = ec2.describe_images()["Images"]
    assert images and all(EC2_IMAGE_ID.match(i["ImageId"]) for i in images)
    image = centos_image(images)

    cloud.simulator.clear_calls()
    user_data = b"#!/bin/sh\necho hello\n"
    run = ec2.run_instances(ImageId=image["ImageId"], MinCount=1, MaxCount=1,
                            InstanceType="m1.small", UserData=user_data.decode(),
                            Placement={"AvailabilityZone": "zone1"},
                            TagSpecifications=[{"ResourceType": "instance",
                                                "Tags": [{"Key": "Name", "Value": "web-1"}]}])
    assert EC2_RESERVATION_ID.match(run["ReservationId"])
    assert len(run["Instances"]) == 1
    instance = run["Instances"][0]
    assert EC2_INSTANCE_ID.match(instance["InstanceId"])
    assert instance["ImageId"] == image["ImageId"]
    assert instance["InstanceType"] == "m1.small"
    assert instance["Placement"]["AvailabilityZone"] == "zone1"
    assert instance["State"]["Name"] == "running"

    deploys = calls(cloud, "deployVirtualMachine")
    assert len(deploys) == 1
    deploy = deploys[0]["params"]
    assert deploy["serviceofferingid"] == cloud.offerings()["Small Instance"]
    assert base64.b64decode(deploy["userdata"]) == user_data
    assert deploys[0]["apikey"] == "AKIDALICE0000000000001"
    # Signed requests expire, so a captured one cannot be replayed later.
    assert deploys[0]["params"]["signatureversion"] == "3"
    assert "expires" in deploys[0]["params"]

    instance_id = instance["InstanceId"]
    stored = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="userData")
    assert base64.b64decode(stored["UserData"]["Value"]) == user_data
    described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    assert described[0]["ReservationId"] == run["ReservationId"]
    assert described[0]["Instances"][0]["State"] == {"Code": 16, "Name": "running"}
    assert described[0]["Instances"][0]["Tags"] == [{"Key": "Name", "Value": "web-1"}]
    root = described[0]["Instances"][0]["BlockDeviceMappings"]
    assert [m["DeviceName"] for m in root] == ["/dev/sda1"]
    assert re.match(r"^vol-[0-9a-f]{17}$", root[0]["Ebs"]["VolumeId"])
    assert root[0]["Ebs"]["Status"] == "attached"
    vm_id = cloud.stores[0].cloudstack_ids("i", [instance_id])[instance_id]
    assert cloudstack_vm(cloud, vm_id)["state"] == "Running"

    stopped = ec2.stop_instances(InstanceIds=[instance_id])["StoppingInstances"][0]
    assert stopped["PreviousState"] == {"Code": 16, "Name": "running"}
    assert stopped["CurrentState"] == {"Code": 64, "Name": "stopping"}
    wait_for_instance_state(cloud, "alice", instance_id, "stopped")
    assert cloudstack_vm(cloud, vm_id)["state"] == "Stopped"

    started = ec2.start_instances(InstanceIds=[instance_id])["StartingInstances"][0]
    assert started["PreviousState"] == {"Code": 80, "Name": "stopped"}
    assert started["CurrentState"] == {"Code": 0, "Name": "pending"}
    wait_for_instance_state(cloud, "alice", instance_id, "running")
    assert cloudstack_vm(cloud, vm_id)["state"] == "Running"

    ec2.reboot_instances(InstanceIds=[instance_id])
    assert calls(cloud, "rebootVirtualMachine")[-1]["params"]["id"] == vm_id
    wait_for_instance_state(cloud, "alice", instance_id, "running")

    terminated = ec2.terminate_instances(InstanceIds=[instance_id])["TerminatingInstances"][0]
    assert terminated["PreviousState"] == {"Code": 16, "Name": "running"}
    assert terminated["CurrentState"] == {"Code": 32, "Name": "shutting-down"}
    wait_for(lambda: cloudstack_vm(cloud, vm_id)["state"] in ("Destroyed", "Expunging"),
             what="the VM to be destroyed")
    # EC2 keeps listing a terminated instance, although CloudStack hides it from alice.
    wait_for_instance_state(cloud, "alice", instance_id, "terminated")
    listed = [i["InstanceId"] for r in ec2.describe_instances(Filters=[
        {"Name": "instance-state-name", "Values": ["terminated"]}])["Reservations"]
        for i in r["Instances"]]
    assert instance_id in listed
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        ec2.start_instances(InstanceIds=[instance_id])
    assert raised.value.response["Error"]["Code"] == "IncorrectInstanceState"
    again = ec2.terminate_instances(InstanceIds=[instance_id])["TerminatingInstances"][0]
    assert again["CurrentState"]["Name"] == "terminated"


def test_boto2_lifecycle(cloud):
    conn = cloud.boto2("bob")

    zones = conn.get_all_zones()
    assert sorted(z.name for z in zones) == ["zone1", "zone2"]
    image = next(i for i in conn.get_all_images() if "CentOS" in i.name)

    reservation = conn.run_instances(image.id, min_count=2, max_count=2,
                                     instance_type="m1.small", placement="zone1")
    assert EC2_RESERVATION_ID.match(reservation.id)
    assert len(reservation.instances) == 2
    ids = [i.id for i in reservation.instances]
    assert all(EC2_INSTANCE_ID.match(i) for i in ids)
    assert sorted(i.ami_launch_index for i in reservation.instances) == ["0", "1"]

    found = conn.get_all_instances(instance_ids=ids)
    assert [r.id for r in found] == [reservation.id]
    assert sorted(i.id for i in found[0].instances) == sorted(ids)
    assert {i.state for i in found[0].instances} == {"running"}

    by_filter = conn.get_all_instances(filters={"instance-state-name": "running",
                                                "image-id": image.id})
    assert sorted(i.id for r in by_filter for i in r.instances) == sorted(ids)

    stopped = conn.stop_instances(instance_ids=ids)
    assert {i.state for i in stopped} == {"stopping"}
    for instance_id in ids:
        wait_for_instance_state(cloud, "bob", instance_id, "stopped")
    started = conn.start_instances(instance_ids=ids)
    assert {i.state for i in started} == {"pending"}
    for instance_id in ids:
        wait_for_instance_state(cloud, "bob", instance_id, "running")
    assert conn.reboot_instances(instance_ids=ids) is True
    for instance_id in ids:
        wait_for_instance_state(cloud, "bob", instance_id, "running")
    terminated = conn.terminate_instances(instance_ids=ids)
    assert {i.state for i in terminated} == {"shutting-down"}
    for instance_id in ids:
        wait_for_instance_state(cloud, "bob", instance_id, "terminated")


def test_awscli_lifecycle(cloud):
    zones = json.loads(cloud.aws("alice", "describe-availability-zones").stdout)
    assert sorted(z["ZoneName"] for z in zones["AvailabilityZones"]) == ["zone1", "zone2"]

    images = json.loads(cloud.aws("alice", "describe-images").stdout)["Images"]
    image_id = centos_image(images)["ImageId"]

    run = json.loads(cloud.aws("alice", "run-instances", "--image-id", image_id,
                               "--instance-type", "m1.large", "--count", "1",
                               "--placement", "AvailabilityZone=zone1").stdout)
    instance_id = run["Instances"][0]["InstanceId"]
    assert EC2_INSTANCE_ID.match(instance_id)
    assert run["Instances"][0]["InstanceType"] == "m1.large"
    assert calls(cloud, "deployVirtualMachine")[-1]["params"]["serviceofferingid"] == \
        cloud.offerings()["Medium Instance"]

    described = json.loads(cloud.aws("alice", "describe-instances", "--instance-ids",
                                     instance_id).stdout)
    assert described["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"

    stopped = json.loads(cloud.aws("alice", "stop-instances", "--instance-ids",
                                   instance_id).stdout)
    assert stopped["StoppingInstances"][0]["CurrentState"]["Name"] == "stopping"
    wait_for_instance_state(cloud, "alice", instance_id, "stopped")
    started = json.loads(cloud.aws("alice", "start-instances", "--instance-ids",
                                   instance_id).stdout)
    assert started["StartingInstances"][0]["CurrentState"]["Name"] == "pending"
    wait_for_instance_state(cloud, "alice", instance_id, "running")
    terminated = json.loads(cloud.aws("alice", "terminate-instances", "--instance-ids",
                                      instance_id).stdout)
    assert terminated["TerminatingInstances"][0]["CurrentState"]["Name"] == "shutting-down"


def test_libcloud_lifecycle(cloud):
    from libcloud.compute.base import NodeImage, NodeSize
    from libcloud.compute.types import NodeState

    driver = cloud.libcloud("bob")
    images = driver.list_images()
    image = next(i for i in images if "CentOS" in (i.name or ""))
    assert EC2_IMAGE_ID.match(image.id)

    size = NodeSize(id="m1.small", name="m1.small", ram=512, disk=10, bandwidth=None,
                    price=None, driver=driver)
    node = driver.create_node(name="web1", image=NodeImage(id=image.id, name=None,
                                                            driver=driver), size=size)
    assert EC2_INSTANCE_ID.match(node.id)

    nodes = {n.id: n for n in driver.list_nodes()}
    assert nodes[node.id].state == NodeState.RUNNING
    # libcloud names a node by its Name tag, which create_node sets.
    assert nodes[node.id].name == "web1"

    def state():
        return {n.id: n.state for n in driver.list_nodes()}.get(node.id)

    assert driver.ex_stop_node(nodes[node.id]) is True
    wait_for(lambda: state() == NodeState.STOPPED, what="the node to stop")
    assert driver.ex_start_node(nodes[node.id]) is True
    wait_for(lambda: state() == NodeState.RUNNING, what="the node to start")
    assert driver.reboot_node(nodes[node.id]) is True
    wait_for(lambda: state() == NodeState.RUNNING, what="the node to reboot")
    assert driver.destroy_node(nodes[node.id]) is True
    wait_for(lambda: state() == NodeState.TERMINATED, what="the node to terminate")


@pytest.mark.parametrize("client", ["boto3", "boto2"])
def test_instance_filters(cloud, client):
    ec2 = cloud.boto3("alice")
    image_id = centos_image(ec2.describe_images()["Images"])["ImageId"]
    run = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="m1.small",
                            Placement={"AvailabilityZone": "zone1"})
    instance = run["Instances"][0]
    instance_id = instance["InstanceId"]
    cases = {
        "availability-zone": "zone1",
        "hypervisor": instance["Hypervisor"],
        "image-id": image_id,
        "instance-id": instance_id,
        "instance-type": "m1.small",
        "instance-state-code": "16",
        "instance-state-name": "running",
        "ip-address": instance["PublicIpAddress"],
        "owner-id": run["OwnerId"],
        "root-device-name": "/dev/sda1",
    }
    for name, value in cases.items():
        if client == "boto3":
            found = [i["InstanceId"] for r in ec2.describe_instances(
                Filters=[{"Name": name, "Values": [value]}])["Reservations"]
                for i in r["Instances"]]
        else:
            found = [i.id for r in cloud.boto2("alice").get_all_instances(
                filters={name: value}) for i in r.instances]
        assert instance_id in found, name
    none = ec2.describe_instances(Filters=[{"Name": "instance-state-name",
                                            "Values": ["stopped"]}])["Reservations"]
    assert instance_id not in [i["InstanceId"] for r in none for i in r["Instances"]]
    ec2.terminate_instances(InstanceIds=[instance_id])


def test_expunged_instance_stays_terminated(cloud):
    ec2 = cloud.boto3("alice")
    image_id = centos_image(ec2.describe_images()["Images"])["ImageId"]
    instance_id = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                    InstanceType="m1.small")["Instances"][0]["InstanceId"]
    vm_id = cloud.stores[0].cloudstack_ids("i", [instance_id])[instance_id]
    ec2.terminate_instances(InstanceIds=[instance_id])
    wait_for_instance_state(cloud, "alice", instance_id, "terminated")
    wait_for(lambda: cloudstack_vm(cloud, vm_id)["state"] == "Destroyed",
             what="the VM to be destroyed")
    cloud.cloudstack("admin").run_job("expungeVirtualMachine", id=vm_id)
    every_vm = cloud.cloudstack("admin").list("listVirtualMachines", "virtualmachine",
                                               listall=True)
    assert vm_id not in {vm["id"] for vm in every_vm}

    described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    assert described[0]["Instances"][0]["State"]["Name"] == "terminated"
    again = ec2.terminate_instances(InstanceIds=[instance_id])["TerminatingInstances"][0]
    assert again["CurrentState"]["Name"] == "terminated"
