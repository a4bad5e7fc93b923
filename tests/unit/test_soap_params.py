"""SOAP request elements (WSDL document/literal shape) turned into Query API parameters."""

import pytest
from lxml import etree

from cloudbridge import errors
from cloudbridge.protocol.params import Parameters
from cloudbridge.protocol.soap_params import query_name, query_params
from tests.soap_client import ec2_namespace, operation_element

BASE = "2010-11-15"
LATER = "2013-02-01"
FILTERS = [{"name": "instance-state-name", "valueSet": [{"value": "running"},
                                                        {"value": "stopped"}]},
           {"name": "image-id", "valueSet": [{"value": "ami-1"}]}]


def params_of(action, content, version=BASE):
    return query_params(operation_element(action, version, content), version)


def from_xml(xml, version=BASE):
    return query_params(etree.fromstring(xml), version)


@pytest.mark.parametrize("element_name, expected", [
    ("imageId", "ImageId"), ("cidrIp", "CidrIp"), ("ebs", "Ebs"),
    ("noDevice", "NoDevice"), ("AccessKey", "AccessKey"), ("cert", "Cert"),
])
def test_query_name(element_name, expected):
    assert query_name(element_name) == expected


def test_describe_instances_ids_and_filters():
    params = params_of("DescribeInstances", {
        "instancesSet": [{"instanceId": "i-1"}, {"instanceId": "i-2"}],
        "filterSet": FILTERS})
    assert params == {
        "InstanceId.1": "i-1", "InstanceId.2": "i-2",
        "Filter.1.Name": "instance-state-name", "Filter.1.Value.1": "running",
        "Filter.1.Value.2": "stopped",
        "Filter.2.Name": "image-id", "Filter.2.Value.1": "ami-1"}
    parsed = Parameters.from_query(params)
    assert parsed.strings("InstanceId") == ["i-1", "i-2"]
    assert parsed.filters() == [("instance-state-name", ["running", "stopped"]),
                                ("image-id", ["ami-1"])]


def test_java_tools_empty_sets_left_out():
    namespace = ec2_namespace(LATER)
    xml = ('<ns1:DescribeInstances xmlns:ns1="%s"><ns1:instancesSet/><ns1:filterSet/>'
           '</ns1:DescribeInstances>' % namespace)
    assert from_xml(xml, LATER) == {}


def test_pretty_printed_request():
    namespace = ec2_namespace(BASE)
    xml = ('<DescribeInstances xmlns="%s">\n  <instancesSet>\n    <item>\n'
           '      <instanceId>i-1</instanceId>\n    </item>\n  </instancesSet>\n'
           '  <filterSet>\n  </filterSet>\n</DescribeInstances>' % namespace)
    assert from_xml(xml) == {"InstanceId.1": "i-1"}


def test_run_instances_base_version():
    params = params_of("RunInstances", {
        "imageId": "ami-1", "minCount": "1", "maxCount": "2", "keyName": "key1",
        "groupSet": [{"groupId": "default"}, {"groupId": "web"}],
        "userData": {"data": "IyEvYmluL3No"}, "instanceType": "m1.small",
        "placement": {"availabilityZone": "zone1"}, "kernelId": "aki-1",
        "blockDeviceMapping": [], "monitoring": {"enabled": "false"},
        "disableApiTermination": "false", "clientToken": "token-1"})
    assert params == {
        "ImageId": "ami-1", "MinCount": "1", "MaxCount": "2", "KeyName": "key1",
        "SecurityGroup.1": "default", "SecurityGroup.2": "web",
        "UserData": "IyEvYmluL3No", "InstanceType": "m1.small",
        "Placement.AvailabilityZone": "zone1", "KernelId": "aki-1",
        "Monitoring.Enabled": "false", "DisableApiTermination": "false",
        "ClientToken": "token-1"}
    parsed = Parameters.from_query(params)
    assert parsed.integer("MaxCount") == 2
    assert parsed.strings("SecurityGroup") == ["default", "web"]
    assert parsed.structure("Placement") == {"AvailabilityZone": "zone1"}
    assert parsed.structures("BlockDeviceMapping") == []


