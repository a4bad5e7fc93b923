"""Tags through boto3 and boto 2, checked against CloudStack's resource tags."""

import types

import boto.exception
import botocore.exceptions
import pytest

from cloudbridge import errors
from cloudbridge.ec2.tag_actions import change_tags
from tests.harness import calls, error_code, signed_query

UNKNOWN_IDS = {
    "i-0123456789abcdef0": "InvalidInstanceID.NotFound",
    "ami-0123456789abcdef0": "InvalidAMIID.NotFound",
    "vol-0123456789abcdef0": "InvalidVolume.NotFound",
    "snap-0123456789abcdef0": "InvalidSnapshot.NotFound",
    "sg-0123456789abcdef0": "InvalidGroup.NotFound",
}


def client_error(call):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    return raised.value.response


def cloudstack_tags(cloud, resource_cs_id, user="admin"):
    """{key: value} of one resource's tags as CloudStack lists them."""
    found = cloud.cloudstack(user).list("listTags", "tag", listall=True,
                                        resourceid=resource_cs_id)
    return {t["key"]: t["value"] for t in found}


def ec2_id(cloud, kind, cs_id):
    return cloud.stores[0].ec2_ids(kind, [cs_id])[cs_id]


@pytest.fixture(scope="module")
def resources(cloud):
    """Alice's instance, its root volume, a snapshot of it, her default security
    group, and a public image; each as (EC2 id, CloudStack id)."""
    ec2 = cloud.boto3("alice")
    images = ec2.describe_images()["Images"]
    image_id = next(i["ImageId"] for i in images if "CentOS" in i["Name"])
    instance_id = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                    InstanceType="m1.small",
                                    Placement={"AvailabilityZone": "zone1"}
                                    )["Instances"][0]["InstanceId"]
    store = cloud.stores[0]
    vm_id = store.cloudstack_ids("i", [instance_id])[instance_id]
    alice = cloud.cloudstack("alice")
    volume = alice.list("listVolumes", "volume", virtualmachineid=vm_id)[0]
    snapshot = alice.run_job("createSnapshot", volumeid=volume["id"])["snapshot"]
    group = next(g for g in alice.list("listSecurityGroups", "securitygroup")
                 if g["name"] == "default")
    found = {
        "instance": (instance_id, vm_id),
        "image": (image_id, store.cloudstack_ids("ami", [image_id])[image_id]),
        "volume": (ec2_id(cloud, "vol", volume["id"]), volume["id"]),
        "snapshot": (ec2_id(cloud, "snap", snapshot["id"]), snapshot["id"]),
        "security-group": (ec2_id(cloud, "sg", group["id"]), group["id"]),
    }
    yield found
    ec2.terminate_instances(InstanceIds=[instance_id])
    alice.run_job("deleteSnapshot", id=snapshot["id"])


@pytest.fixture
def untagged(cloud, resources):
    """Remove every tag of the resources after the test."""
    yield resources
    admin = cloud.boto3("admin")
    for ec2_id_, cs_id in resources.values():
        if cloudstack_tags(cloud, cs_id):
            admin.delete_tags(Resources=[ec2_id_])


