"""GetPasswordData through boto3 and boto 2, against CloudStack's getVMPassword."""

import base64

import boto.exception
import botocore.exceptions
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.harness import error_code, signed_query

UNKNOWN_INSTANCE = "i-0123456789abcdef0"


def image_named(ec2, text):
    return next(i["ImageId"] for i in ec2.describe_images()["Images"] if text in i["Name"])


def vm_id_of(cloud, instance_id):
    return cloud.stores[0].cloudstack_ids("i", [instance_id])[instance_id]


@pytest.fixture(scope="module")
def launched(cloud):
    """Alice's instances: one with a password and her key pair, one without a password."""
    ec2 = cloud.boto3("alice")
    key = ec2.create_key_pair(KeyName="password-key")
    with_password = ec2.run_instances(
        ImageId=image_named(ec2, "password enabled"), MinCount=1, MaxCount=1,
        InstanceType="m1.small", KeyName="password-key",
        Placement={"AvailabilityZone": "zone1"})["Instances"][0]["InstanceId"]
    without_password = ec2.run_instances(
        ImageId=image_named(ec2, "CentOS"), MinCount=1, MaxCount=1, InstanceType="m1.small",
        KeyName="password-key", Placement={"AvailabilityZone": "zone1"}
    )["Instances"][0]["InstanceId"]
    yield {"key": key, "with_password": with_password, "without_password": without_password}
    ec2.terminate_instances(InstanceIds=[with_password, without_password])
    ec2.delete_key_pair(KeyName="password-key")


def decrypt(private_key_pem, password_data):
    key = serialization.load_pem_private_key(private_key_pem.encode(), None)
    return key.decrypt(base64.b64decode(password_data), padding.PKCS1v15()).decode()


def test_boto3_password_data(cloud, launched):
    instance_id = launched["with_password"]
    data = cloud.boto3("alice").get_password_data(InstanceId=instance_id)
    assert data["InstanceId"] == instance_id
    assert data["Timestamp"].year >= 2013
    stored = cloud.cloudstack("alice").request(
        "getVMPassword", id=vm_id_of(cloud, instance_id))["password"]["encryptedpassword"]
    assert data["PasswordData"] == stored
    password = decrypt(launched["key"]["KeyMaterial"], data["PasswordData"])
    assert password and password.isprintable()


def test_boto2_password_data(cloud, launched):
    instance_id = launched["with_password"]
    password_data = cloud.boto2("alice").get_password_data(instance_id)
    password = decrypt(launched["key"]["KeyMaterial"], password_data)
    assert password == decrypt(launched["key"]["KeyMaterial"], cloud.boto3(
        "alice").get_password_data(InstanceId=instance_id)["PasswordData"])


def test_instance_without_password(cloud, launched):
    instance_id = launched["without_password"]
    data = cloud.boto3("alice").get_password_data(InstanceId=instance_id)
    assert data["InstanceId"] == instance_id
    assert data["PasswordData"] == ""
    assert cloud.boto2("alice").get_password_data(instance_id) == ""
    calls = [c for c in cloud.simulator.calls if c["command"] == "getVMPassword"]
    assert calls[-1]["params"]["id"] == vm_id_of(cloud, instance_id)


def test_unknown_instance(cloud, launched):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        cloud.boto3("alice").get_password_data(InstanceId=UNKNOWN_INSTANCE)
    assert raised.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(boto.exception.EC2ResponseError) as raised:
        cloud.boto2("alice").get_password_data(UNKNOWN_INSTANCE)
    assert raised.value.error_code == "InvalidInstanceID.NotFound"


def test_other_accounts_instance(cloud, launched):
    before = len([c for c in cloud.simulator.calls if c["command"] == "getVMPassword"])
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        cloud.boto3("bob").get_password_data(InstanceId=launched["with_password"])
    assert raised.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"
    after = len([c for c in cloud.simulator.calls if c["command"] == "getVMPassword"])
    assert after == before


def test_missing_instance_id(cloud):
    response = signed_query(cloud, "alice", {"Action": "GetPasswordData"})
    assert response.status_code == 400
    assert error_code(response) == "MissingParameter"
