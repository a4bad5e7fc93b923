"""Snapshots through boto3, boto 2 and raw queries, checked against CloudStack's state."""

import re

import botocore.exceptions
import pytest

from tests.harness import (boto2_code, boto3_code, calls, cloudstack_id,
                           error_code, signed_query, xml_text)

EC2_SNAPSHOT_ID = re.compile(r"^snap-[0-9a-f]{17}$")
UNKNOWN_SNAPSHOT = "snap-0123456789abcdef0"


def cloudstack_snapshot(cloud, snapshot_id, user="alice"):
    """The snapshot as CloudStack lists it for its owner, or None once it is deleted."""
    found = cloud.cloudstack(user).list("listSnapshots", "snapshot", listall=True)
    by_id = {s["id"]: s for s in found}
    return by_id.get(cloudstack_id(cloud, snapshot_id))


def ready_volume(cloud, user, size):
    """A data volume of `size` GiB that CloudStack has created on storage (attached once)."""
    ec2 = cloud.boto3(user)
    images = ec2.describe_images()["Images"]
    image = next(i["ImageId"] for i in images if "CentOS" in i["Name"])
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                 Placement={"AvailabilityZone": "zone1"})
    instance_id = instance["Instances"][0]["InstanceId"]
    volume_id = ec2.create_volume(Size=size, AvailabilityZone="zone1")["VolumeId"]
    ec2.attach_volume(VolumeId=volume_id, InstanceId=instance_id, Device="/dev/sdb")
    return volume_id, instance_id


@pytest.fixture(scope="module")
def volume(cloud):
    """A ready 4 GiB volume of alice's."""
    return ready_volume(cloud, "alice", 4)[0]


@pytest.fixture(scope="module")
def snapshots(cloud, volume):
    """A snapshot of alice's volume, and one of bob's volume."""
    alice = cloud.boto3("alice").create_snapshot(VolumeId=volume)["SnapshotId"]
    bob_volume = ready_volume(cloud, "bob", 2)[0]
    bob = cloud.boto3("bob").create_snapshot(VolumeId=bob_volume)["SnapshotId"]
    return {"alice": alice, "bob": bob, "bob-volume": bob_volume}


# Lifecycle

def test_boto3_snapshot_lifecycle(cloud, volume):
    ec2 = cloud.boto3("alice")
    cloud.simulator.clear_calls()
    created = ec2.create_snapshot(VolumeId=volume, Description="before upgrade")
    snapshot_id = created["SnapshotId"]
    assert EC2_SNAPSHOT_ID.match(snapshot_id)
    assert created["VolumeId"] == volume
    assert created["State"] == "completed"
    assert created["Progress"] == "100%"
    assert created["OwnerId"] == "alice"
    assert created["VolumeSize"] == 4
    assert created["Description"] == "before upgrade"
    assert calls(cloud, "createSnapshot")[0]["params"]["volumeid"] == cloudstack_id(cloud, volume)
    snapshot = cloudstack_snapshot(cloud, snapshot_id)
    assert snapshot["state"] == "BackedUp"
    assert snapshot["volumeid"] == cloudstack_id(cloud, volume)

    described = ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]
    assert len(described) == 1
    item = described[0]
    assert item["SnapshotId"] == snapshot_id
    assert item["VolumeId"] == volume
    assert item["State"] == "completed"
    assert item["VolumeSize"] == 4
    assert item["OwnerId"] == "alice"
    assert item["StartTime"] == created["StartTime"]

    ec2.delete_snapshot(SnapshotId=snapshot_id)
    assert cloudstack_snapshot(cloud, snapshot_id) is None
    assert calls(cloud, "deleteSnapshot")[0]["params"]["id"] == cloudstack_id(cloud, snapshot_id)


def test_boto2_snapshot_lifecycle(cloud, volume):
    conn = cloud.boto2("alice")
    snapshot = conn.create_snapshot(volume, "nightly")
    assert EC2_SNAPSHOT_ID.match(snapshot.id)
    assert snapshot.volume_id == volume
    assert snapshot.status == "completed"
    assert snapshot.volume_size == 4
    assert snapshot.description == "nightly"
    assert cloudstack_snapshot(cloud, snapshot.id)["state"] == "BackedUp"

    found = conn.get_all_snapshots(snapshot_ids=[snapshot.id])
    assert [s.id for s in found] == [snapshot.id]
    # CloudStack keeps no description; CloudBridge's store does.
    assert found[0].description == "nightly"
    assert found[0].status == "completed"
    assert found[0].owner_id == "alice"
    assert found[0].progress == "100%"
    assert snapshot.id in {s.id for s in conn.get_all_snapshots(owner="self")}

    assert conn.delete_snapshot(snapshot.id) is True
    assert cloudstack_snapshot(cloud, snapshot.id) is None


