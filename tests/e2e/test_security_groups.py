"""Security groups and their ingress rules through boto3, boto 2 and raw queries."""

import re

import pytest

from tests.harness import boto2_code, boto3_code, calls, error_code, signed_query, xml_text

EC2_GROUP_ID = re.compile(r"^sg-[0-9a-f]{17}$")


def cloudstack_group(cloud, name, user="alice"):
    """The group as CloudStack lists it for its owner, or None."""
    found = cloud.cloudstack(user).list("listSecurityGroups", "securitygroup",
                                        securitygroupname=name)
    return found[0] if found else None


def cloudstack_rules(cloud, name, user="alice"):
    """The group's ingress rules as comparable tuples."""
    rules = set()
    for rule in cloudstack_group(cloud, name, user).get("ingressrule", []):
        if rule["protocol"] == "icmp":
            ports = (rule["icmptype"], rule["icmpcode"])
        else:
            ports = (rule["startport"], rule["endport"])
        source = rule.get("cidr") or "%s/%s" % (rule["account"], rule["securitygroupname"])
        rules.add((rule["protocol"], *ports, source))
    return rules


def image_id(cloud):
    images = cloud.boto3("alice").describe_images()["Images"]
    return next(i["ImageId"] for i in images if "CentOS" in i["Name"])


@pytest.fixture(scope="module")
def groups(cloud):
    """Two groups of alice's with rules for the filter tests: "filter-web" and "filter-db"."""
    ec2 = cloud.boto3("alice")
    web = ec2.create_security_group(GroupName="filter-web", Description="web servers")
    db = ec2.create_security_group(GroupName="filter-db", Description="database servers")
    ec2.authorize_security_group_ingress(GroupName="filter-web", IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.authorize_security_group_ingress(GroupName="filter-db", IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306,
         "UserIdGroupPairs": [{"GroupName": "filter-web"}]},
        {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53,
         "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}])
    return {"filter-web": web["GroupId"], "filter-db": db["GroupId"]}


# Lifecycle

def test_boto3_security_group_lifecycle(cloud):
    ec2 = cloud.boto3("alice")
    cloud.simulator.clear_calls()
    created = ec2.create_security_group(GroupName="web", Description="web servers")
    assert EC2_GROUP_ID.match(created["GroupId"])
    group = cloudstack_group(cloud, "web")
    assert group["description"] == "web servers"
    assert calls(cloud, "createSecurityGroup")[0]["params"]["name"] == "web"

    cloud.simulator.clear_calls()
    ec2.authorize_security_group_ingress(GroupId=created["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "0.0.0.0/0"}, {"CidrIp": "10.0.0.0/8"}]},
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 81,
         "UserIdGroupPairs": [{"GroupName": "default"}]},
        {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1,
         "IpRanges": [{"CidrIp": "192.0.2.0/24"}]}])
    sent = [c["params"] for c in calls(cloud, "authorizeSecurityGroupIngress")]
    assert len(sent) == 3
    tcp22 = next(p for p in sent if p.get("startport") == "22")
    assert tcp22["securitygroupname"] == "web"
    assert tcp22["protocol"] == "tcp"
    assert tcp22["endport"] == "22"
    assert tcp22["cidrlist"] == "0.0.0.0/0,10.0.0.0/8"
    tcp80 = next(p for p in sent if p.get("startport") == "80")
    assert tcp80["usersecuritygrouplist[0].account"] == "alice"
    assert tcp80["usersecuritygrouplist[0].group"] == "default"
    icmp = next(p for p in sent if p["protocol"] == "icmp")
    assert (icmp["icmptype"], icmp["icmpcode"]) == ("8", "-1")
    assert "startport" not in icmp
    assert cloudstack_rules(cloud, "web") == {
        ("tcp", 22, 22, "0.0.0.0/0"), ("tcp", 22, 22, "10.0.0.0/8"),
        ("tcp", 80, 81, "alice/default"), ("icmp", 8, -1, "192.0.2.0/24")}

    described = ec2.describe_security_groups(GroupIds=[created["GroupId"]])["SecurityGroups"]
    assert len(described) == 1
    item = described[0]
    assert item["GroupId"] == created["GroupId"]
    assert item["GroupName"] == "web"
    assert item["Description"] == "web servers"
    assert item["OwnerId"] == "alice"
    permissions = {(p["IpProtocol"], p["FromPort"], p["ToPort"]): p
                   for p in item["IpPermissions"]}
    assert set(permissions) == {("tcp", 22, 22), ("tcp", 80, 81), ("icmp", 8, -1)}
    assert sorted(r["CidrIp"] for r in permissions[("tcp", 22, 22)]["IpRanges"]) == \
        ["0.0.0.0/0", "10.0.0.0/8"]
    pair = permissions[("tcp", 80, 81)]["UserIdGroupPairs"][0]
    assert pair["GroupName"] == "default"
    assert pair["UserId"] == "alice"
    assert EC2_GROUP_ID.match(pair["GroupId"])
    assert ec2.describe_security_groups(GroupNames=["web"])["SecurityGroups"] == described

    cloud.simulator.clear_calls()
    ec2.revoke_security_group_ingress(GroupName="web", IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1,
         "IpRanges": [{"CidrIp": "192.0.2.0/24"}]}])
    assert len(calls(cloud, "revokeSecurityGroupIngress")) == 2
    assert cloudstack_rules(cloud, "web") == {
        ("tcp", 22, 22, "10.0.0.0/8"), ("tcp", 80, 81, "alice/default")}

    # The source group by its id, as boto3 users name it.
    ec2.revoke_security_group_ingress(GroupId=created["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 81,
         "UserIdGroupPairs": [{"GroupId": pair["GroupId"]}]}])
    assert cloudstack_rules(cloud, "web") == {("tcp", 22, 22, "10.0.0.0/8")}

    ec2.delete_security_group(GroupId=created["GroupId"])
    assert cloudstack_group(cloud, "web") is None


