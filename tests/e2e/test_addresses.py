"""Elastic IP addresses through boto3, boto 2 and libcloud, checked against CloudStack."""

import re
import types

import boto.exception
import botocore.exceptions
import pytest

from cloudbridge import errors
from cloudbridge.ec2.addresses import allocation_target
from tests.harness import calls, error_code, signed_query, xml_text

UNKNOWN_IP = "192.0.2.250"
UNKNOWN_INSTANCE = "i-0123456789abcdef0"
# The simulator's public range of the Advanced zone.
ADVANCED_PUBLIC = re.compile(r"^198\.51\.100\.\d+$")
EIPALLOC = re.compile(r"^eipalloc-[0-9a-f]{17}$")


def cloudstack_addresses(cloud, user="alice"):
    """The user's public addresses as CloudStack lists them, by address."""
    found = cloud.cloudstack(user).list("listPublicIpAddresses", "publicipaddress")
    return {a["ipaddress"]: a for a in found}


def vm_id_of(cloud, instance_id):
    return cloud.stores[0].cloudstack_ids("i", [instance_id])[instance_id]


def client_error(call):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    return raised.value.response


def image_id(ec2):
    return next(i["ImageId"] for i in ec2.describe_images()["Images"] if "CentOS" in i["Name"])


@pytest.fixture(scope="module")
def instances(cloud):
    """Alice's instances: two in the Advanced zone, one in the Basic zone."""
    ec2 = cloud.boto3("alice")
    image = image_id(ec2)
    advanced = ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2, InstanceType="m1.small",
                                 Placement={"AvailabilityZone": "zone2"})["Instances"]
    basic = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="m1.small",
                              Placement={"AvailabilityZone": "zone1"})["Instances"]
    found = {"advanced": advanced[0]["InstanceId"], "advanced2": advanced[1]["InstanceId"],
             "basic": basic[0]["InstanceId"]}
    yield found
    ec2.terminate_instances(InstanceIds=list(found.values()))


def test_boto3_address_lifecycle(cloud, instances):
    ec2 = cloud.boto3("alice")
    allocated = ec2.allocate_address()
    ip = allocated["PublicIp"]
    assert ADVANCED_PUBLIC.match(ip)
    assert allocated["Domain"] == "standard"
    assert EIPALLOC.match(allocated["AllocationId"])
    address = cloudstack_addresses(cloud)[ip]
    assert address["issourcenat"] is False
    assert address["isstaticnat"] is False
    assert address["zonename"] == "zone2"

    described = ec2.describe_addresses(PublicIps=[ip])["Addresses"]
    assert described == [{"PublicIp": ip, "AllocationId": allocated["AllocationId"],
                          "Domain": "standard"}]

    instance_id = instances["advanced"]
    assert ec2.associate_address(PublicIp=ip, InstanceId=instance_id)
    address = cloudstack_addresses(cloud)[ip]
    assert address["isstaticnat"] is True
    assert address["virtualmachineid"] == vm_id_of(cloud, instance_id)
    described = ec2.describe_addresses(PublicIps=[ip])["Addresses"][0]
    assert described["InstanceId"] == instance_id
    assert described["PrivateIpAddress"] == address["vmipaddress"]
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0][
        "Instances"][0]
    assert instance["PublicIpAddress"] == ip

    ec2.disassociate_address(PublicIp=ip)
    assert calls(cloud, "disableStaticNat")[-1]["params"]["ipaddressid"] == address["id"]
    address = cloudstack_addresses(cloud)[ip]
    assert address["isstaticnat"] is False
    assert "virtualmachineid" not in address
    assert "InstanceId" not in ec2.describe_addresses(PublicIps=[ip])["Addresses"][0]

    ec2.release_address(PublicIp=ip)
    assert calls(cloud, "disassociateIpAddress")[-1]["params"]["id"] == address["id"]
    assert ip not in cloudstack_addresses(cloud)
    assert ip not in [a["PublicIp"] for a in ec2.describe_addresses()["Addresses"]]


