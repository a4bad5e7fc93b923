"""Bad input gets the right EC2 error, and a failed call leaves nothing behind."""

import datetime

import botocore.exceptions
import pytest
import requests

from tests.harness import USERS, User, error_code, signed_query

UNKNOWN_INSTANCE = "i-0123456789abcdef0"
UNKNOWN_IMAGE = "ami-0123456789abcdef0"


def image_id(cloud):
    images = cloud.boto3("alice").describe_images()["Images"]
    return next(i["ImageId"] for i in images if "CentOS" in i["Name"])


def live_vms(cloud, user="alice"):
    """The user's VMs that CloudStack still lists (not destroyed)."""
    return cloud.cloudstack(user).list("listVirtualMachines", "virtualmachine", listall=True)


def deploy_calls(cloud):
    return [c for c in cloud.simulator.calls if c["command"] == "deployVirtualMachine"]


def test_missing_action(cloud):
    response = requests.get(cloud.endpoint(), timeout=30)
    assert response.status_code == 400
    assert error_code(response) == "MissingParameter"
    assert response.headers["Content-Type"].startswith("text/xml")


def test_unknown_action(cloud):
    response = signed_query(cloud, "alice", {"Action": "DescribeSpotPriceHistory"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidAction"


def test_unknown_path_is_xml(cloud):
    response = requests.get(cloud.bridge.url + "/bridge/nothing-here", timeout=30)
    assert response.status_code == 404
    assert error_code(response) == "NotFound"


def test_bad_signature(cloud):
    response = signed_query(cloud, "alice", {"Action": "DescribeInstances"},
                            secret="not-the-secret")
    assert response.status_code == 403
    assert error_code(response) == "SignatureDoesNotMatch"


def test_stale_timestamp(cloud):
    stale = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    response = signed_query(cloud, "alice", {"Action": "DescribeInstances"}, timestamp=stale)
    assert response.status_code == 400
    assert error_code(response) == "RequestExpired"


def test_unknown_access_key(cloud):
    stranger = User("stranger", "AKIDUNKNOWN000000001", "whatever")
    response = signed_query(cloud, stranger, {"Action": "DescribeInstances"})
    assert response.status_code == 401
    assert error_code(response) == "AuthFailure"


def test_unknown_instance_id(cloud):
    ec2 = cloud.boto3("alice")
    for call in (lambda: ec2.describe_instances(InstanceIds=[UNKNOWN_INSTANCE]),
                 lambda: ec2.terminate_instances(InstanceIds=[UNKNOWN_INSTANCE]),
                 lambda: ec2.stop_instances(InstanceIds=[UNKNOWN_INSTANCE]),
                 lambda: ec2.reboot_instances(InstanceIds=[UNKNOWN_INSTANCE])):
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            call()
        assert raised.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_other_users_instance_is_not_found(cloud):
    ec2 = cloud.boto3("alice")
    run = ec2.run_instances(ImageId=image_id(cloud), MinCount=1, MaxCount=1,
                            InstanceType="m1.small")
    instance_id = run["Instances"][0]["InstanceId"]
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        cloud.boto3("bob").terminate_instances(InstanceIds=[instance_id])
    assert raised.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"
    assert ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0][
        "Instances"][0]["State"]["Name"] == "running"
    ec2.terminate_instances(InstanceIds=[instance_id])


def test_unknown_image(cloud):
    before = len(deploy_calls(cloud))
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        cloud.boto3("alice").run_instances(ImageId=UNKNOWN_IMAGE, MinCount=1, MaxCount=1)
    assert raised.value.response["Error"]["Code"] == "InvalidAMIID.NotFound"
    assert len(deploy_calls(cloud)) == before


def test_unmapped_instance_type(cloud):
    before = len(deploy_calls(cloud))
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        cloud.boto3("alice").run_instances(ImageId=image_id(cloud), MinCount=1, MaxCount=1,
                                           InstanceType="m2.4xlarge")
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "m2.4xlarge" in raised.value.response["Error"]["Message"]
    assert len(deploy_calls(cloud)) == before


def test_client_token_is_idempotent_across_servers(cloud):
    second = cloud.servers[1] if len(cloud.servers) > 1 else cloud.add_server()
    image = image_id(cloud)
    first = cloud.boto3("alice").run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                               InstanceType="m1.small", ClientToken="token-1")
    deploys = len(deploy_calls(cloud))
    again = cloud.boto3("alice", server=second).run_instances(
        ImageId=image, MinCount=1, MaxCount=1, InstanceType="m1.small", ClientToken="token-1")
    assert again["ReservationId"] == first["ReservationId"]
    assert [i["InstanceId"] for i in again["Instances"]] == \
        [i["InstanceId"] for i in first["Instances"]]
    assert len(deploy_calls(cloud)) == deploys

    with pytest.raises(botocore.exceptions.ClientError) as raised:
        cloud.boto3("alice").run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                           InstanceType="m1.large", ClientToken="token-1")
    assert raised.value.response["Error"]["Code"] == "IdempotentParameterMismatch"
    assert len(deploy_calls(cloud)) == deploys
    cloud.boto3("alice").terminate_instances(
        InstanceIds=[i["InstanceId"] for i in first["Instances"]])