def test_boto2_security_group_lifecycle(cloud):
    conn = cloud.boto2("bob")
    group = conn.create_security_group("app", "application servers")
    assert group.name == "app"
    assert cloudstack_group(cloud, "app", "bob")["description"] == "application servers"

    cloud.simulator.clear_calls()
    assert conn.authorize_security_group("app", ip_protocol="tcp", from_port=8080,
                                         to_port=8090, cidr_ip="198.51.100.0/24") is True
    sent = calls(cloud, "authorizeSecurityGroupIngress")[0]["params"]
    assert (sent["protocol"], sent["startport"], sent["endport"], sent["cidrlist"]) == \
        ("tcp", "8080", "8090", "198.51.100.0/24")
    assert calls(cloud, "authorizeSecurityGroupIngress")[0]["apikey"] == \
        "AKIDBOB000000000000001"

    # The flat 2010-11-15 form naming only a source group grants every port.
    assert conn.authorize_security_group("app", src_security_group_name="default",
                                         src_security_group_owner_id="bob") is True
    assert cloudstack_rules(cloud, "app", "bob") == {
        ("tcp", 8080, 8090, "198.51.100.0/24"), ("tcp", 0, 65535, "bob/default"),
        ("udp", 0, 65535, "bob/default"), ("icmp", -1, -1, "bob/default")}

    found = conn.get_all_security_groups(groupnames=["app"])
    assert [g.name for g in found] == ["app"]
    assert found[0].owner_id == "bob"
    assert found[0].description == "application servers"
    rules = {(r.ip_protocol, r.from_port, r.to_port): r for r in found[0].rules}
    assert set(rules) == {("tcp", "8080", "8090"), ("tcp", "0", "65535"),
                          ("udp", "0", "65535"), ("icmp", "-1", "-1")}
    assert [g.cidr_ip for g in rules[("tcp", "8080", "8090")].grants] == ["198.51.100.0/24"]
    grant = rules[("udp", "0", "65535")].grants[0]
    assert (grant.name, grant.owner_id) == ("default", "bob")

    assert conn.revoke_security_group("app", ip_protocol="tcp", from_port=8080,
                                      to_port=8090, cidr_ip="198.51.100.0/24") is True
    assert conn.revoke_security_group_deprecated(
        "app", src_security_group_name="default", src_security_group_owner_id="bob",
        ip_protocol="udp", from_port=0, to_port=65535) is True
    assert cloudstack_rules(cloud, "app", "bob") == {
        ("tcp", 0, 65535, "bob/default"), ("icmp", -1, -1, "bob/default")}

    assert conn.delete_security_group("app") is True
    assert cloudstack_group(cloud, "app", "bob") is None