def test_boto3_tag_lifecycle(cloud, untagged):
    ec2 = cloud.boto3("alice")
    kinds = ("instance", "volume", "snapshot", "security-group")
    ids = [untagged[k][0] for k in kinds]
    ec2.create_tags(Resources=ids, Tags=[{"Key": "Name", "Value": "web"},
                                         {"Key": "env", "Value": "prod"}])
    for kind in kinds:
        assert cloudstack_tags(cloud, untagged[kind][1]) == {"Name": "web", "env": "prod"}, kind
    resource_types = {t["resourcetype"] for t in cloud.cloudstack("alice").list(
        "listTags", "tag")}
    assert resource_types == {"UserVm", "Volume", "Snapshot", "SecurityGroup"}

    described = ec2.describe_tags(Filters=[{"Name": "resource-id",
                                            "Values": [untagged["instance"][0]]}])["Tags"]
    assert sorted((t["Key"], t["Value"], t["ResourceType"]) for t in described) == [
        ("Name", "web", "instance"), ("env", "prod", "instance")]
    instance = ec2.describe_instances(InstanceIds=[untagged["instance"][0]])[
        "Reservations"][0]["Instances"][0]
    assert sorted((t["Key"], t["Value"]) for t in instance["Tags"]) == [
        ("Name", "web"), ("env", "prod")]

    # EC2 overwrites the value of a key the resource has.
    ec2.create_tags(Resources=[untagged["instance"][0]],
                    Tags=[{"Key": "Name", "Value": "db"}, {"Key": "env", "Value": "prod"}])
    assert cloudstack_tags(cloud, untagged["instance"][1]) == {"Name": "db", "env": "prod"}

    # DeleteTags with a value deletes only the matching pair.
    ec2.delete_tags(Resources=[untagged["instance"][0]], Tags=[{"Key": "env", "Value": "dev"}])
    assert cloudstack_tags(cloud, untagged["instance"][1]) == {"Name": "db", "env": "prod"}
    ec2.delete_tags(Resources=[untagged["instance"][0]], Tags=[{"Key": "env", "Value": "prod"}])
    assert cloudstack_tags(cloud, untagged["instance"][1]) == {"Name": "db"}
    # Without a value, the key goes whatever its value.
    ec2.delete_tags(Resources=ids, Tags=[{"Key": "Name"}])
    assert cloudstack_tags(cloud, untagged["instance"][1]) == {}
    assert cloudstack_tags(cloud, untagged["volume"][1]) == {"env": "prod"}
    # Without Tag, every tag of the resources goes.
    ec2.delete_tags(Resources=ids)
    for kind in kinds:
        assert cloudstack_tags(cloud, untagged[kind][1]) == {}, kind


def test_boto2_tag_lifecycle(cloud, untagged):
    conn = cloud.boto2("alice")
    instance_id, vm_id = untagged["instance"]
    assert conn.create_tags([instance_id], {"Name": "b2", "empty": ""}) is True
    assert cloudstack_tags(cloud, vm_id) == {"Name": "b2", "empty": ""}

    found = conn.get_all_tags(filters={"resource-id": instance_id})
    assert sorted((t.res_id, t.res_type, t.name, t.value) for t in found) == [
        (instance_id, "instance", "Name", "b2"), (instance_id, "instance", "empty", "")]
    reservation = conn.get_all_instances(instance_ids=[instance_id])[0]
    assert reservation.instances[0].tags == {"Name": "b2", "empty": ""}

    # An empty value deletes only a tag whose value is empty.
    assert conn.delete_tags([instance_id], {"Name": ""}) is True
    assert cloudstack_tags(cloud, vm_id) == {"Name": "b2", "empty": ""}
    assert conn.delete_tags([instance_id], {"empty": ""}) is True
    assert cloudstack_tags(cloud, vm_id) == {"Name": "b2"}
    assert conn.delete_tags([instance_id], {"Name": None}) is True
    assert cloudstack_tags(cloud, vm_id) == {}


def test_create_same_tags_again_changes_nothing(cloud, untagged):
    ec2 = cloud.boto3("alice")
    instance_id, vm_id = untagged["instance"]
    ec2.create_tags(Resources=[instance_id], Tags=[{"Key": "team", "Value": "a"}])
    before = len(calls(cloud, "createTags")) + len(calls(cloud, "deleteTags"))
    ec2.create_tags(Resources=[instance_id], Tags=[{"Key": "team", "Value": "a"}])
    assert len(calls(cloud, "createTags")) + len(calls(cloud, "deleteTags")) == before
    assert cloudstack_tags(cloud, vm_id) == {"team": "a"}


def test_delete_missing_tag_is_true(cloud, untagged):
    before = len(calls(cloud, "deleteTags"))
    cloud.boto3("alice").delete_tags(Resources=[untagged["instance"][0]],
                                     Tags=[{"Key": "no-such-key"}])
    assert len(calls(cloud, "deleteTags")) == before