def test_boto2_address_lifecycle(cloud, instances):
    conn = cloud.boto2("alice")
    allocated = conn.allocate_address()
    ip = allocated.public_ip
    assert ADVANCED_PUBLIC.match(ip)
    assert ip in cloudstack_addresses(cloud)

    instance_id = instances["advanced2"]
    assert conn.associate_address(instance_id, ip) is True
    assert cloudstack_addresses(cloud)[ip]["virtualmachineid"] == vm_id_of(cloud, instance_id)
    found = conn.get_all_addresses(addresses=[ip])
    assert [(a.public_ip, a.instance_id) for a in found] == [(ip, instance_id)]

    assert conn.disassociate_address(ip) is True
    assert cloudstack_addresses(cloud)[ip]["isstaticnat"] is False
    assert not conn.get_all_addresses(addresses=[ip])[0].instance_id
    # Already disassociated: EC2 returns true again and nothing changes.
    before = len(calls(cloud, "disableStaticNat"))
    assert conn.disassociate_address(ip) is True
    assert len(calls(cloud, "disableStaticNat")) == before

    assert conn.release_address(ip) is True
    assert ip not in cloudstack_addresses(cloud)


def test_base_version_has_no_later_elements(cloud):
    ec2 = cloud.boto3("alice")
    ip = ec2.allocate_address()["PublicIp"]
    allocated = signed_query(cloud, "alice", {"Action": "AllocateAddress"})
    assert allocated.status_code == 200
    other_ip = xml_text(allocated.content, "./publicIp")[0]
    assert xml_text(allocated.content, "./allocationId") == []
    described = signed_query(cloud, "alice", {"Action": "DescribeAddresses",
                                              "PublicIp.1": ip, "PublicIp.2": other_ip})
    assert xml_text(described.content, ".//publicIp") == [ip, other_ip]
    assert xml_text(described.content, ".//allocationId") == []
    assert xml_text(described.content, ".//domain") == []
    ec2.release_address(PublicIp=ip)
    ec2.release_address(PublicIp=other_ip)


def test_release_by_allocation_id(cloud, instances):
    ec2 = cloud.boto3("alice")
    allocated = ec2.allocate_address()
    ec2.associate_address(AllocationId=allocated["AllocationId"],
                          InstanceId=instances["advanced"])
    assert cloudstack_addresses(cloud)[allocated["PublicIp"]]["isstaticnat"] is True
    described = ec2.describe_addresses(AllocationIds=[allocated["AllocationId"]])["Addresses"]
    assert [a["PublicIp"] for a in described] == [allocated["PublicIp"]]
    # Releasing an associated address ends its static NAT as well.
    ec2.release_address(AllocationId=allocated["AllocationId"])
    assert allocated["PublicIp"] not in cloudstack_addresses(cloud)
    vm = cloud.cloudstack("alice").list("listVirtualMachines", "virtualmachine",
                                        id=vm_id_of(cloud, instances["advanced"]))[0]
    assert "publicip" not in vm


def test_associate_moves_address(cloud, instances):
    ec2 = cloud.boto3("alice")
    first = ec2.allocate_address()["PublicIp"]
    second = ec2.allocate_address()["PublicIp"]
    one, two = instances["advanced"], instances["advanced2"]

    ec2.associate_address(PublicIp=first, InstanceId=one)
    ec2.associate_address(PublicIp=second, InstanceId=two)
    # The address leaves the first instance, and the second gives up its own.
    ec2.associate_address(PublicIp=first, InstanceId=two)
    addresses = cloudstack_addresses(cloud)
    assert addresses[first]["virtualmachineid"] == vm_id_of(cloud, two)
    assert addresses[second]["isstaticnat"] is False
    by_ip = {a["PublicIp"]: a.get("InstanceId") for a in ec2.describe_addresses(
        PublicIps=[first, second])["Addresses"]}
    assert by_ip == {first: two, second: None}

    # Associating with the instance it is already on changes nothing.
    before = len(calls(cloud, "enableStaticNat"))
    ec2.associate_address(PublicIp=first, InstanceId=two)
    assert len(calls(cloud, "enableStaticNat")) == before
    ec2.release_address(PublicIp=first)
    ec2.release_address(PublicIp=second)