def test_base_version_shapes(cloud):
    """Version 2010-11-15 names groups by name only: no groupId anywhere."""
    created = signed_query(cloud, "alice", {"Action": "CreateSecurityGroup",
                                            "GroupName": "shape", "GroupDescription": "x y"})
    assert created.status_code == 200, created.text
    assert xml_text(created.content, "./return") == ["true"]
    assert xml_text(created.content, "./groupId") == []

    described = signed_query(cloud, "alice", {"Action": "DescribeSecurityGroups",
                                              "GroupName.1": "shape"})
    assert described.status_code == 200, described.text
    assert xml_text(described.content, "./securityGroupInfo/item/groupName") == ["shape"]
    assert xml_text(described.content, "./securityGroupInfo/item/groupId") == []
    assert xml_text(described.content, "./securityGroupInfo/item/ownerId") == ["alice"]

    deleted = signed_query(cloud, "alice", {"Action": "DeleteSecurityGroup",
                                            "GroupName": "shape"})
    assert xml_text(deleted.content, "./return") == ["true"]


def test_describe_lists_only_own_groups(cloud, groups):
    names = {g["GroupName"] for g in cloud.boto3("bob").describe_security_groups()
             ["SecurityGroups"]}
    assert "default" in names
    assert "filter-web" not in names
    owners = {g["OwnerId"] for g in cloud.boto3("alice").describe_security_groups()
              ["SecurityGroups"]}
    assert owners == {"alice"}


def test_describe_makes_one_listing(cloud, groups):
    cloud.simulator.clear_calls()
    cloud.boto3("alice").describe_security_groups()
    commands = [c["command"] for c in cloud.simulator.calls]
    assert commands == ["listSecurityGroups"]


# Filters

FILTER_CASES = [
    ("description", ["web servers"], ["filter-web"]),
    ("description", ["*servers"], ["filter-db", "filter-web"]),
    ("group-name", ["filter-db"], ["filter-db"]),
    ("ip-permission.cidr", ["10.1.0.0/16"], ["filter-db"]),
    ("ip-permission.from-port", ["443"], ["filter-web"]),
    ("ip-permission.to-port", ["3306"], ["filter-db"]),
    ("ip-permission.protocol", ["udp"], ["filter-db"]),
    ("ip-permission.group-name", ["filter-web"], ["filter-db"]),
    ("ip-permission.user-id", ["alice"], ["filter-db"]),
    ("owner-id", ["alice"], ["default", "filter-db", "filter-web"]),
    ("owner-id", ["bob"], []),
]


@pytest.mark.parametrize("name,values,expected", FILTER_CASES)
def test_describe_filter(cloud, groups, name, values, expected):
    found = cloud.boto3("alice").describe_security_groups(
        Filters=[{"Name": name, "Values": values}])["SecurityGroups"]
    names = sorted(g["GroupName"] for g in found if g["GroupName"] in
                   ("default", "filter-web", "filter-db"))
    assert names == expected


def test_describe_filter_group_id(cloud, groups):
    found = cloud.boto3("alice").describe_security_groups(
        Filters=[{"Name": "group-id", "Values": [groups["filter-web"]]}])["SecurityGroups"]
    assert [g["GroupName"] for g in found] == ["filter-web"]


def test_boto2_describe_filter(cloud, groups):
    found = cloud.boto2("alice").get_all_security_groups(
        filters={"ip-permission.protocol": "tcp", "ip-permission.from-port": "80"})
    assert [g.name for g in found] == ["filter-web"]


def test_unknown_filter(cloud):
    assert boto3_code(cloud.boto3("alice").describe_security_groups,
                      Filters=[{"Name": "vpc-id", "Values": ["x"]}]) == "InvalidParameterValue"


# Errors

def test_describe_unknown_group(cloud, groups):
    ec2 = cloud.boto3("alice")
    assert boto3_code(ec2.describe_security_groups,
                      GroupNames=["filter-web", "nothing"]) == "InvalidGroup.NotFound"
    assert boto3_code(ec2.describe_security_groups,
                      GroupIds=["sg-0123456789abcdef0"]) == "InvalidGroup.NotFound"
    assert boto2_code(cloud.boto2("alice").get_all_security_groups,
                      groupnames=["nothing"]) == "InvalidGroup.NotFound"


def test_other_accounts_group_not_found(cloud, groups):
    ec2 = cloud.boto3("bob")
    assert boto3_code(ec2.describe_security_groups,
                      GroupIds=[groups["filter-web"]]) == "InvalidGroup.NotFound"
    assert boto3_code(ec2.delete_security_group,
                      GroupId=groups["filter-web"]) == "InvalidGroup.NotFound"
    assert cloudstack_group(cloud, "filter-web") is not None


