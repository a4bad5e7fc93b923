"""Volumes through boto3, boto 2 and raw queries, checked against CloudStack's state."""

import re

import pytest

from tests.harness import (boto2_code, boto3_code, calls, cloudstack_id,
                           error_code, signed_query, xml_text)

GIB = 2 ** 30
EC2_VOLUME_ID = re.compile(r"^vol-[0-9a-f]{17}$")
UNKNOWN_VOLUME = "vol-0123456789abcdef0"


def cloudstack_volume(cloud, volume_id, user="alice"):
    """The volume as CloudStack lists it for its owner, or None once it is deleted."""
    found = cloud.cloudstack(user).list("listVolumes", "volume", listall=True)
    by_id = {v["id"]: v for v in found}
    return by_id.get(cloudstack_id(cloud, volume_id))


def run_instance(cloud, user, zone):
    ec2 = cloud.boto3(user)
    images = ec2.describe_images()["Images"]
    image = next(i["ImageId"] for i in images if "CentOS" in i["Name"])
    run = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                            Placement={"AvailabilityZone": zone})
    return run["Instances"][0]["InstanceId"]


@pytest.fixture(scope="module")
def instance(cloud):
    """A running instance of alice's in zone1."""
    return run_instance(cloud, "alice", "zone1")


@pytest.fixture(scope="module")
def fleet(cloud, instance):
    """Volumes for the filter tests: attached, available in zone2, and made from a snapshot."""
    ec2 = cloud.boto3("alice")
    attached = ec2.create_volume(Size=1, AvailabilityZone="zone1")["VolumeId"]
    ec2.attach_volume(VolumeId=attached, InstanceId=instance, Device="/dev/sdc")
    spare = ec2.create_volume(Size=2, AvailabilityZone="zone2")["VolumeId"]
    snapshot = ec2.create_snapshot(VolumeId=attached)["SnapshotId"]
    restored = ec2.create_volume(SnapshotId=snapshot, AvailabilityZone="zone1")["VolumeId"]
    return {"attached": attached, "spare": spare, "restored": restored, "snapshot": snapshot}


# Lifecycle

def test_boto3_volume_lifecycle(cloud, instance):
    ec2 = cloud.boto3("alice")
    cloud.simulator.clear_calls()
    created = ec2.create_volume(Size=5, AvailabilityZone="zone1")
    volume_id = created["VolumeId"]
    assert EC2_VOLUME_ID.match(volume_id)
    assert created["Size"] == 5
    assert created["AvailabilityZone"] == "zone1"
    assert created["State"] == "available"
    assert created["SnapshotId"] == ""
    sent = calls(cloud, "createVolume")[0]["params"]
    assert sent["size"] == "5"
    custom = [o for o in cloud.cloudstack("alice").list("listDiskOfferings", "diskoffering")
              if o["iscustomized"]]
    assert sent["diskofferingid"] == custom[0]["id"]
    volume = cloudstack_volume(cloud, volume_id)
    assert volume["size"] == 5 * GIB
    assert volume["zonename"] == "zone1"
    assert volume["type"] == "DATADISK"

    described = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"]
    assert len(described) == 1
    assert described[0]["State"] == "available"
    assert described[0]["Attachments"] == []
    assert described[0]["CreateTime"] == created["CreateTime"]

    cloud.simulator.clear_calls()
    attached = ec2.attach_volume(VolumeId=volume_id, InstanceId=instance, Device="/dev/sdb")
    assert attached["VolumeId"] == volume_id
    assert attached["InstanceId"] == instance
    assert attached["Device"] == "/dev/sdb"
    assert attached["State"] == "attached"
    assert calls(cloud, "attachVolume")[0]["params"]["deviceid"] == "1"
    volume = cloudstack_volume(cloud, volume_id)
    assert volume["virtualmachineid"] == cloudstack_id(cloud, instance)
    assert volume["deviceid"] == 1

    item = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
    assert item["State"] == "in-use"
    assert len(item["Attachments"]) == 1
    attachment = item["Attachments"][0]
    assert attachment["InstanceId"] == instance
    assert attachment["Device"] == "/dev/sdb"
    assert attachment["State"] == "attached"
    assert attachment["DeleteOnTermination"] is False

    detached = ec2.detach_volume(VolumeId=volume_id, InstanceId=instance)
    assert detached["InstanceId"] == instance
    assert detached["Device"] == "/dev/sdb"
    assert "virtualmachineid" not in cloudstack_volume(cloud, volume_id)
    assert ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["State"] == "available"

    ec2.delete_volume(VolumeId=volume_id)
    assert cloudstack_volume(cloud, volume_id) is None


