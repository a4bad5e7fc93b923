"""A CloudStack slower than CloudBridge's configured wait for async jobs."""

import threading
import time

import botocore.exceptions
import pytest

from tests.databases import sqlite_config
from tests.harness import Cloud, wait_for_instance_state


@pytest.fixture(scope="module")
def slow_cloud(tmp_path_factory):
    # Jobs take 2 s; CloudBridge waits at most 0.3 s for one.
    cloud = Cloud(sqlite_config(tmp_path_factory.mktemp("store")), job_delay=2.0,
                  job_timeout=0.3)
    cloud.register_users()
    cloud.map_offering("m1.small", cloud.offerings()["Small Instance"])
    yield cloud
    cloud.stop()


def test_run_instances_answers_pending_after_wait(slow_cloud):
    ec2 = slow_cloud.boto3("alice")
    image_id = next(i["ImageId"] for i in ec2.describe_images()["Images"]
                    if "CentOS" in i["Name"])
    run = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="m1.small")
    instance = run["Instances"][0]
    assert instance["State"] == {"Code": 0, "Name": "pending"}
    wait_for_instance_state(slow_cloud, "alice", instance["InstanceId"], "running")
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])


def test_terminating_instance_is_shutting_down(slow_cloud):
    ec2 = slow_cloud.boto3("alice")
    image_id = next(i["ImageId"] for i in ec2.describe_images()["Images"]
                    if "CentOS" in i["Name"])
    instance_id = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                    InstanceType="m1.small")["Instances"][0]["InstanceId"]
    wait_for_instance_state(slow_cloud, "alice", instance_id, "running")

    ec2.terminate_instances(InstanceIds=[instance_id])
    # CloudStack shows the VM as Stopping while its destroy job runs.
    described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    assert described[0]["Instances"][0]["State"] == {"Code": 32, "Name": "shutting-down"}
    wait_for_instance_state(slow_cloud, "alice", instance_id, "terminated")


@pytest.fixture(scope="module")
def patient_cloud(tmp_path_factory):
    # Jobs take 2 s; CloudBridge would wait 15 s for them.
    cloud = Cloud(sqlite_config(tmp_path_factory.mktemp("store")), job_delay=2.0,
                  job_timeout=15.0)
    cloud.register_users()
    cloud.map_offering("m1.small", cloud.offerings()["Small Instance"])
    yield cloud
    cloud.stop()


def test_retry_after_cloudstack_outage_launches_once(patient_cloud):
    ec2 = patient_cloud.boto3("alice")
    image_id = next(i["ImageId"] for i in ec2.describe_images()["Images"]
                    if "CentOS" in i["Name"])
    patient_cloud.simulator.clear_calls()

    def outage():
        # CloudStack goes away while RunInstances waits for its deploy job.
        time.sleep(0.5)
        patient_cloud.simulator.stop()

    threading.Thread(target=outage).start()
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="m1.small",
                          ClientToken="outage-token")
    assert raised.value.response["Error"]["Code"] == "Unavailable"
    patient_cloud.simulator.start()

    retried = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                InstanceType="m1.small", ClientToken="outage-token")
    deploys = [c for c in patient_cloud.simulator.calls
               if c["command"] == "deployVirtualMachine"]
    assert len(deploys) == 1
    assert len(retried["Instances"]) == 1
    wait_for_instance_state(patient_cloud, "alice", retried["Instances"][0]["InstanceId"],
                            "running")