def test_create_errors(cloud, groups):
    ec2 = cloud.boto3("alice")
    assert boto3_code(ec2.create_security_group, GroupName="filter-web",
                      Description="again") == "InvalidGroup.Duplicate"
    assert boto3_code(ec2.create_security_group, GroupName="default",
                      Description="x") == "InvalidGroup.Reserved"
    assert boto3_code(ec2.create_security_group, GroupName="sg-named",
                      Description="x") == "InvalidParameterValue"
    assert boto2_code(cloud.boto2("alice").create_security_group, "filter-db",
                      "again") == "InvalidGroup.Duplicate"
    response = signed_query(cloud, "alice", {"Action": "CreateSecurityGroup",
                                             "GroupName": "no-description"})
    assert response.status_code == 400
    assert error_code(response) == "MissingParameter"
    assert cloudstack_group(cloud, "no-description") is None


def test_delete_errors(cloud):
    ec2 = cloud.boto3("alice")
    assert boto3_code(ec2.delete_security_group, GroupName="default") == \
        "InvalidGroup.Reserved"
    assert boto3_code(ec2.delete_security_group, GroupName="nothing") == \
        "InvalidGroup.NotFound"
    assert boto2_code(cloud.boto2("alice").delete_security_group, "default") == \
        "InvalidGroup.Reserved"
    response = signed_query(cloud, "alice", {"Action": "DeleteSecurityGroup"})
    assert error_code(response) == "MissingParameter"


def test_delete_group_in_use(cloud):
    ec2 = cloud.boto3("alice")
    ec2.create_security_group(GroupName="in-use", Description="used by an instance")
    run = ec2.run_instances(ImageId=image_id(cloud), MinCount=1, MaxCount=1,
                            SecurityGroups=["in-use"], Placement={"AvailabilityZone": "zone1"})
    instance_id = run["Instances"][0]["InstanceId"]
    try:
        assert boto3_code(ec2.delete_security_group, GroupName="in-use") == "InvalidGroup.InUse"
        assert cloudstack_group(cloud, "in-use") is not None
    finally:
        ec2.terminate_instances(InstanceIds=[instance_id])