def test_snapshot_of_root_volume(cloud):
    ec2 = cloud.boto3("alice")
    images = ec2.describe_images()["Images"]
    image = next(i["ImageId"] for i in images if "CentOS" in i["Name"])
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                 Placement={"AvailabilityZone": "zone1"})
    instance_id = instance["Instances"][0]["InstanceId"]
    root = ec2.describe_volumes(Filters=[
        {"Name": "attachment.instance-id", "Values": [instance_id]}])["Volumes"][0]
    created = ec2.create_snapshot(VolumeId=root["VolumeId"])
    assert created["VolumeSize"] == root["Size"]
    assert cloudstack_snapshot(cloud, created["SnapshotId"])["volumetype"] == "ROOT"
    ec2.delete_snapshot(SnapshotId=created["SnapshotId"])


def test_describe_makes_bounded_calls(cloud, snapshots):
    cloud.simulator.clear_calls()
    found = cloud.boto3("alice").describe_snapshots()["Snapshots"]
    assert snapshots["alice"] in {s["SnapshotId"] for s in found}
    assert [c["command"] for c in cloud.simulator.calls] == ["listSnapshots", "listVolumes"]


def test_base_version_shape(cloud, snapshots):
    response = signed_query(cloud, "alice", {"Action": "DescribeSnapshots",
                                             "SnapshotId.1": snapshots["alice"]})
    assert response.status_code == 200, response.text
    assert xml_text(response.content, "./snapshotSet/item/snapshotId") == [snapshots["alice"]]
    assert xml_text(response.content, "./snapshotSet/item/status") == ["completed"]
    assert xml_text(response.content, "./snapshotSet/item/volumeSize") == ["4"]


# Owners

def test_owner_and_restorable_by(cloud, snapshots):
    ec2 = cloud.boto3("alice")

    def found(**kwargs):
        return {s["SnapshotId"] for s in ec2.describe_snapshots(**kwargs)["Snapshots"]}

    assert snapshots["alice"] in found(OwnerIds=["self"])
    assert snapshots["alice"] in found(OwnerIds=["alice"])
    assert found(OwnerIds=["amazon"]) == set()
    assert found(OwnerIds=["bob"]) == set()
    assert snapshots["alice"] in found(RestorableByUserIds=["self"])
    assert found(RestorableByUserIds=["all"]) == set()
    assert snapshots["bob"] not in found()


