"""Instance attributes: DescribeInstanceAttribute and ModifyInstanceAttribute."""

import logging

from cloudbridge import errors
from cloudbridge.ec2 import ids
from cloudbridge.ec2.core import action
from cloudbridge.ec2.images import ROOT_DEVICE_NAME
from cloudbridge.ec2.instance_view import InstanceView
from cloudbridge.ec2.storage import block_device_mapping
from cloudbridge.ec2.instances import find_vms
from cloudbridge.ec2.run import USER_DATA, checked_user_data, find_offering

LOG = logging.getLogger(__name__)

# The attributes of the 2010-11-15 schema, in its order.
BASE_ATTRIBUTES = ("instanceType", "kernel", "ramdisk", "userData", "disableApiTermination",
                   "instanceInitiatedShutdownBehavior", "rootDeviceName", "blockDeviceMapping")
# Attributes of later versions that CloudBridge can describe from CloudStack.
LATER_ATTRIBUTES = ("productCodes", "ebsOptimized", "groupSet")
MODIFIABLE = ("instanceType", "userData")
# A CloudStack VM stops when its guest shuts down, and any user with the VM
# may destroy it.
SHUTDOWN_BEHAVIOR = "stop"
API_TERMINATION_DISABLED = False


def supported_attributes(ctx):
    return BASE_ATTRIBUTES if ctx.uses_base_version else BASE_ATTRIBUTES + LATER_ATTRIBUTES


def vm_block_device_mapping(ctx, vm):
    volumes = ctx.cloudstack.list("listVolumes", "volume", virtualmachineid=vm["id"],
                                  listall=True)
    return block_device_mapping(volumes, ids.to_ec2(ctx, ids.VOLUME, [v["id"] for v in volumes]))


def user_data(ctx, vm):
    # CloudStack 4.2 keeps a VM's user data, but listVirtualMachines does not
    # return it, so CloudBridge stores what it sent.  A CloudStack version
    # whose listing has it is read directly.
    if "userdata" in vm:
        return {"value": vm.get("userdata") or None}
    stored = ctx.store.details(ids.INSTANCE, [vm["id"]], USER_DATA)
    if vm["id"] in stored:
        return {"value": stored[vm["id"]] or None}
    raise errors.UnsupportedOperation(
        "This instance was not launched through CloudBridge and CloudStack does not "
        "return the user data of a VM, so its userData cannot be described; "
        "ModifyInstanceAttribute can still replace it.")


@action("DescribeInstanceAttribute")
def describe_instance_attribute(ctx):
    instance_id = ctx.params.require("InstanceId")
    attribute = ctx.params.require("Attribute")
    supported = supported_attributes(ctx)
    if attribute not in supported:
        raise errors.InvalidParameterValue(
            "The attribute '%s' is not supported; use one of %s."
            % (attribute, ", ".join(supported)))
    [(_, vm)] = find_vms(ctx, [instance_id])
    view = InstanceView(ctx, [vm])

    if attribute == "instanceType":
        value = {"value": view.instance_type(vm)}
    elif attribute in ("kernel", "ramdisk"):
        value = {}  # CloudStack VMs boot the kernel of their template's disk
    elif attribute == "userData":
        value = user_data(ctx, vm)
    elif attribute == "disableApiTermination":
        value = {"value": API_TERMINATION_DISABLED}
    elif attribute == "instanceInitiatedShutdownBehavior":
        value = {"value": SHUTDOWN_BEHAVIOR}
    elif attribute == "rootDeviceName":
        value = {"value": ROOT_DEVICE_NAME}
    elif attribute == "blockDeviceMapping":
        value = vm_block_device_mapping(ctx, vm)
    elif attribute == "productCodes":
        value = []
    elif attribute == "ebsOptimized":
        value = {"value": False}
    else:
        value = view.groups(vm)
    return {"instanceId": view.instance_ids[vm["id"]], attribute: value}


# ModifyInstanceAttribute