AUTHORIZE_ERRORS = [
    ({"IpProtocol": "gre", "FromPort": 0, "ToPort": 0,
      "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, "InvalidParameterValue"),
    ({"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, "InvalidParameterValue"),
    ({"IpProtocol": "tcp", "FromPort": 90, "ToPort": 80,
      "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, "InvalidParameterValue"),
    ({"IpProtocol": "tcp", "FromPort": 1, "ToPort": 70000,
      "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, "InvalidParameterValue"),
    ({"IpProtocol": "icmp", "FromPort": -1, "ToPort": 3,
      "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, "InvalidParameterValue"),
    ({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
      "IpRanges": [{"CidrIp": "10.0.0.300/8"}]}, "InvalidPermission.Malformed"),
    ({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
      "IpRanges": [{"CidrIp": "10.0.0.1"}]}, "InvalidPermission.Malformed"),
    ({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22}, "MissingParameter"),
    ({"IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, "MissingParameter"),
    ({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
      "UserIdGroupPairs": [{"GroupName": "nothing"}]}, "InvalidGroup.NotFound"),
    ({"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
      "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, "InvalidPermission.Duplicate"),
]


@pytest.mark.parametrize("permission,code", AUTHORIZE_ERRORS)
def test_authorize_rejects(cloud, groups, permission, code):
    before = cloudstack_rules(cloud, "filter-web")
    cloud.simulator.clear_calls()
    assert boto3_code(cloud.boto3("alice").authorize_security_group_ingress,
                      GroupName="filter-web", IpPermissions=[permission]) == code
    assert calls(cloud, "authorizeSecurityGroupIngress") == []
    assert cloudstack_rules(cloud, "filter-web") == before


def test_authorize_unknown_group(cloud):
    ec2 = cloud.boto3("alice")
    permission = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                  "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    assert boto3_code(ec2.authorize_security_group_ingress, GroupName="nothing",
                      IpPermissions=[permission]) == "InvalidGroup.NotFound"
    assert boto2_code(cloud.boto2("alice").authorize_security_group, "nothing",
                      ip_protocol="tcp", from_port=22, to_port=22,
                      cidr_ip="0.0.0.0/0") == "InvalidGroup.NotFound"


def test_authorize_failure_leaves_group_unchanged(cloud, groups):
    """A job that fails in CloudStack takes back the rules the request's other jobs added."""
    before = cloudstack_rules(cloud, "filter-db")
    cloud.simulator.clear_calls()
    code = boto3_code(cloud.boto3("alice").authorize_security_group_ingress,
                      GroupName="filter-db", IpPermissions=[
                          {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                           "IpRanges": [{"CidrIp": "10.2.0.0/16"}]},
                          {"IpProtocol": "tcp", "FromPort": 5433, "ToPort": 5433,
                           "UserIdGroupPairs": [{"GroupName": "nothing", "UserId": "bob"}]}])
    assert code == "InvalidGroup.NotFound"
    assert len(calls(cloud, "authorizeSecurityGroupIngress")) == 2
    assert len(calls(cloud, "revokeSecurityGroupIngress")) == 1
    assert cloudstack_rules(cloud, "filter-db") == before


def test_revoke_missing_permission(cloud, groups):
    before = cloudstack_rules(cloud, "filter-web")
    cloud.simulator.clear_calls()
    # 80/tcp from 0.0.0.0/0 exists, 80/tcp from 10.0.0.0/8 does not: nothing is revoked.
    assert boto3_code(cloud.boto3("alice").revoke_security_group_ingress,
                      GroupName="filter-web", IpPermissions=[
                          {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                           "IpRanges": [{"CidrIp": "0.0.0.0/0"},
                                        {"CidrIp": "10.0.0.0/8"}]}]) == \
        "InvalidPermission.NotFound"
    assert calls(cloud, "revokeSecurityGroupIngress") == []
    assert cloudstack_rules(cloud, "filter-web") == before
    assert boto2_code(cloud.boto2("alice").revoke_security_group, "filter-web",
                      ip_protocol="udp", from_port=80, to_port=80,
                      cidr_ip="0.0.0.0/0") == "InvalidPermission.NotFound"


def test_flat_and_structured_form_together(cloud, groups):
    response = signed_query(cloud, "alice", {
        "Action": "AuthorizeSecurityGroupIngress", "GroupName": "filter-web",
        "IpProtocol": "tcp", "FromPort": "1", "ToPort": "2", "CidrIp": "0.0.0.0/0",
        "IpPermissions.1.IpProtocol": "tcp", "IpPermissions.1.FromPort": "1",
        "IpPermissions.1.ToPort": "2", "IpPermissions.1.IpRanges.1.CidrIp": "0.0.0.0/0"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterCombination"


def test_source_group_of_other_account(cloud, groups):
    ec2 = cloud.boto3("alice")
    ec2.authorize_security_group_ingress(GroupName="filter-web", IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443,
         "UserIdGroupPairs": [{"GroupName": "default", "UserId": "bob"}]}])
    assert ("tcp", 8443, 8443, "bob/default") in cloudstack_rules(cloud, "filter-web")

    item = ec2.describe_security_groups(GroupNames=["filter-web"])["SecurityGroups"][0]
    permission = next(p for p in item["IpPermissions"] if p["FromPort"] == 8443)
    # Only the caller's own groups have a known id.
    assert permission["UserIdGroupPairs"] == [{"GroupName": "default", "UserId": "bob"}]

    ec2.revoke_security_group_ingress(GroupName="filter-web", IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443,
         "UserIdGroupPairs": [{"GroupName": "default", "UserId": "bob"}]}])
    assert ("tcp", 8443, 8443, "bob/default") not in cloudstack_rules(cloud, "filter-web")


def test_tag_filters(cloud, groups):
    cloud.cloudstack("alice").run_job(
        "createTags", resourceids=cloudstack_group(cloud, "filter-db")["id"],
        resourcetype="SecurityGroup", **{"tags[0].key": "tier", "tags[0].value": "data"})
    found = cloud.boto3("alice").describe_security_groups(
        Filters=[{"Name": "tag:tier", "Values": ["data"]}])["SecurityGroups"]
    assert [g["GroupName"] for g in found] == ["filter-db"]
    assert found[0]["Tags"] == [{"Key": "tier", "Value": "data"}]
    by_key = cloud.boto2("alice").get_all_security_groups(filters={"tag-key": "tier"})
    assert [g.name for g in by_key] == ["filter-db"]