def test_run_instances_later_version_groups():
    params = params_of("RunInstances", {
        "imageId": "ami-1", "minCount": "1", "maxCount": "1",
        "groupSet": [{"groupId": "sg-0123"}, {"groupName": "web"}]}, LATER)
    assert params == {"ImageId": "ami-1", "MinCount": "1", "MaxCount": "1",
                      "SecurityGroupId.1": "sg-0123", "SecurityGroup.2": "web"}
    parsed = Parameters.from_query(params)
    assert parsed.strings("SecurityGroupId") == ["sg-0123"]
    assert parsed.strings("SecurityGroup") == ["web"]


def test_run_instances_block_device_mapping():
    params = params_of("RunInstances", {"imageId": "ami-1", "blockDeviceMapping": [
        {"deviceName": "/dev/sdb", "ebs": {"snapshotId": "snap-1", "volumeSize": "10",
                                           "deleteOnTermination": "true"}},
        {"deviceName": "/dev/sdc", "noDevice": ""}]})
    assert params == {
        "ImageId": "ami-1",
        "BlockDeviceMapping.1.DeviceName": "/dev/sdb",
        "BlockDeviceMapping.1.Ebs.SnapshotId": "snap-1",
        "BlockDeviceMapping.1.Ebs.VolumeSize": "10",
        "BlockDeviceMapping.1.Ebs.DeleteOnTermination": "true",
        "BlockDeviceMapping.2.DeviceName": "/dev/sdc",
        "BlockDeviceMapping.2.NoDevice": ""}
    mappings = Parameters.from_query(params).structures("BlockDeviceMapping")
    assert mappings[0].structure("Ebs") == {"SnapshotId": "snap-1", "VolumeSize": "10",
                                            "DeleteOnTermination": "true"}


def test_describe_images_lists():
    params = params_of("DescribeImages", {
        "executableBySet": [{"user": "self"}], "imagesSet": [{"imageId": "ami-1"}],
        "ownersSet": [{"owner": "self"}, {"owner": "amazon"}], "filterSet": FILTERS[1:]})
    assert params == {"ExecutableBy.1": "self", "ImageId.1": "ami-1",
                      "Owner.1": "self", "Owner.2": "amazon",
                      "Filter.1.Name": "image-id", "Filter.1.Value.1": "ami-1"}