# The structured request names (Name.Value) of every attribute EC2 defines.
VALUE_ATTRIBUTES = {
    "InstanceType": "instanceType", "Kernel": "kernel", "Ramdisk": "ramdisk",
    "UserData": "userData", "DisableApiTermination": "disableApiTermination",
    "InstanceInitiatedShutdownBehavior": "instanceInitiatedShutdownBehavior",
    "SourceDestCheck": "sourceDestCheck", "EbsOptimized": "ebsOptimized",
    "SriovNetSupport": "sriovNetSupport", "EnaSupport": "enaSupport",
}
# Values that request what every CloudStack VM already has.
UNCHANGED_VALUES = {"disableApiTermination": "false",
                    "instanceInitiatedShutdownBehavior": SHUTDOWN_BEHAVIOR}


def requested_change(ctx):
    """Return (attribute, value) of the one change a request makes.

    The 2010-11-15 form is Attribute=<name>&Value=<value>. Later versions
    (and boto 2) send <Name>.Value=<value>, GroupId.N or BlockDeviceMapping.N.
    """
    params = ctx.params
    changes = []
    if params.get("Attribute"):
        changes.append((params.get("Attribute"), params.get("Value")))
    for name, attribute in VALUE_ATTRIBUTES.items():
        structure = params.structure(name)
        if "Value" in structure:
            changes.append((attribute, structure["Value"]))
    if params.strings("GroupId"):
        changes.append(("groupSet", params.strings("GroupId")))
    if params.structures("BlockDeviceMapping"):
        changes.append(("blockDeviceMapping", params.structures("BlockDeviceMapping")))
    if not changes:
        raise errors.MissingParameter(
            "The request must contain an attribute to change: Attribute and Value, or "
            "InstanceType.Value or UserData.Value.")
    if len(changes) > 1:
        raise errors.InvalidParameterCombination(
            "ModifyInstanceAttribute changes one attribute at a time; this request names %s."
            % ", ".join(attribute for attribute, _ in changes))
    attribute, value = changes[0]
    if value is None:
        raise errors.MissingParameter("The request must contain the parameter Value")
    return attribute, value


def require_stopped(instance_id, vm, attribute):
    if vm.get("state") != "Stopped":
        raise errors.IncorrectInstanceState(
            "The instance '%s' is not in the 'stopped' state; stop it before changing "
            "its %s." % (instance_id, attribute))


def change_instance_type(ctx, instance_id, vm, instance_type):
    offering_id = find_offering(ctx, instance_type)
    require_stopped(instance_id, vm, "instanceType")
    if vm.get("serviceofferingid") == offering_id:
        return  # CloudStack rejects a change to the offering the VM already has
    ctx.cloudstack.request("changeServiceForVirtualMachine", id=vm["id"],
                           serviceofferingid=offering_id)
    LOG.info("instance %s (VM %s) changed to instance type %s", instance_id, vm["id"],
             instance_type)


def change_user_data(ctx, instance_id, vm, value):
    encoded = checked_user_data(value)
    if encoded is None:
        raise errors.InvalidParameterValue(
            "The user data is empty; CloudStack cannot remove a VM's user data, only "
            "replace it with at least one byte.")
    require_stopped(instance_id, vm, "userData")
    ctx.cloudstack.request("updateVirtualMachine", id=vm["id"], userdata=encoded)
    ctx.store.set_details(ids.INSTANCE, vm["id"], {USER_DATA: encoded})


@action("ModifyInstanceAttribute")
def modify_instance_attribute(ctx):
    instance_id = ctx.params.require("InstanceId")
    attribute, value = requested_change(ctx)
    known = set(BASE_ATTRIBUTES) | set(VALUE_ATTRIBUTES.values()) | {"groupSet"}
    if attribute not in known:
        raise errors.InvalidParameterValue(
            "The attribute '%s' is invalid; ModifyInstanceAttribute can change %s."
            % (attribute, " and ".join(MODIFIABLE)))
    [(_, vm)] = find_vms(ctx, [instance_id])

    if attribute == "instanceType":
        change_instance_type(ctx, instance_id, vm, value)
    elif attribute == "userData":
        change_user_data(ctx, instance_id, vm, value)
    elif isinstance(value, str) and UNCHANGED_VALUES.get(attribute) == value.lower():
        pass  # the VM already behaves this way
    else:
        raise errors.UnsupportedOperation(
            "CloudStack cannot change the %s of an instance; ModifyInstanceAttribute can "
            "change %s." % (attribute, " and ".join(MODIFIABLE)))
    return {"return": True}