def test_image_tags(cloud, untagged):
    image_id, template_id = untagged["image"]
    # An administrator may tag the public template.
    cloud.boto3("admin").create_tags(Resources=[image_id], Tags=[{"Key": "os", "Value": "el5"}])
    assert cloudstack_tags(cloud, template_id) == {"os": "el5"}
    assert calls(cloud, "createTags")[-1]["params"]["resourcetype"] == "Template"
    described = cloud.boto3("admin").describe_tags(
        Filters=[{"Name": "resource-type", "Values": ["image"]}])["Tags"]
    assert {"ResourceId": image_id, "ResourceType": "image", "Key": "os",
            "Value": "el5"} in described


def test_tagging_unowned_image_changes_nothing(cloud, untagged):
    instance_id, vm_id = untagged["instance"]
    image_id, template_id = untagged["image"]
    response = client_error(lambda: cloud.boto3("alice").create_tags(
        Resources=[instance_id, image_id], Tags=[{"Key": "mine", "Value": "yes"}]))
    assert response["Error"]["Code"] == "UnauthorizedOperation"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # The images are checked before any job runs, so the instance has no tag.
    assert cloudstack_tags(cloud, vm_id) == {}
    assert cloudstack_tags(cloud, template_id) == {}


def test_rejected_overwrite_changes_nothing(cloud, untagged):
    instance_id, vm_id = untagged["instance"]
    image_id, _ = untagged["image"]
    ec2 = cloud.boto3("alice")
    ec2.create_tags(Resources=[instance_id], Tags=[{"Key": "Name", "Value": "old"}])
    with pytest.raises(botocore.exceptions.ClientError):
        ec2.create_tags(Resources=[instance_id, image_id],
                        Tags=[{"Key": "Name", "Value": "new"}])
    assert cloudstack_tags(cloud, vm_id) == {"Name": "old"}


def test_other_accounts_resource(cloud, untagged):
    before = len(calls(cloud, "createTags"))
    for kind, code in (("instance", "InvalidInstanceID.NotFound"),
                       ("volume", "InvalidVolume.NotFound"),
                       ("snapshot", "InvalidSnapshot.NotFound"),
                       ("security-group", "InvalidGroup.NotFound")):
        response = client_error(lambda: cloud.boto3("bob").create_tags(
            Resources=[untagged[kind][0]], Tags=[{"Key": "k", "Value": "v"}]))
        assert response["Error"]["Code"] == code
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(calls(cloud, "createTags")) == before
    with pytest.raises(boto.exception.EC2ResponseError) as raised:
        cloud.boto2("bob").delete_tags([untagged["instance"][0]], {"k": None})
    assert raised.value.error_code == "InvalidInstanceID.NotFound"


@pytest.mark.parametrize("resource_id, code", sorted(UNKNOWN_IDS.items()))
def test_unknown_resource(cloud, resources, resource_id, code):
    ec2 = cloud.boto3("alice")
    for call in (lambda: ec2.create_tags(Resources=[resources["instance"][0], resource_id],
                                         Tags=[{"Key": "k", "Value": "v"}]),
                 lambda: ec2.delete_tags(Resources=[resource_id])):
        response = client_error(call)
        assert response["Error"]["Code"] == code
        assert resource_id in response["Error"]["Message"]
    assert cloudstack_tags(cloud, resources["instance"][1]) == {}


@pytest.mark.parametrize("resource_id", [
    "web-server", "eipalloc-0123456789abcdef0", "i-nothex", "5f6e0e4a-8a4e-4c1c-9b7e-111111111111"])
def test_invalid_resource_id(cloud, resource_id):
    response = client_error(lambda: cloud.boto3("alice").create_tags(
        Resources=[resource_id], Tags=[{"Key": "k", "Value": "v"}]))
    assert response["Error"]["Code"] == "InvalidID"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_invalid_tags(cloud, resources):
    instance_id = resources["instance"][0]
    cases = [
        ({"ResourceId.1": instance_id}, "MissingParameter"),
        ({"Tag.1.Key": "k", "Tag.1.Value": "v"}, "MissingParameter"),
        ({"ResourceId.1": instance_id, "Tag.1.Value": "v"}, "MissingParameter"),
        ({"ResourceId.1": instance_id, "Tag.1.Key": "aws:name", "Tag.1.Value": "v"},
         "InvalidParameterValue"),
        ({"ResourceId.1": instance_id, "Tag.1.Key": "k" * 128, "Tag.1.Value": "v"},
         "InvalidParameterValue"),
        ({"ResourceId.1": instance_id, "Tag.1.Key": "k", "Tag.1.Value": "v" * 256},
         "InvalidParameterValue"),
    ]
    before = len(calls(cloud, "createTags"))
    for params, code in cases:
        response = signed_query(cloud, "alice", dict(params, Action="CreateTags"))
        assert response.status_code == 400, params
        assert error_code(response) == code, params
    assert len(calls(cloud, "createTags")) == before