@pytest.mark.parametrize("action, content, expected", [
    ("DescribeAvailabilityZones", {"availabilityZoneSet": [{"zoneName": "zone1"}]},
     {"ZoneName.1": "zone1"}),
    ("DescribeRegions", {"regionSet": [{"regionName": "cloudstack"}]},
     {"RegionName.1": "cloudstack"}),
    ("StartInstances", {"instancesSet": [{"instanceId": "i-1"}]}, {"InstanceId.1": "i-1"}),
    ("StopInstances", {"instancesSet": [{"instanceId": "i-1"}], "force": "true"},
     {"InstanceId.1": "i-1", "Force": "true"}),
    ("RebootInstances", {"instancesSet": [{"instanceId": "i-1"}]}, {"InstanceId.1": "i-1"}),
    ("TerminateInstances", {"instancesSet": [{"instanceId": "i-1"}, {"instanceId": "i-2"}]},
     {"InstanceId.1": "i-1", "InstanceId.2": "i-2"}),
    ("GetPasswordData", {"instanceId": "i-1"}, {"InstanceId": "i-1"}),
    ("GetConsoleOutput", {"instanceId": "i-1"}, {"InstanceId": "i-1"}),
    ("CreateKeyPair", {"keyName": "key1"}, {"KeyName": "key1"}),
    ("ImportKeyPair", {"keyName": "key1", "publicKeyMaterial": "c3NoLXJzYQ=="},
     {"KeyName": "key1", "PublicKeyMaterial": "c3NoLXJzYQ=="}),
    ("DeleteKeyPair", {"keyName": "key1"}, {"KeyName": "key1"}),
    ("DescribeKeyPairs", {"keySet": [{"keyName": "key1"}]}, {"KeyName.1": "key1"}),
    ("AllocateAddress", {}, {}),
    ("DescribeAddresses", {"publicIpsSet": [{"publicIp": "192.0.2.1"}],
                           "filterSet": [{"name": "instance-id",
                                          "valueSet": [{"value": "i-1"}]}]},
     {"PublicIp.1": "192.0.2.1", "Filter.1.Name": "instance-id", "Filter.1.Value.1": "i-1"}),
    ("AssociateAddress", {"publicIp": "192.0.2.1", "instanceId": "i-1"},
     {"PublicIp": "192.0.2.1", "InstanceId": "i-1"}),
    ("DisassociateAddress", {"publicIp": "192.0.2.1"}, {"PublicIp": "192.0.2.1"}),
    ("ReleaseAddress", {"publicIp": "192.0.2.1"}, {"PublicIp": "192.0.2.1"}),
    ("CreateSecurityGroup", {"groupName": "web", "groupDescription": "Web servers"},
     {"GroupName": "web", "GroupDescription": "Web servers"}),
    ("DeleteSecurityGroup", {"groupName": "web"}, {"GroupName": "web"}),
    ("DescribeSecurityGroups", {"securityGroupSet": [{"groupName": "web"}]},
     {"GroupName.1": "web"}),
    ("CreateVolume", {"size": "10", "availabilityZone": "zone1"},
     {"Size": "10", "AvailabilityZone": "zone1"}),
    ("DeleteVolume", {"volumeId": "vol-1"}, {"VolumeId": "vol-1"}),
    ("DescribeVolumes", {"volumeSet": [{"volumeId": "vol-1"}]}, {"VolumeId.1": "vol-1"}),
    ("AttachVolume", {"volumeId": "vol-1", "instanceId": "i-1", "device": "/dev/sdb"},
     {"VolumeId": "vol-1", "InstanceId": "i-1", "Device": "/dev/sdb"}),
    ("DetachVolume", {"volumeId": "vol-1", "force": "false"},
     {"VolumeId": "vol-1", "Force": "false"}),
    ("CreateSnapshot", {"volumeId": "vol-1", "description": "nightly"},
     {"VolumeId": "vol-1", "Description": "nightly"}),
    ("DeleteSnapshot", {"snapshotId": "snap-1"}, {"SnapshotId": "snap-1"}),
    ("DescribeSnapshots", {"snapshotSet": [{"snapshotId": "snap-1"}],
                           "ownersSet": [{"owner": "self"}],
                           "restorableBySet": [{"user": "self"}]},
     {"SnapshotId.1": "snap-1", "Owner.1": "self", "RestorableBy.1": "self"}),
    ("CreateImage", {"instanceId": "i-1", "name": "web", "noReboot": "true"},
     {"InstanceId": "i-1", "Name": "web", "NoReboot": "true"}),
    ("RegisterImage", {"imageLocation": "http://192.0.2.9/t.qcow2", "name": "t",
                       "architecture": "x86_64"},
     {"ImageLocation": "http://192.0.2.9/t.qcow2", "Name": "t", "Architecture": "x86_64"}),
    ("DeregisterImage", {"imageId": "ami-1"}, {"ImageId": "ami-1"}),
    ("DescribeTags", {"filterSet": [{"name": "resource-type",
                                     "valueSet": [{"value": "instance"}]}]},
     {"Filter.1.Name": "resource-type", "Filter.1.Value.1": "instance"}),
    ("MonitorInstances", {"instancesSet": [{"instanceId": "i-1"}]}, {"InstanceId.1": "i-1"}),
    ("SetCertificate", {"cert": "-----BEGIN CERTIFICATE-----"},
     {"Cert": "-----BEGIN CERTIFICATE-----"}),
    ("SetOfferMapping", {"amazonoffer": "m1.small", "cloudoffer": "uuid-1"},
     {"AmazonOffer": "m1.small", "CloudOffer": "uuid-1"}),
    ("SetOfferMapping", {"AmazonOffer": "m1.small", "CloudOffer": "uuid-1"},
     {"AmazonOffer": "m1.small", "CloudOffer": "uuid-1"}),
    ("DeleteOfferMapping", {"amazonoffer": "m1.small"}, {"AmazonOffer": "m1.small"}),
    ("SetUserKeys", {"accesskey": "AKID", "secretkey": "secret"},
     {"AccessKey": "AKID", "SecretKey": "secret"}),
])
def test_operation_parameters(action, content, expected):
    assert params_of(action, content) == expected