def test_source_nat_address_is_not_elastic(cloud, instances):
    ec2 = cloud.boto3("alice")
    source_nat = [ip for ip, a in cloudstack_addresses(cloud).items() if a["issourcenat"]]
    assert source_nat, "the Advanced zone network has a source NAT address"
    listed = [a["PublicIp"] for a in ec2.describe_addresses()["Addresses"]]
    assert not set(source_nat) & set(listed)

    before = len(calls(cloud, "disassociateIpAddress"))
    response = client_error(lambda: ec2.release_address(PublicIp=source_nat[0]))
    assert response["Error"]["Code"] == "InvalidAddress.NotFound"
    assert "source NAT" in response["Error"]["Message"]
    assert len(calls(cloud, "disassociateIpAddress")) == before
    assert source_nat[0] in cloudstack_addresses(cloud)
    response = client_error(lambda: ec2.describe_addresses(PublicIps=[source_nat[0]]))
    assert response["Error"]["Code"] == "InvalidAddress.NotFound"


def test_unknown_address(cloud, instances):
    ec2 = cloud.boto3("alice")
    for call in (lambda: ec2.release_address(PublicIp=UNKNOWN_IP),
                 lambda: ec2.disassociate_address(PublicIp=UNKNOWN_IP),
                 lambda: ec2.associate_address(PublicIp=UNKNOWN_IP,
                                               InstanceId=instances["advanced"]),
                 lambda: ec2.describe_addresses(PublicIps=[UNKNOWN_IP])):
        response = client_error(call)
        assert response["Error"]["Code"] == "InvalidAddress.NotFound"
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert UNKNOWN_IP in response["Error"]["Message"]
    response = client_error(lambda: ec2.release_address(
        AllocationId="eipalloc-0123456789abcdef0"))
    assert response["Error"]["Code"] == "InvalidAllocationID.NotFound"
    response = client_error(lambda: ec2.describe_addresses(
        AllocationIds=["eipalloc-0123456789abcdef0"]))
    assert response["Error"]["Code"] == "InvalidAllocationID.NotFound"

    conn = cloud.boto2("alice")
    for call in (lambda: conn.release_address(UNKNOWN_IP),
                 lambda: conn.get_all_addresses(addresses=[UNKNOWN_IP])):
        with pytest.raises(boto.exception.EC2ResponseError) as raised:
            call()
        assert raised.value.error_code == "InvalidAddress.NotFound"
        assert raised.value.status == 400


def test_associate_unknown_instance(cloud):
    ec2 = cloud.boto3("alice")
    ip = ec2.allocate_address()["PublicIp"]
    before = len(calls(cloud, "enableStaticNat"))
    response = client_error(lambda: ec2.associate_address(PublicIp=ip,
                                                          InstanceId=UNKNOWN_INSTANCE))
    assert response["Error"]["Code"] == "InvalidInstanceID.NotFound"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(boto.exception.EC2ResponseError) as raised:
        cloud.boto2("alice").associate_address(UNKNOWN_INSTANCE, ip)
    assert raised.value.error_code == "InvalidInstanceID.NotFound"
    assert len(calls(cloud, "enableStaticNat")) == before
    assert cloudstack_addresses(cloud)[ip]["isstaticnat"] is False
    ec2.release_address(PublicIp=ip)


def test_associate_instance_of_basic_zone(cloud, instances):
    ec2 = cloud.boto3("alice")
    ip = ec2.allocate_address()["PublicIp"]
    before = len(calls(cloud, "enableStaticNat"))
    response = client_error(lambda: ec2.associate_address(PublicIp=ip,
                                                          InstanceId=instances["basic"]))
    assert response["Error"]["Code"] == "InvalidParameterValue"
    assert "zone1" in response["Error"]["Message"]
    assert len(calls(cloud, "enableStaticNat")) == before
    ec2.release_address(PublicIp=ip)


