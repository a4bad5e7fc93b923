import pytest

from cloudbridge import errors
from cloudbridge.protocol.params import Parameters, nest


def test_nest_numbered_lists_in_order():
    tree = nest({"InstanceId.2": "i-b", "InstanceId.1": "i-a", "InstanceId.10": "i-j"})
    assert tree == {"InstanceId": ["i-a", "i-b", "i-j"]}


def test_nest_structures():
    tree = nest({"IpPermissions.1.IpProtocol": "tcp",
                 "IpPermissions.1.IpRanges.1.CidrIp": "10.0.0.0/8",
                 "IpPermissions.1.IpRanges.2.CidrIp": "0.0.0.0/0",
                 "Placement.AvailabilityZone": "zone1"})
    assert tree["IpPermissions"] == [{"IpProtocol": "tcp",
                                      "IpRanges": [{"CidrIp": "10.0.0.0/8"},
                                                   {"CidrIp": "0.0.0.0/0"}]}]
    assert tree["Placement"] == {"AvailabilityZone": "zone1"}


def test_filters():
    params = Parameters.from_query({"Filter.1.Name": "instance-state-name",
                                    "Filter.1.Value.1": "running",
                                    "Filter.1.Value.2": "stopped",
                                    "Filter.2.Name": "image-id",
                                    "Filter.2.Value.1": "ami-1"})
    assert params.filters() == [("instance-state-name", ["running", "stopped"]),
                                ("image-id", ["ami-1"])]


def test_filter_without_value():
    params = Parameters.from_query({"Filter.1.Name": "image-id"})
    with pytest.raises(errors.MissingParameter):
        params.filters()


def test_integer_validation():
    params = Parameters.from_query({"MinCount": "x", "MaxCount": "0"})
    with pytest.raises(errors.InvalidParameterValue):
        params.integer("MinCount")
    with pytest.raises(errors.InvalidParameterValue):
        params.integer("MaxCount", minimum=1)


def test_require_missing():
    with pytest.raises(errors.MissingParameter) as raised:
        Parameters.from_query({}).require("ImageId")
    assert "ImageId" in raised.value.message
