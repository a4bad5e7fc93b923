"""Image attributes through boto3 and boto 2: launch permissions and descriptions."""

import boto.exception
import botocore.exceptions
import pytest

from tests.harness import calls, error_code, signed_query, xml_text

UNKNOWN_IMAGE = "ami-0123456789abcdef0"
PUBLIC_DEBIAN = "Debian 7 x86_64 (community)"


def client_error(excinfo):
    return excinfo.value.response["Error"]["Code"]


def template_id(cloud, image_id):
    return cloud.stores[0].cloudstack_ids("ami", [image_id])[image_id]


def permissions(cloud, image_id):
    """(sorted account names, is public) of a template, as CloudStack keeps them."""
    found = cloud.cloudstack("alice").request("listTemplatePermissions",
                                              id=template_id(cloud, image_id))
    permission = found["templatepermission"]
    return sorted(permission.get("account") or []), permission["ispublic"]


def template(cloud, image_id):
    return cloud.cloudstack("alice").list("listTemplates", "template", templatefilter="self",
                                          id=template_id(cloud, image_id))[0]


def register(cloud, name):
    return cloud.boto3("alice").register_image(
        Name=name, Description="%s description" % name,
        ImageLocation="http://images.example/%s.vhd" % name,
        Architecture="VHD:zone1:CentOS 5.5")["ImageId"]


@pytest.fixture(scope="module")
def image_id(cloud):
    """Alice's private image that the launch permission tests share."""
    return register(cloud, "alice-shared")


@pytest.fixture(autouse=True)
def private_again(request):
    """Reset the shared image's launch permissions after each test that uses it."""
    yield
    if "image_id" in request.fixturenames:
        cloud = request.getfixturevalue("cloud")
        cloud.cloudstack("alice").request(
            "updateTemplatePermissions", id=template_id(cloud, request.getfixturevalue(
                "image_id")), op="reset", ispublic=False)


def launch_permissions(ec2, image_id):
    return ec2.describe_image_attribute(ImageId=image_id,
                                        Attribute="launchPermission")["LaunchPermissions"]


# DescribeImageAttribute

def test_describe_launch_permission_private(cloud, image_id):
    ec2 = cloud.boto3("alice")
    assert launch_permissions(ec2, image_id) == []
    attribute = cloud.boto2("alice").get_image_attribute(image_id, "launchPermission")
    assert attribute.attrs == {}


def test_describe_description_and_fixed_attributes(cloud, image_id):
    ec2 = cloud.boto3("alice")
    described = ec2.describe_image_attribute(ImageId=image_id, Attribute="description")
    assert described["ImageId"] == image_id
    assert described["Description"] == {"Value": "alice-shared description"}

    assert ec2.describe_image_attribute(ImageId=image_id,
                                        Attribute="productCodes")["ProductCodes"] == []
    assert ec2.describe_image_attribute(ImageId=image_id, Attribute="kernel")["KernelId"] == {}
    assert ec2.describe_image_attribute(ImageId=image_id,
                                        Attribute="ramdisk")["RamdiskId"] == {}
    [root] = ec2.describe_image_attribute(ImageId=image_id,
                                          Attribute="blockDeviceMapping")["BlockDeviceMappings"]
    assert root["DeviceName"] == "/dev/sda1"
    assert root["Ebs"]["VolumeSize"] == 2  # the simulator's registered templates have 2 GiB

    conn = cloud.boto2("alice")
    mapping = conn.get_image_attribute(image_id, "blockDeviceMapping")
    assert list(mapping.attrs["block_device_mapping"]) == ["/dev/sda1"]


def test_describe_image_attribute_2010_form(cloud, image_id):
    response = signed_query(cloud, "alice", {"Action": "DescribeImageAttribute",
                                             "ImageId": image_id, "Attribute": "description"})
    assert response.status_code == 200
    assert xml_text(response.content, "./imageId") == [image_id]
    assert xml_text(response.content, "./description/value") == ["alice-shared description"]


def test_describe_public_image_of_another_account(cloud):
    ec2 = cloud.boto3("bob")
    public = next(i for i in ec2.describe_images()["Images"] if i["Name"] == PUBLIC_DEBIAN)
    assert launch_permissions(ec2, public["ImageId"]) == [{"Group": "all"}]