def test_admin_sees_owners(cloud, snapshots):
    ec2 = cloud.boto3("admin")
    everything = {s["SnapshotId"]: s for s in ec2.describe_snapshots()["Snapshots"]}
    assert everything[snapshots["bob"]]["OwnerId"] == "bob"
    assert everything[snapshots["alice"]]["OwnerId"] == "alice"
    own = {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    assert snapshots["alice"] not in own
    assert snapshots["bob"] not in own
    by_bob = ec2.describe_snapshots(OwnerIds=["bob"])["Snapshots"]
    assert [s["SnapshotId"] for s in by_bob] == [snapshots["bob"]]
    aliased = ec2.describe_snapshots(Filters=[{"Name": "owner-alias", "Values": ["self"]}])
    assert snapshots["bob"] not in {s["SnapshotId"] for s in aliased["Snapshots"]}


# Filters

def test_filter_values(cloud, volume, snapshots):
    ec2 = cloud.boto3("alice")
    item = ec2.describe_snapshots(SnapshotIds=[snapshots["alice"]])["Snapshots"][0]
    start_time = item["StartTime"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
    cases = [
        ("owner-alias", ["self"], True),
        ("owner-alias", ["amazon"], False),
        ("owner-id", ["alice"], True),
        ("owner-id", ["bob"], False),
        ("snapshot-id", [snapshots["alice"]], True),
        ("snapshot-id", [UNKNOWN_SNAPSHOT], False),
        ("start-time", [start_time], True),
        ("start-time", ["2001-01-01T00:00:00.000Z"], False),
        ("status", ["completed"], True),
        ("status", ["pending"], False),
        ("volume-id", [volume], True),
        ("volume-id", ["vol-0123456789abcdef0"], False),
        ("volume-size", ["4"], True),
        ("volume-size", ["5"], False),
        ("progress", ["100%"], True),
    ]
    for name, values, expected in cases:
        found = ec2.describe_snapshots(Filters=[{"Name": name, "Values": values}])["Snapshots"]
        assert (snapshots["alice"] in {s["SnapshotId"] for s in found}) is expected, \
            (name, values)


def test_boto2_filter(cloud, volume, snapshots):
    found = cloud.boto2("alice").get_all_snapshots(filters={"volume-id": volume,
                                                            "status": "completed"})
    assert snapshots["alice"] in {s.id for s in found}
    assert all(s.volume_id == volume for s in found)


def test_unknown_filter(cloud):
    assert boto3_code(cloud.boto3("alice").describe_snapshots,
                      Filters=[{"Name": "encrypted", "Values": ["true"]}]) == \
        "InvalidParameterValue"


# Errors

def test_describe_unknown_snapshot(cloud, snapshots):
    ec2 = cloud.boto3("alice")
    assert boto3_code(ec2.describe_snapshots,
                      SnapshotIds=[snapshots["alice"], UNKNOWN_SNAPSHOT]) == \
        "InvalidSnapshot.NotFound"
    assert boto3_code(ec2.describe_snapshots,
                      SnapshotIds=["does-not-exist"]) == "InvalidSnapshot.NotFound"
    assert boto2_code(cloud.boto2("alice").get_all_snapshots,
                      snapshot_ids=[UNKNOWN_SNAPSHOT]) == "InvalidSnapshot.NotFound"


def test_other_accounts_snapshot_not_found(cloud, snapshots):
    ec2 = cloud.boto3("alice")
    assert boto3_code(ec2.describe_snapshots,
                      SnapshotIds=[snapshots["bob"]]) == "InvalidSnapshot.NotFound"
    assert boto3_code(ec2.delete_snapshot,
                      SnapshotId=snapshots["bob"]) == "InvalidSnapshot.NotFound"
    assert boto3_code(ec2.create_snapshot,
                      VolumeId=snapshots["bob-volume"]) == "InvalidVolume.NotFound"
    assert cloudstack_snapshot(cloud, snapshots["bob"], "bob") is not None


def test_create_errors(cloud):
    ec2 = cloud.boto3("alice")
    before = len(cloud.cloudstack("alice").list("listSnapshots", "snapshot"))
    assert boto3_code(ec2.create_snapshot,
                      VolumeId="vol-0123456789abcdef0") == "InvalidVolume.NotFound"
    never_attached = ec2.create_volume(Size=1, AvailabilityZone="zone1")["VolumeId"]
    assert boto3_code(ec2.create_snapshot, VolumeId=never_attached) == "IncorrectState"
    assert boto2_code(cloud.boto2("alice").create_snapshot,
                      never_attached) == "IncorrectState"
    response = signed_query(cloud, "alice", {"Action": "CreateSnapshot"})
    assert response.status_code == 400
    assert error_code(response) == "MissingParameter"
    assert len(cloud.cloudstack("alice").list("listSnapshots", "snapshot")) == before
    ec2.delete_volume(VolumeId=never_attached)


def test_delete_unknown_snapshot(cloud):
    assert boto3_code(cloud.boto3("alice").delete_snapshot,
                      SnapshotId=UNKNOWN_SNAPSHOT) == "InvalidSnapshot.NotFound"
    assert boto2_code(cloud.boto2("alice").delete_snapshot,
                      UNKNOWN_SNAPSHOT) == "InvalidSnapshot.NotFound"


# Attributes

def test_modify_attribute_unsupported(cloud, snapshots):
    ec2 = cloud.boto3("alice")
    cloud.simulator.clear_calls()
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        ec2.modify_snapshot_attribute(SnapshotId=snapshots["alice"],
                                      Attribute="createVolumePermission",
                                      OperationType="add", UserIds=["bob"])
    assert raised.value.response["Error"]["Code"] == "UnsupportedOperation"
    assert "cannot share snapshots" in raised.value.response["Error"]["Message"]
    assert {c["command"] for c in cloud.simulator.calls} == {"listSnapshots"}

    assert boto2_code(cloud.boto2("alice").modify_snapshot_attribute, snapshots["alice"],
                      groups=["all"]) == "UnsupportedOperation"
    assert boto3_code(ec2.modify_snapshot_attribute, SnapshotId=UNKNOWN_SNAPSHOT,
                      Attribute="createVolumePermission", OperationType="add",
                      UserIds=["bob"]) == "InvalidSnapshot.NotFound"


def test_describe_attribute(cloud, snapshots):
    ec2 = cloud.boto3("alice")
    described = ec2.describe_snapshot_attribute(SnapshotId=snapshots["alice"],
                                                Attribute="createVolumePermission")
    assert described["SnapshotId"] == snapshots["alice"]
    assert described["CreateVolumePermissions"] == []
    assert boto3_code(ec2.describe_snapshot_attribute, SnapshotId=snapshots["alice"],
                      Attribute="productCodes") == "InvalidParameterValue"
    attribute = cloud.boto2("alice").get_snapshot_attribute(snapshots["alice"])
    assert attribute.snapshot_id == snapshots["alice"]
    assert attribute.attrs == {}


def test_reset_attribute(cloud, snapshots):
    ec2 = cloud.boto3("alice")
    ec2.reset_snapshot_attribute(SnapshotId=snapshots["alice"],
                                 Attribute="createVolumePermission")
    assert cloud.boto2("alice").reset_snapshot_attribute(snapshots["alice"]) is True
    assert boto3_code(ec2.reset_snapshot_attribute, SnapshotId=UNKNOWN_SNAPSHOT,
                      Attribute="createVolumePermission") == "InvalidSnapshot.NotFound"


def test_tag_filters(cloud, snapshots):
    cloud.cloudstack("alice").run_job(
        "createTags", resourceids=cloudstack_id(cloud, snapshots["alice"]),
        resourcetype="Snapshot", **{"tags[0].key": "backup", "tags[0].value": "weekly"})
    found = cloud.boto3("alice").describe_snapshots(
        Filters=[{"Name": "tag-value", "Values": ["weekly"]}])["Snapshots"]
    assert [s["SnapshotId"] for s in found] == [snapshots["alice"]]
    assert found[0]["Tags"] == [{"Key": "backup", "Value": "weekly"}]