def test_boto2_volume_lifecycle(cloud, instance):
    conn = cloud.boto2("alice")
    volume = conn.create_volume(3, "zone1")
    assert EC2_VOLUME_ID.match(volume.id)
    assert volume.size == 3
    assert volume.zone == "zone1"
    assert volume.status == "available"
    assert cloudstack_volume(cloud, volume.id)["size"] == 3 * GIB

    cloud.simulator.clear_calls()
    assert conn.attach_volume(volume.id, instance, "xvdg") == "attached"
    assert calls(cloud, "attachVolume")[0]["params"]["deviceid"] == "6"
    found = conn.get_all_volumes(volume_ids=[volume.id])
    assert [v.id for v in found] == [volume.id]
    assert found[0].status == "in-use"
    assert found[0].attach_data.instance_id == instance
    assert found[0].attach_data.device == "/dev/sdg"
    assert found[0].attach_data.status == "attached"

    assert conn.detach_volume(volume.id) == "detached"
    assert "virtualmachineid" not in cloudstack_volume(cloud, volume.id)
    assert conn.delete_volume(volume.id) is True
    assert cloudstack_volume(cloud, volume.id) is None


def test_root_volume_is_shown(cloud, instance):
    volumes = cloud.boto3("alice").describe_volumes(Filters=[
        {"Name": "attachment.instance-id", "Values": [instance]},
        {"Name": "attachment.device", "Values": ["/dev/sda1"]}])["Volumes"]
    assert len(volumes) == 1
    root = volumes[0]
    assert root["State"] == "in-use"
    assert root["Attachments"][0]["DeleteOnTermination"] is True
    assert cloudstack_volume(cloud, root["VolumeId"])["type"] == "ROOT"


def test_create_from_snapshot(cloud, fleet):
    ec2 = cloud.boto3("alice")
    item = ec2.describe_volumes(VolumeIds=[fleet["restored"]])["Volumes"][0]
    assert item["SnapshotId"] == fleet["snapshot"]
    assert item["Size"] == 1
    volume = cloudstack_volume(cloud, fleet["restored"])
    assert volume["snapshotid"] == cloudstack_id(cloud, fleet["snapshot"])

    conn = cloud.boto2("alice")
    same_size = conn.create_volume(1, "zone1", snapshot=fleet["snapshot"])
    assert same_size.snapshot_id == fleet["snapshot"]
    assert cloudstack_volume(cloud, same_size.id)["size"] == GIB
    assert conn.delete_volume(same_size.id) is True


@pytest.mark.parametrize("device,device_id", [("/dev/xvde", 4), ("sdj", 9)])
def test_attach_device_names(cloud, instance, device, device_id):
    ec2 = cloud.boto3("alice")
    volume_id = ec2.create_volume(Size=1, AvailabilityZone="zone1")["VolumeId"]
    ec2.attach_volume(VolumeId=volume_id, InstanceId=instance, Device=device)
    assert cloudstack_volume(cloud, volume_id)["deviceid"] == device_id
    ec2.detach_volume(VolumeId=volume_id, Device=device)
    ec2.delete_volume(VolumeId=volume_id)


def test_describe_makes_one_listing(cloud, fleet):
    cloud.simulator.clear_calls()
    volumes = cloud.boto3("alice").describe_volumes()["Volumes"]
    assert len(volumes) >= 4
    assert [c["command"] for c in cloud.simulator.calls] == ["listVolumes"]


def test_base_version_shape(cloud, fleet):
    response = signed_query(cloud, "alice", {"Action": "DescribeVolumes",
                                             "VolumeId.1": fleet["spare"]})
    assert response.status_code == 200, response.text
    assert xml_text(response.content, "./volumeSet/item/volumeId") == [fleet["spare"]]
    assert xml_text(response.content, "./volumeSet/item/snapshotId") == [None]
    assert xml_text(response.content, "./volumeSet/item/size") == ["2"]


# Filters

def test_filter_values(cloud, instance, fleet):
    ec2 = cloud.boto3("alice")
    cases = [
        ("attachment.device", ["/dev/sdc"], {"attached"}),
        ("attachment.instance-id", [instance], {"attached"}),
        ("attachment.status", ["attached"], {"attached"}),
        ("attachment.delete-on-termination", ["false"], {"attached"}),
        ("availability-zone", ["zone2"], {"spare"}),
        ("size", ["2"], {"spare"}),
        ("snapshot-id", [fleet["snapshot"]], {"restored"}),
        ("status", ["available"], {"spare", "restored"}),
        ("volume-id", [fleet["spare"], fleet["restored"]], {"spare", "restored"}),
    ]
    names = {volume_id: name for name, volume_id in fleet.items()}
    for name, values, expected in cases:
        found = ec2.describe_volumes(Filters=[{"Name": name, "Values": values}])["Volumes"]
        assert {names[v["VolumeId"]] for v in found if v["VolumeId"] in names} == expected, name