def test_two_servers_agree_on_ids(cloud):
    second = cloud.servers[1] if len(cloud.servers) > 1 else cloud.add_server()
    first_view = cloud.boto3("bob").describe_images()["Images"]
    second_view = cloud.boto3("bob", server=second).describe_images()["Images"]
    assert sorted(i["ImageId"] for i in first_view) == sorted(i["ImageId"] for i in second_view)


def test_cloudstack_down(cloud):
    cloud.simulator.stop()
    try:
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            cloud.boto3("alice").describe_instances()
        assert raised.value.response["Error"]["Code"] == "Unavailable"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    finally:
        cloud.simulator.start()
    cloud.boto3("alice").describe_instances()


def test_failed_async_job_leaves_nothing(cloud):
    before = {vm["id"] for vm in live_vms(cloud)}
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        cloud.boto3("alice").run_instances(ImageId=image_id(cloud), MinCount=1, MaxCount=2,
                                           InstanceType="c1.xlarge", ClientToken="huge-1")
    assert raised.value.response["Error"]["Code"] == "InsufficientInstanceCapacity"
    assert {vm["id"] for vm in live_vms(cloud)} == before
    # The token was released with the failed launch: it can be used again.
    retry = cloud.boto3("alice").run_instances(ImageId=image_id(cloud), MinCount=1,
                                               MaxCount=1, InstanceType="m1.small",
                                               ClientToken="huge-1")
    cloud.boto3("alice").terminate_instances(
        InstanceIds=[i["InstanceId"] for i in retry["Instances"]])


def test_offer_mapping_is_admin_only(cloud):
    response = signed_query(cloud, "alice", {"Action": "SetOfferMapping",
                                             "amazonoffer": "m1.small",
                                             "cloudoffer": cloud.offerings()["Large Instance"]})
    assert response.status_code == 403
    assert error_code(response) == "UnauthorizedOperation"


def test_offer_mapping_needs_existing_offering(cloud):
    response = signed_query(cloud, "admin", {"Action": "SetOfferMapping",
                                             "amazonoffer": "m2.xlarge",
                                             "cloudoffer": "no-such-offering"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterValue"


def test_set_user_keys_checks_keys_with_cloudstack(cloud):
    response = requests.post(cloud.endpoint(), data={
        "Action": "SetUserKeys", "Version": "2010-11-15",
        "accesskey": USERS["alice"].access_key, "secretkey": "wrong-secret"}, timeout=30)
    assert response.status_code == 401
    assert error_code(response) == "AuthFailure"
    # The stored secret is unchanged: alice still works.
    cloud.boto3("alice").describe_availability_zones()


def test_cloud_ec2_version(cloud):
    response = requests.get(cloud.bridge.url + "/bridge", params={
        "Action": "CloudEC2Version", "Version": "2010-11-15"}, timeout=30)
    assert response.status_code == 200
    assert b"<version>test</version>" in response.content
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


def test_unknown_security_group(cloud):
    before = len(deploy_calls(cloud))
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        cloud.boto3("alice").run_instances(ImageId=image_id(cloud), MinCount=1, MaxCount=1,
                                           InstanceType="m1.small", SecurityGroups=["nosuch"])
    assert raised.value.response["Error"]["Code"] == "InvalidGroup.NotFound"
    assert "nosuch" in raised.value.response["Error"]["Message"]
    assert len(deploy_calls(cloud)) == before


def test_unsupported_tag_specification(cloud):
    before = len(deploy_calls(cloud))
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        cloud.boto3("alice").run_instances(
            ImageId=image_id(cloud), MinCount=1, MaxCount=1, InstanceType="m1.small",
            TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "a", "Value": "b"}]}])
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert len(deploy_calls(cloud)) == before


def test_image_not_in_zone(cloud):
    images = cloud.boto3("alice").describe_images()["Images"]
    debian = next(i["ImageId"] for i in images if "Debian" in i["Name"])
    before = len(deploy_calls(cloud))
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        cloud.boto3("alice").run_instances(ImageId=debian, MinCount=1, MaxCount=1,
                                           InstanceType="m1.small",
                                           Placement={"AvailabilityZone": "zone2"})
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    message = raised.value.response["Error"]["Message"]
    assert debian in message
    assert "zone1" in message
    assert len(deploy_calls(cloud)) == before