def test_describe_image_attribute_errors(cloud, image_id):
    ec2 = cloud.boto3("alice")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.describe_image_attribute(ImageId=UNKNOWN_IMAGE, Attribute="launchPermission")
    assert client_error(excinfo) == "InvalidAMIID.NotFound"

    # Alice's private image does not exist for Bob.
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        cloud.boto3("bob").describe_image_attribute(ImageId=image_id,
                                                    Attribute="launchPermission")
    assert client_error(excinfo) == "InvalidAMIID.NotFound"

    with pytest.raises(boto.exception.EC2ResponseError) as excinfo:
        cloud.boto2("alice").get_image_attribute(image_id, "sriovNetSupport")
    assert excinfo.value.error_code == "InvalidParameterValue"
    assert "launchPermission" in excinfo.value.error_message

    response = signed_query(cloud, "alice", {"Action": "DescribeImageAttribute",
                                             "ImageId": image_id})
    assert error_code(response) == "MissingParameter"


# ModifyImageAttribute: launch permissions

def test_add_user_and_public_boto3(cloud, image_id):
    ec2 = cloud.boto3("alice")
    cloud.simulator.clear_calls()
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={
        "Add": [{"UserId": "bob"}, {"Group": "all"}]})

    [update] = calls(cloud, "updateTemplatePermissions")
    assert update["params"]["op"] == "add"
    assert update["params"]["accounts"] == "bob"
    assert update["params"]["ispublic"] == "true"
    assert permissions(cloud, image_id) == (["bob"], True)
    assert sorted(launch_permissions(ec2, image_id), key=str) == [{"Group": "all"},
                                                                  {"UserId": "bob"}]
    # Bob can now see and launch the image.
    bob_images = cloud.boto3("bob").describe_images(ExecutableUsers=["self"])["Images"]
    assert image_id in [i["ImageId"] for i in bob_images]


def test_remove_user_2010_form_boto3(cloud, image_id):
    ec2 = cloud.boto3("alice")
    ec2.modify_image_attribute(ImageId=image_id, Attribute="launchPermission",
                               OperationType="add", UserIds=["bob", "admin"])
    assert permissions(cloud, image_id) == (["admin", "bob"], False)

    ec2.modify_image_attribute(ImageId=image_id, Attribute="launchPermission",
                               OperationType="remove", UserIds=["bob"])
    assert permissions(cloud, image_id) == (["admin"], False)
    assert launch_permissions(ec2, image_id) == [{"UserId": "admin"}]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        cloud.boto3("bob").describe_images(ImageIds=[image_id])
    assert client_error(excinfo) == "InvalidAMIID.NotFound"


def test_launch_permission_boto2(cloud, image_id):
    conn = cloud.boto2("alice")
    assert conn.modify_image_attribute(image_id, "launchPermission", "add",
                                       user_ids=["bob"], groups=["all"]) is True
    assert permissions(cloud, image_id) == (["bob"], True)
    attribute = conn.get_image_attribute(image_id, "launchPermission")
    assert attribute.attrs == {"groups": ["all"], "user_ids": ["bob"]}

    assert conn.modify_image_attribute(image_id, "launchPermission", "remove",
                                       groups=["all"]) is True
    assert permissions(cloud, image_id) == (["bob"], False)

    assert conn.reset_image_attribute(image_id, "launchPermission") is True
    assert permissions(cloud, image_id) == ([], False)


def test_add_and_remove_in_one_request(cloud, image_id):
    ec2 = cloud.boto3("alice")
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": "bob"}]})
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={
        "Add": [{"UserId": "admin"}, {"Group": "all"}], "Remove": [{"UserId": "bob"}]})
    assert permissions(cloud, image_id) == (["admin"], True)


def test_failed_add_restores_permissions(cloud, image_id):
    ec2 = cloud.boto3("alice")
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": "bob"}]})
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={
            "Add": [{"UserId": "no-such-account"}], "Remove": [{"UserId": "bob"}]})
    assert client_error(excinfo) == "InvalidParameterValue"
    assert "no-such-account" in excinfo.value.response["Error"]["Message"]
    assert permissions(cloud, image_id) == (["bob"], False)


def test_reset_launch_permission_boto3(cloud, image_id):
    ec2 = cloud.boto3("alice")
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={
        "Add": [{"UserId": "bob"}, {"Group": "all"}]})
    cloud.simulator.clear_calls()
    ec2.reset_image_attribute(ImageId=image_id, Attribute="launchPermission")
    [update] = calls(cloud, "updateTemplatePermissions")
    assert update["params"]["op"] == "reset"
    assert permissions(cloud, image_id) == ([], False)
    assert launch_permissions(ec2, image_id) == []