def test_authorize_ingress_permissions():
    params = params_of("AuthorizeSecurityGroupIngress", {
        "userId": "", "groupName": "web", "ipPermissions": [
            {"ipProtocol": "tcp", "fromPort": "80", "toPort": "80", "groups": [],
             "ipRanges": [{"cidrIp": "0.0.0.0/0"}, {"cidrIp": "192.0.2.0/24"}]},
            {"ipProtocol": "tcp", "fromPort": "22", "toPort": "22",
             "groups": [{"userId": "alice", "groupName": "admin"}], "ipRanges": []}]})
    assert params == {
        "GroupName": "web",
        "IpPermissions.1.IpProtocol": "tcp", "IpPermissions.1.FromPort": "80",
        "IpPermissions.1.ToPort": "80",
        "IpPermissions.1.IpRanges.1.CidrIp": "0.0.0.0/0",
        "IpPermissions.1.IpRanges.2.CidrIp": "192.0.2.0/24",
        "IpPermissions.2.IpProtocol": "tcp", "IpPermissions.2.FromPort": "22",
        "IpPermissions.2.ToPort": "22",
        "IpPermissions.2.Groups.1.UserId": "alice",
        "IpPermissions.2.Groups.1.GroupName": "admin"}
    permissions = Parameters.from_query(params).structures("IpPermissions")
    assert permissions[0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}, {"CidrIp": "192.0.2.0/24"}]
    assert permissions[1]["Groups"] == [{"UserId": "alice", "GroupName": "admin"}]


def test_revoke_ingress_single_cidr_stays_structured():
    params = params_of("RevokeSecurityGroupIngress", {
        "groupName": "web", "ipPermissions": [
            {"ipProtocol": "tcp", "fromPort": "80", "toPort": "80",
             "ipRanges": [{"cidrIp": "0.0.0.0/0"}]}]})
    assert params["IpPermissions.1.IpRanges.1.CidrIp"] == "0.0.0.0/0"


def test_create_and_delete_tags():
    created = params_of("CreateTags", {
        "resourcesSet": [{"resourceId": "i-1"}, {"resourceId": "ami-1"}],
        "tagSet": [{"key": "Name", "value": "web"}, {"key": "empty", "value": ""}]})
    assert created == {"ResourceId.1": "i-1", "ResourceId.2": "ami-1",
                       "Tag.1.Key": "Name", "Tag.1.Value": "web",
                       "Tag.2.Key": "empty", "Tag.2.Value": ""}
    deleted = params_of("DeleteTags", {"resourcesSet": [{"resourceId": "i-1"}],
                                       "tagSet": [{"key": "Name"}]})
    assert deleted == {"ResourceId.1": "i-1", "Tag.1.Key": "Name"}


@pytest.mark.parametrize("action, content, expected", [
    ("DescribeInstanceAttribute", {"instanceId": "i-1", "instanceType": ""},
     {"InstanceId": "i-1", "Attribute": "instanceType"}),
    ("DescribeInstanceAttribute", {"instanceId": "i-1", "userData": ""},
     {"InstanceId": "i-1", "Attribute": "userData"}),
    ("ResetInstanceAttribute", {"instanceId": "i-1", "kernel": ""},
     {"InstanceId": "i-1", "Attribute": "kernel"}),
    ("DescribeImageAttribute", {"imageId": "ami-1", "launchPermission": ""},
     {"ImageId": "ami-1", "Attribute": "launchPermission"}),
    ("ResetImageAttribute", {"imageId": "ami-1", "launchPermission": ""},
     {"ImageId": "ami-1", "Attribute": "launchPermission"}),
    ("DescribeSnapshotAttribute", {"snapshotId": "snap-1", "createVolumePermission": ""},
     {"SnapshotId": "snap-1", "Attribute": "createVolumePermission"}),
])
def test_attribute_selectors(action, content, expected):
    assert params_of(action, content) == expected