@pytest.mark.parametrize("client", ["boto3", "boto2"])
def test_describe_tags_filters(cloud, untagged, client):
    ec2 = cloud.boto3("alice")
    instance_id = untagged["instance"][0]
    volume_id = untagged["volume"][0]
    ec2.create_tags(Resources=[instance_id, volume_id],
                    Tags=[{"Key": "Name", "Value": "web-1"}, {"Key": "tier", "Value": "front"}])
    ec2.create_tags(Resources=[volume_id], Tags=[{"Key": "backup", "Value": "daily"}])
    cases = [
        ("key", "backup", [(volume_id, "backup")]),
        ("key", "Na*", [(instance_id, "Name"), (volume_id, "Name")]),
        ("value", "front", [(instance_id, "tier"), (volume_id, "tier")]),
        ("value", "web-?", [(instance_id, "Name"), (volume_id, "Name")]),
        ("resource-id", instance_id, [(instance_id, "Name"), (instance_id, "tier")]),
        ("resource-type", "volume", [(volume_id, "Name"), (volume_id, "backup"),
                                     (volume_id, "tier")]),
        ("resource-type", "image", []),
    ]
    for name, value, expected in cases:
        if client == "boto3":
            found = [(t["ResourceId"], t["Key"]) for t in ec2.describe_tags(
                Filters=[{"Name": name, "Values": [value]}])["Tags"]]
        else:
            found = [(t.res_id, t.name) for t in cloud.boto2("alice").get_all_tags(
                filters={name: value})]
        assert sorted(found) == expected, (name, value)