@pytest.mark.parametrize("params,code", [
    ({"Attribute": "launchPermission", "OperationType": "add", "UserGroup.1": "admins"},
     "InvalidAMIAttributeItemValue"),
    ({"Attribute": "launchPermission", "OperationType": "replace", "UserId.1": "bob"},
     "InvalidParameterValue"),
    ({"Attribute": "launchPermission", "UserId.1": "bob"}, "MissingParameter"),
    ({"Attribute": "launchPermission"}, "MissingParameter"),
    ({}, "MissingParameter"),
    ({"Attribute": "kernel", "Value": "aki-12345678"}, "InvalidParameterValue"),
    ({"Attribute": "productCodes", "ProductCode.1": "774F4FF8"}, "UnsupportedOperation"),
    ({"LaunchPermission.Add.1.UserId": "bob", "Description.Value": "both"},
     "InvalidParameterCombination"),
    ({"Description.Value": " "}, "InvalidParameterValue"),
])
def test_modify_image_attribute_bad_input(cloud, image_id, params, code):
    cloud.simulator.clear_calls()
    response = signed_query(cloud, "alice", dict(params, Action="ModifyImageAttribute",
                                                 ImageId=image_id))
    assert response.status_code == 400
    assert error_code(response) == code
    assert calls(cloud, "updateTemplatePermissions") == []
    assert calls(cloud, "updateTemplate") == []
    assert permissions(cloud, image_id) == ([], False)


def test_modify_image_of_another_account(cloud, image_id):
    bob = cloud.boto3("bob")
    public = next(i for i in bob.describe_images()["Images"] if i["Name"] == PUBLIC_DEBIAN)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        bob.modify_image_attribute(ImageId=public["ImageId"],
                                   LaunchPermission={"Remove": [{"Group": "all"}]})
    assert client_error(excinfo) == "UnauthorizedOperation"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert launch_permissions(bob, public["ImageId"]) == [{"Group": "all"}]

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        bob.modify_image_attribute(ImageId=image_id,
                                   LaunchPermission={"Add": [{"UserId": "bob"}]})
    assert client_error(excinfo) == "InvalidAMIID.NotFound"
    assert permissions(cloud, image_id) == ([], False)

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        bob.reset_image_attribute(ImageId=public["ImageId"], Attribute="launchPermission")
    assert client_error(excinfo) == "UnauthorizedOperation"


# ModifyImageAttribute: description

def test_modify_description_boto3(cloud):
    image_id = register(cloud, "alice-described")
    ec2 = cloud.boto3("alice")
    cloud.simulator.clear_calls()
    ec2.modify_image_attribute(ImageId=image_id, Description={"Value": "A better text"})

    [update] = calls(cloud, "updateTemplate")
    assert update["params"]["displaytext"] == "A better text"
    assert template(cloud, image_id)["displaytext"] == "A better text"
    described = ec2.describe_image_attribute(ImageId=image_id, Attribute="description")
    assert described["Description"] == {"Value": "A better text"}
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["Description"] == \
        "A better text"


def test_modify_description_2010_form(cloud):
    image_id = register(cloud, "alice-described-2010")
    response = signed_query(cloud, "alice", {"Action": "ModifyImageAttribute",
                                             "ImageId": image_id, "Attribute": "description",
                                             "Value": "Set with Attribute and Value"})
    assert response.status_code == 200
    assert xml_text(response.content, "./return") == ["true"]
    assert template(cloud, image_id)["displaytext"] == "Set with Attribute and Value"
    described = cloud.boto2("alice").get_image_attribute(image_id, "description")
    # boto 2 keeps the text of <value> as the attribute `value`.
    assert described.value == "Set with Attribute and Value"


# ResetImageAttribute

def test_reset_image_attribute_errors(cloud, image_id):
    ec2 = cloud.boto3("alice")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ec2.reset_image_attribute(ImageId=UNKNOWN_IMAGE, Attribute="launchPermission")
    assert client_error(excinfo) == "InvalidAMIID.NotFound"

    with pytest.raises(boto.exception.EC2ResponseError) as excinfo:
        cloud.boto2("alice").reset_image_attribute(image_id, "description")
    assert excinfo.value.error_code == "InvalidParameterValue"
    assert "launchPermission" in excinfo.value.error_message
