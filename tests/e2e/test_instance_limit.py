"""RunInstances against CloudStack's per-account VM limit (20 in the simulator)."""

import botocore.exceptions
import pytest

from tests.databases import sqlite_config
from tests.harness import Cloud

VM_LIMIT = 20


@pytest.fixture(scope="module")
def limited_cloud(tmp_path_factory):
    cloud = Cloud(sqlite_config(tmp_path_factory.mktemp("store")))
    cloud.register_users()
    cloud.map_offering("m1.small", cloud.offerings()["Small Instance"])
    yield cloud
    cloud.stop()


def live_vm_count(cloud):
    return len(cloud.cloudstack("bob").list("listVirtualMachines", "virtualmachine"))


def test_max_count_trimmed_to_limit(limited_cloud):
    ec2 = limited_cloud.boto3("bob")
    image_id = next(i["ImageId"] for i in ec2.describe_images()["Images"]
                    if "CentOS" in i["Name"])
    ec2.run_instances(ImageId=image_id, MinCount=VM_LIMIT - 2, MaxCount=VM_LIMIT - 2,
                      InstanceType="m1.small")

    trimmed = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=5,
                                InstanceType="m1.small")
    assert len(trimmed["Instances"]) == 2
    assert live_vm_count(limited_cloud) == VM_LIMIT

    with pytest.raises(botocore.exceptions.ClientError) as raised:
        ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="m1.small")
    assert raised.value.response["Error"]["Code"] == "InstanceLimitExceeded"
    assert live_vm_count(limited_cloud) == VM_LIMIT


def test_min_count_above_limit_leaves_nothing(limited_cloud):
    ec2 = limited_cloud.boto3("bob")
    instance_ids = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"]
                    for i in r["Instances"]]
    ec2.terminate_instances(InstanceIds=instance_ids[:2])
    image_id = next(i["ImageId"] for i in ec2.describe_images()["Images"]
                    if "CentOS" in i["Name"])
    before = live_vm_count(limited_cloud)

    with pytest.raises(botocore.exceptions.ClientError) as raised:
        ec2.run_instances(ImageId=image_id, MinCount=3, MaxCount=3, InstanceType="m1.small")
    assert raised.value.response["Error"]["Code"] == "InstanceLimitExceeded"
    assert "MinCount" in raised.value.response["Error"]["Message"]
    assert live_vm_count(limited_cloud) == before