def test_other_accounts_address(cloud, instances):
    ip = cloud.boto3("alice").allocate_address()["PublicIp"]
    bob = cloud.boto3("bob")
    assert ip not in [a["PublicIp"] for a in bob.describe_addresses()["Addresses"]]
    for call in (lambda: bob.release_address(PublicIp=ip),
                 lambda: bob.disassociate_address(PublicIp=ip)):
        assert client_error(call)["Error"]["Code"] == "InvalidAddress.NotFound"
    assert ip in cloudstack_addresses(cloud)
    # Alice's instance is not found for bob, whatever the address.
    response = client_error(lambda: bob.associate_address(PublicIp=ip,
                                                          InstanceId=instances["advanced"]))
    assert response["Error"]["Code"] == "InvalidAddress.NotFound"
    cloud.boto3("alice").release_address(PublicIp=ip)


def test_public_ip_and_allocation_id_together(cloud):
    response = signed_query(cloud, "alice", {"Action": "ReleaseAddress",
                                             "PublicIp": UNKNOWN_IP,
                                             "AllocationId": "eipalloc-0123456789abcdef0"},
                            version="2016-11-15")
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterCombination"
    response = signed_query(cloud, "alice", {"Action": "ReleaseAddress"})
    assert response.status_code == 400
    assert error_code(response) == "MissingParameter"


@pytest.mark.parametrize("client", ["boto3", "boto2"])
def test_address_filters(cloud, instances, client):
    ec2 = cloud.boto3("alice")
    associated = ec2.allocate_address()
    free = ec2.allocate_address()
    ec2.associate_address(PublicIp=associated["PublicIp"], InstanceId=instances["advanced"])
    both = sorted([associated["PublicIp"], free["PublicIp"]])
    cases = [
        ("public-ip", associated["PublicIp"], [associated["PublicIp"]]),
        ("public-ip", "198.51.100.*", both),
        ("instance-id", instances["advanced"], [associated["PublicIp"]]),
        ("instance-id", instances["basic"], []),
        ("allocation-id", free["AllocationId"], [free["PublicIp"]]),
        ("domain", "standard", both),
        ("domain", "vpc", []),
    ]
    for name, value, expected in cases:
        if client == "boto3":
            found = [a["PublicIp"] for a in ec2.describe_addresses(
                Filters=[{"Name": name, "Values": [value]}])["Addresses"]]
        else:
            found = [a.public_ip for a in cloud.boto2("alice").get_all_addresses(
                filters={name: value})]
        assert sorted(set(found) & set(both)) == expected, (name, value)
    ec2.release_address(PublicIp=associated["PublicIp"])
    ec2.release_address(PublicIp=free["PublicIp"])


