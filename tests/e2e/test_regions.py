"""DescribeRegions through boto3 and boto 2: the one region of the configuration."""

import socket

import boto.exception
import botocore.exceptions
import pytest

from cloudbridge.config import Config, load_config
from cloudbridge.ec2.regions import region_endpoint
from tests.harness import error_code, signed_query, xml_text


def endpoint(cloud):
    """The endpoint the test configuration gives: it listens on every address."""
    assert cloud.config.listen_address == "0.0.0.0"
    return "%s:%d" % (socket.gethostname(), cloud.config.listen_port)


@pytest.mark.parametrize("address, expected", [
    ("192.0.2.7", "192.0.2.7:8090"),
    ("::1", "[::1]:8090"),
    ("::", "%s:8090" % socket.gethostname()),
])
def test_endpoint_from_listen_address(address, expected):
    config = Config(path="ec2-service.properties", listen_address=address, listen_port=8090)
    assert region_endpoint(config) == expected


def test_configured_endpoint_wins(tmp_path):
    (tmp_path / "ec2-service.properties").write_text(
        "managementServer=127.0.0.1\nlistenAddress=192.0.2.7\n"
        "regionEndpoint=ec2.cloud.example.com\n")
    config = load_config(str(tmp_path))
    assert region_endpoint(config) == "ec2.cloud.example.com"


def test_boto3_describe_regions(cloud):
    regions = cloud.boto3("alice").describe_regions()["Regions"]
    assert regions == [{"RegionName": "cloudstack", "Endpoint": endpoint(cloud)}]
    named = cloud.boto3("alice").describe_regions(RegionNames=["cloudstack"])["Regions"]
    assert [r["RegionName"] for r in named] == ["cloudstack"]


def test_boto2_describe_regions(cloud):
    regions = cloud.boto2("bob").get_all_regions()
    assert [(r.name, r.endpoint) for r in regions] == [("cloudstack", endpoint(cloud))]
    assert [r.name for r in cloud.boto2("bob").get_all_regions(
        region_names=["cloudstack"])] == ["cloudstack"]


def test_region_makes_no_cloudstack_call(cloud):
    cloud.simulator.clear_calls()
    response = signed_query(cloud, "alice", {"Action": "DescribeRegions"})
    assert response.status_code == 200
    assert xml_text(response.content, ".//regionName") == ["cloudstack"]
    assert cloud.simulator.calls == []


def test_unknown_region(cloud):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        cloud.boto3("alice").describe_regions(RegionNames=["us-east-1"])
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "us-east-1" in raised.value.response["Error"]["Message"]
    with pytest.raises(boto.exception.EC2ResponseError) as raised:
        cloud.boto2("alice").get_all_regions(region_names=["us-east-1"])
    assert raised.value.error_code == "InvalidParameterValue"


@pytest.mark.parametrize("client", ["boto3", "boto2"])
@pytest.mark.parametrize("name, value, expected", [
    ("region-name", "cloudstack", ["cloudstack"]),
    ("region-name", "cloud*", ["cloudstack"]),
    ("region-name", "eu-west-1", []),
    ("endpoint", None, ["cloudstack"]),
    ("endpoint", "ec2.example.com", []),
])
def test_region_filters(cloud, client, name, value, expected):
    value = value or endpoint(cloud)
    if client == "boto3":
        found = [r["RegionName"] for r in cloud.boto3("alice").describe_regions(
            Filters=[{"Name": name, "Values": [value]}])["Regions"]]
    else:
        found = [r.name for r in cloud.boto2("alice").get_all_regions(filters={name: value})]
    assert found == expected


def test_unknown_region_filter(cloud):
    response = signed_query(cloud, "alice", {"Action": "DescribeRegions",
                                             "Filter.1.Name": "opt-in-status",
                                             "Filter.1.Value.1": "opted-in"})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameterValue"