def test_attribute_selector_later_version_element():
    params = params_of("DescribeInstanceAttribute",
                       {"instanceId": "i-1", "attribute": "instanceType"}, LATER)
    assert params == {"InstanceId": "i-1", "Attribute": "instanceType"}


def test_two_attribute_selectors_rejected():
    with pytest.raises(errors.InvalidParameterCombination):
        params_of("DescribeInstanceAttribute",
                  {"instanceId": "i-1", "kernel": "", "ramdisk": ""})


@pytest.mark.parametrize("content, expected", [
    ({"instanceType": {"value": "m1.large"}}, {"InstanceType.Value": "m1.large"}),
    ({"userData": {"value": "SGVsbG8="}}, {"UserData.Value": "SGVsbG8="}),
    ({"disableApiTermination": {"value": "true"}}, {"DisableApiTermination.Value": "true"}),
])
def test_modify_instance_attribute(content, expected):
    assert params_of("ModifyInstanceAttribute", {"instanceId": "i-1", **content}) == {
        "InstanceId": "i-1", **expected}


def test_modify_image_attribute():
    launch = params_of("ModifyImageAttribute", {"imageId": "ami-1", "launchPermission": {
        "add": [{"userId": "alice"}, {"group": "all"}], "remove": [{"userId": "bob"}]}})
    assert launch == {"ImageId": "ami-1",
                      "LaunchPermission.Add.1.UserId": "alice",
                      "LaunchPermission.Add.2.Group": "all",
                      "LaunchPermission.Remove.1.UserId": "bob"}
    codes = params_of("ModifyImageAttribute", {"imageId": "ami-1", "productCodes": [
        {"productCode": "774F4FF8"}]})
    assert codes == {"ImageId": "ami-1", "ProductCode.1": "774F4FF8"}
    description = params_of("ModifyImageAttribute", {"imageId": "ami-1",
                                                     "description": {"value": "web"}})
    assert description == {"ImageId": "ami-1", "Description.Value": "web"}


def test_modify_snapshot_attribute():
    params = params_of("ModifySnapshotAttribute", {
        "snapshotId": "snap-1", "createVolumePermission": {"add": [{"group": "all"}]}})
    assert params == {"SnapshotId": "snap-1", "CreateVolumePermission.Add.1.Group": "all"}


def test_values_kept_verbatim():
    params = params_of("RunInstances", {"imageId": "ami-1",
                                        "userData": {"data": "IyEv\nYmlu"}})
    assert params["UserData"] == "IyEv\nYmlu"


def test_element_from_other_namespace_rejected():
    namespace = ec2_namespace(BASE)
    xml = ('<DescribeInstances xmlns="%s" xmlns:x="urn:other"><x:instancesSet/>'
           '</DescribeInstances>' % namespace)
    with pytest.raises(errors.InvalidParameterValue) as raised:
        from_xml(xml)
    assert "urn:other" in raised.value.message


def test_repeated_element_rejected():
    namespace = ec2_namespace(BASE)
    xml = ('<RunInstances xmlns="%s"><imageId>ami-1</imageId><imageId>ami-2</imageId>'
           '</RunInstances>' % namespace)
    with pytest.raises(errors.InvalidParameterValue) as raised:
        from_xml(xml)
    assert "ImageId" in raised.value.message


def test_renamed_parameter_collision_rejected():
    with pytest.raises(errors.InvalidParameterCombination):
        params_of("RunInstances", {"userData": {"data": "YQ=="}, "UserData": "Yg=="})