def test_unknown_address_filter(cloud):
    before = len(calls(cloud, "listPublicIpAddresses"))
    response = signed_query(cloud, "alice", {"Action": "DescribeAddresses",
                                             "Filter.1.Name": "network-interface-id",
                                             "Filter.1.Value.1": "eni-1"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterValue"
    assert len(calls(cloud, "listPublicIpAddresses")) == before


def test_describe_makes_one_cloudstack_call(cloud, instances):
    ec2 = cloud.boto3("alice")
    ips = [ec2.allocate_address()["PublicIp"] for _ in range(3)]
    ec2.associate_address(PublicIp=ips[0], InstanceId=instances["advanced"])
    cloud.simulator.clear_calls()
    listed = ec2.describe_addresses()["Addresses"]
    assert set(ips) <= {a["PublicIp"] for a in listed}
    assert [c["command"] for c in cloud.simulator.calls] == ["listPublicIpAddresses"]
    for ip in ips:
        ec2.release_address(PublicIp=ip)


def test_describe_without_addresses(cloud):
    assert cloud.boto3("bob").describe_addresses()["Addresses"] == []
    assert cloud.boto2("bob").get_all_addresses() == []


def test_libcloud_list_nodes_sees_address(cloud, instances):
    ec2 = cloud.boto3("alice")
    ip = ec2.allocate_address()["PublicIp"]
    ec2.associate_address(PublicIp=ip, InstanceId=instances["advanced2"])
    driver = cloud.libcloud("alice")
    node = driver.list_nodes(ex_node_ids=[instances["advanced2"]])[0]
    assert ip in node.public_ips
    describe = [c for c in cloud.responses if b"DescribeAddressesResponse" in c[1]]
    assert describe and describe[-1][0] == 200
    ec2.release_address(PublicIp=ip)


def test_address_limit(cloud):
    ec2 = cloud.boto3("bob")
    allocated = []
    try:
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            for _ in range(25):  # the simulator allows 20 public addresses per account
                allocated.append(ec2.allocate_address()["PublicIp"])
        assert raised.value.response["Error"]["Code"] == "AddressLimitExceeded"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    finally:
        for ip in allocated:
            ec2.release_address(PublicIp=ip)
    assert not [a for a in cloudstack_addresses(cloud, "bob").values() if not a["issourcenat"]]


class FakeCloudStack:
    """CloudStack listings of a cloud with one Basic zone without elastic IPs."""

    def __init__(self):
        self.commands = []

    def list(self, command, object_name, **params):
        self.commands.append(command)
        if command == "listZones":
            return [{"id": "z1", "name": "zone1", "networktype": "Basic"}]
        if command == "listNetworks":
            return [{"id": "n1", "zoneid": "z1", "type": "Shared",
                     "service": [{"name": "SecurityGroup"}, {"name": "Dhcp"}]}]
        raise AssertionError("unexpected CloudStack command %s" % command)


def test_allocate_in_basic_zone_without_elastic_ip():
    ctx = types.SimpleNamespace(cloudstack=FakeCloudStack())
    with pytest.raises(errors.UnsupportedOperation) as raised:
        allocation_target(ctx)
    assert "zone1" in raised.value.message
    assert raised.value.status == 400
    assert "associateIpAddress" not in ctx.cloudstack.commands


def test_allocate_in_basic_zone_with_elastic_ip():
    cloudstack = FakeCloudStack()
    original = cloudstack.list

    def elastic_list(command, object_name, **params):
        if command == "listNetworks":
            return [{"id": "n1", "zoneid": "z1", "type": "Shared",
                     "service": [{"name": "StaticNat"}, {"name": "Dhcp"}]}]
        return original(command, object_name, **params)

    cloudstack.list = elastic_list
    assert allocation_target(types.SimpleNamespace(cloudstack=cloudstack)) == {"zoneid": "z1"}


def test_association_id(cloud, instances):
    ec2 = cloud.boto3("alice")
    allocated = ec2.allocate_address()
    associated = ec2.associate_address(AllocationId=allocated["AllocationId"],
                                       InstanceId=instances["advanced2"])
    association_id = associated["AssociationId"]
    assert re.match(r"^eipassoc-[0-9a-f]{17}$", association_id)
    described = ec2.describe_addresses(AllocationIds=[allocated["AllocationId"]])["Addresses"]
    assert described[0]["AssociationId"] == association_id
    by_filter = ec2.describe_addresses(Filters=[{"Name": "association-id",
                                                 "Values": [association_id]}])["Addresses"]
    assert [a["PublicIp"] for a in by_filter] == [allocated["PublicIp"]]

    ec2.disassociate_address(AssociationId=association_id)
    assert cloudstack_addresses(cloud)[allocated["PublicIp"]]["isstaticnat"] is False
    assert "AssociationId" not in ec2.describe_addresses(
        AllocationIds=[allocated["AllocationId"]])["Addresses"][0]
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        ec2.disassociate_address(AssociationId=association_id)
    assert raised.value.response["Error"]["Code"] == "InvalidAssociationID.NotFound"
    ec2.release_address(AllocationId=allocated["AllocationId"])