def test_filter_times(cloud, fleet):
    """The fleet is made within a second or two, so a time names a volume but not only it."""
    ec2 = cloud.boto3("alice")
    attached = ec2.describe_volumes(VolumeIds=[fleet["attached"]])["Volumes"][0]
    restored = ec2.describe_volumes(VolumeIds=[fleet["restored"]])["Volumes"][0]
    attach_time = attached["Attachments"][0]["AttachTime"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
    create_time = restored["CreateTime"].strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def found(name, value):
        volumes = ec2.describe_volumes(Filters=[{"Name": name, "Values": [value]}])["Volumes"]
        return {v["VolumeId"] for v in volumes}

    assert fleet["attached"] in found("attachment.attach-time", attach_time)
    assert fleet["spare"] not in found("attachment.attach-time", attach_time)
    assert found("attachment.attach-time", "2001-01-01T00:00:00.000Z") == set()
    assert fleet["restored"] in found("create-time", create_time)
    assert found("create-time", "2001-01-01T00:00:00.000Z") == set()
    assert fleet["restored"] in found("create-time", create_time[:4] + "-*")


def test_boto2_filter(cloud, fleet):
    found = cloud.boto2("alice").get_all_volumes(filters={"size": "2",
                                                          "availability-zone": "zone2"})
    assert [v.id for v in found] == [fleet["spare"]]


def test_unknown_filter(cloud):
    assert boto3_code(cloud.boto3("alice").describe_volumes,
                      Filters=[{"Name": "volume-type", "Values": ["gp2"]}]) == \
        "InvalidParameterValue"


# Errors

def test_describe_unknown_volume(cloud, fleet):
    assert boto3_code(cloud.boto3("alice").describe_volumes,
                      VolumeIds=[fleet["spare"], UNKNOWN_VOLUME]) == "InvalidVolume.NotFound"
    assert boto2_code(cloud.boto2("alice").get_all_volumes,
                      volume_ids=[UNKNOWN_VOLUME]) == "InvalidVolume.NotFound"
    assert boto3_code(cloud.boto3("alice").describe_volumes,
                      VolumeIds=["not-a-volume"]) == "InvalidVolume.NotFound"


def test_other_accounts_volume_not_found(cloud, fleet):
    ec2 = cloud.boto3("bob")
    assert boto3_code(ec2.describe_volumes,
                      VolumeIds=[fleet["spare"]]) == "InvalidVolume.NotFound"
    assert boto3_code(ec2.delete_volume, VolumeId=fleet["spare"]) == "InvalidVolume.NotFound"
    assert fleet["spare"] not in {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}
    assert cloudstack_volume(cloud, fleet["spare"]) is not None


CREATE_ERRORS = [
    ({"Size": 1}, "MissingParameter"),
    ({"AvailabilityZone": "zone1"}, "MissingParameter"),
    ({"Size": 1, "AvailabilityZone": "zone9"}, "InvalidParameterValue"),
    ({"Size": 0, "AvailabilityZone": "zone1"}, "InvalidParameterValue"),
    ({"Size": 5000, "AvailabilityZone": "zone1"}, "InvalidParameterValue"),
    ({"SnapshotId": "snap-0123456789abcdef0", "AvailabilityZone": "zone1"},
     "InvalidSnapshot.NotFound"),
]


@pytest.mark.parametrize("params,code", CREATE_ERRORS)
def test_create_rejects(cloud, params, code):
    before = cloud.cloudstack("alice").list("listVolumes", "volume", listall=True)
    query = {"Action": "CreateVolume"}
    query.update({name: str(value) for name, value in params.items()})
    response = signed_query(cloud, "alice", query)
    assert response.status_code == 400
    assert error_code(response) == code
    after = cloud.cloudstack("alice").list("listVolumes", "volume", listall=True)
    assert len(after) == len(before)


def test_create_from_snapshot_rejects(cloud, fleet):
    ec2 = cloud.boto3("alice")
    assert boto3_code(ec2.create_volume, SnapshotId=fleet["snapshot"],
                      AvailabilityZone="zone2") == "InvalidParameterValue"
    assert boto3_code(ec2.create_volume, SnapshotId=fleet["snapshot"], Size=7,
                      AvailabilityZone="zone1") == "InvalidParameterValue"
    assert boto2_code(cloud.boto2("alice").create_volume, 7, "zone1",
                      snapshot=fleet["snapshot"]) == "InvalidParameterValue"


@pytest.mark.parametrize("device", ["/dev/sda", "/dev/sda1", "/dev/sdd", "/dev/sdk",
                                    "/dev/hdb", "sdb1"])
def test_attach_invalid_device(cloud, instance, fleet, device):
    cloud.simulator.clear_calls()
    assert boto3_code(cloud.boto3("alice").attach_volume, VolumeId=fleet["restored"],
                      InstanceId=instance, Device=device) == "InvalidParameterValue"
    assert calls(cloud, "attachVolume") == []


def test_attach_errors(cloud, instance, fleet):
    ec2 = cloud.boto3("alice")
    assert boto3_code(ec2.attach_volume, VolumeId=fleet["attached"], InstanceId=instance,
                      Device="/dev/sde") == "VolumeInUse"
    assert boto3_code(ec2.attach_volume, VolumeId=fleet["spare"], InstanceId=instance,
                      Device="/dev/sde") == "InvalidVolume.ZoneMismatch"
    assert boto3_code(ec2.attach_volume, VolumeId=fleet["restored"], InstanceId=instance,
                      Device="/dev/sdc") == "InvalidParameterValue"
    assert boto3_code(ec2.attach_volume, VolumeId=fleet["restored"],
                      InstanceId="i-0123456789abcdef0",
                      Device="/dev/sde") == "InvalidInstanceID.NotFound"
    assert boto3_code(ec2.attach_volume, VolumeId=UNKNOWN_VOLUME, InstanceId=instance,
                      Device="/dev/sde") == "InvalidVolume.NotFound"
    assert boto2_code(cloud.boto2("alice").attach_volume, fleet["attached"], instance,
                      "/dev/sde") == "VolumeInUse"
    assert "virtualmachineid" not in cloudstack_volume(cloud, fleet["restored"])


def test_detach_errors(cloud, instance, fleet):
    ec2 = cloud.boto3("alice")
    root = ec2.describe_volumes(Filters=[
        {"Name": "attachment.instance-id", "Values": [instance]},
        {"Name": "attachment.device", "Values": ["/dev/sda1"]}])["Volumes"][0]["VolumeId"]
    assert boto3_code(ec2.detach_volume, VolumeId=fleet["spare"]) == "IncorrectState"
    assert boto3_code(ec2.detach_volume, VolumeId=root) == "UnsupportedOperation"
    other = run_instance(cloud, "alice", "zone1")
    try:
        assert boto3_code(ec2.detach_volume, VolumeId=fleet["attached"],
                          InstanceId=other) == "InvalidAttachment.NotFound"
    finally:
        ec2.terminate_instances(InstanceIds=[other])
    assert boto3_code(ec2.detach_volume, VolumeId=fleet["attached"],
                      Device="/dev/sdf") == "InvalidAttachment.NotFound"
    assert boto2_code(cloud.boto2("alice").detach_volume, fleet["spare"]) == "IncorrectState"
    assert cloudstack_volume(cloud, fleet["attached"])["deviceid"] == 2


def test_delete_attached_volume(cloud, fleet):
    assert boto3_code(cloud.boto3("alice").delete_volume,
                      VolumeId=fleet["attached"]) == "VolumeInUse"
    assert boto2_code(cloud.boto2("alice").delete_volume,
                      fleet["attached"]) == "VolumeInUse"
    assert cloudstack_volume(cloud, fleet["attached"]) is not None


def test_tag_filters(cloud, fleet):
    cloud.cloudstack("alice").run_job(
        "createTags", resourceids=cloudstack_id(cloud, fleet["spare"]), resourcetype="Volume",
        **{"tags[0].key": "role", "tags[0].value": "spare disk"})
    ec2 = cloud.boto3("alice")
    found = ec2.describe_volumes(Filters=[{"Name": "tag:role", "Values": ["spare*"]}])
    assert [v["VolumeId"] for v in found["Volumes"]] == [fleet["spare"]]
    assert found["Volumes"][0]["Tags"] == [{"Key": "role", "Value": "spare disk"}]
    by_key = ec2.describe_volumes(Filters=[{"Name": "tag-key", "Values": ["role"]}])
    assert [v["VolumeId"] for v in by_key["Volumes"]] == [fleet["spare"]]