def test_describe_tags_unknown_filter(cloud):
    before = len(calls(cloud, "listTags"))
    response = signed_query(cloud, "alice", {"Action": "DescribeTags",
                                             "Filter.1.Name": "tag-key",
                                             "Filter.1.Value.1": "Name"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterValue"
    assert len(calls(cloud, "listTags")) == before


def test_describe_tags_makes_one_cloudstack_call(cloud, untagged):
    ec2 = cloud.boto3("alice")
    ec2.create_tags(Resources=[untagged[k][0] for k in ("instance", "volume", "snapshot")],
                    Tags=[{"Key": "k%d" % n, "Value": "v"} for n in range(5)])
    cloud.simulator.clear_calls()
    assert len(ec2.describe_tags()["Tags"]) == 15
    assert [c["command"] for c in cloud.simulator.calls] == ["listTags"]
    assert cloud.boto3("bob").describe_tags()["Tags"] == []


@pytest.mark.parametrize("client", ["boto3", "boto2"])
def test_instance_tag_filters(cloud, untagged, client):
    ec2 = cloud.boto3("alice")
    instance_id = untagged["instance"][0]
    ec2.create_tags(Resources=[instance_id], Tags=[{"Key": "Name", "Value": "tagged-vm"}])
    cases = [("tag:Name", "tagged-vm", True), ("tag:Name", "tagged-*", True),
             ("tag:Name", "other", False), ("tag:Other", "tagged-vm", False),
             ("tag-key", "Name", True), ("tag-key", "Other", False),
             ("tag-value", "tagged-vm", True), ("tag-value", "other", False)]
    for name, value, expected in cases:
        if client == "boto3":
            found = [i["InstanceId"] for r in ec2.describe_instances(
                Filters=[{"Name": name, "Values": [value]}])["Reservations"]
                for i in r["Instances"]]
        else:
            found = [i.id for r in cloud.boto2("alice").get_all_instances(
                filters={name: value}) for i in r.instances]
        assert (instance_id in found) is expected, (name, value)


@pytest.mark.parametrize("client", ["boto3", "boto2"])
def test_image_tag_filters(cloud, untagged, client):
    image_id = untagged["image"][0]
    cloud.boto3("admin").create_tags(Resources=[image_id],
                                     Tags=[{"Key": "release", "Value": "stable"}])
    cases = [("tag:release", "stable", True), ("tag:release", "beta", False),
             ("tag-key", "release", True), ("tag-key", "rel", False),
             ("tag-value", "st*", True), ("tag-value", "beta", False)]
    for name, value, expected in cases:
        if client == "boto3":
            found = [i["ImageId"] for i in cloud.boto3("alice").describe_images(
                Filters=[{"Name": name, "Values": [value]}])["Images"]]
        else:
            found = [i.id for i in cloud.boto2("alice").get_all_images(filters={name: value})]
        assert (image_id in found) is expected, (name, value)


class FailingJobs:
    """A CloudStack client whose jobs succeed except those of one resource type."""

    def __init__(self, failing_type, failure):
        self.failing_type = failing_type
        self.failure = failure
        self.submitted = []

    def submit(self, command, **params):
        self.submitted.append((command, params))
        return {"jobid": str(len(self.submitted))}

    def wait_for_jobs(self, jobs):
        outcomes = {}
        for job_id in jobs:
            _, params = self.submitted[int(job_id) - 1]
            failed = params["resourcetype"] == self.failing_type
            outcomes[job_id] = self.failure if failed else {"success": True}
        return outcomes


def test_failed_job_is_undone():
    failure = errors.InternalError("CloudStack createTags failed: Account Acct[x] does not "
                                   "have permission to operate with resource t1")
    cloudstack = FailingJobs("Template", failure)
    deletions = [("i", ["vm1"], [("Name", "old")])]
    creations = [("i", ["vm1"], [("Name", "new")]), ("ami", ["t1"], [("Name", "new")])]
    with pytest.raises(errors.PermissionDenied):
        change_tags(types.SimpleNamespace(cloudstack=cloudstack), deletions, creations)
    made = [(command, params["resourcetype"], params["resourceids"], params["tags[0].value"])
            for command, params in cloudstack.submitted]
    assert made == [
        ("deleteTags", "UserVm", "vm1", "old"),
        ("createTags", "UserVm", "vm1", "new"),
        ("createTags", "Template", "t1", "new"),
        # Undone in reverse: the tag that was created, then the one that was deleted.
        ("deleteTags", "UserVm", "vm1", "new"),
        ("createTags", "UserVm", "vm1", "old"),
    ]


@pytest.mark.parametrize("kind", ["volume", "snapshot", "security-group"])
@pytest.mark.parametrize("client", ["boto3", "boto2"])
def test_other_tag_filters(cloud, untagged, kind, client):
    ec2 = cloud.boto3("alice")
    resource_id = untagged[kind][0]
    ec2.create_tags(Resources=[resource_id], Tags=[{"Key": "owner", "Value": "ops"}])
    cases = [("tag:owner", "ops", True), ("tag:owner", "dev", False),
             ("tag-key", "owner", True), ("tag-key", "own", False),
             ("tag-value", "o*", True), ("tag-value", "dev", False)]
    for name, value, expected in cases:
        if client == "boto3":
            filters = [{"Name": name, "Values": [value]}]
            if kind == "volume":
                found = [v["VolumeId"] for v in ec2.describe_volumes(Filters=filters)["Volumes"]]
            elif kind == "snapshot":
                found = [s["SnapshotId"] for s in ec2.describe_snapshots(
                    OwnerIds=["self"], Filters=filters)["Snapshots"]]
            else:
                found = [g["GroupId"] for g in ec2.describe_security_groups(
                    Filters=filters)["SecurityGroups"]]
        else:
            conn = cloud.boto2("alice")
            if kind == "volume":
                found = [v.id for v in conn.get_all_volumes(filters={name: value})]
            elif kind == "snapshot":
                found = [s.id for s in conn.get_all_snapshots(owner="self",
                                                              filters={name: value})]
            else:
                # Version 2010-11-15 names a security group by its name alone.
                found = [untagged[kind][0] if g.name == "default" else g.name
                         for g in conn.get_all_security_groups(filters={name: value})]
        assert (resource_id in found) is expected, (name, value)
