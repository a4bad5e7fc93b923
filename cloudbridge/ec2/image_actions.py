"""Image life cycle: CreateImage, RegisterImage and DeregisterImage."""

import logging
import re
import urllib.parse

from cloudbridge import errors
from cloudbridge.cloudstack.client import JobTimeout
from cloudbridge.ec2 import ids
from cloudbridge.ec2.core import action
from cloudbridge.ec2.images import ROOT_DEVICE_NAME, find_visible_template, list_templates
from cloudbridge.ec2.instances import find_vms
from cloudbridge.ec2.zones import list_zones

LOG = logging.getLogger(__name__)

# EC2's rule for AMI names: 3 to 128 letters, digits and ( ) [ ] space . / - ' @ _
IMAGE_NAME = re.compile(r"^[A-Za-z0-9()\[\] ./\-'@_]{3,128}$")

# Template formats RegisterImage accepts, each with the hypervisor that runs
# it when the Architecture parameter names none.
DEFAULT_HYPERVISORS = {
    "VHD": "XenServer",
    "VHDX": "Hyperv",
    "QCOW2": "KVM",
    "RAW": "KVM",
    "OVA": "VMware",
    "VMDK": "VMware",
    "TAR": "LXC",
}
ARCHITECTURE_FORM = ("<format>:<zone name>:<OS type name>[:<hypervisor>], "
                     "for example VHD:zone1:CentOS 5.5")


def checked_image_name(name):
    if not IMAGE_NAME.match(name):
        raise errors.InvalidAMINameMalformed(
            "The image name '%s' is invalid: use 3 to 128 letters, digits, spaces and "
            "the characters ( ) [ ] . / - ' @ _" % name)
    return name


def check_name_unused(ctx, name):
    """Raise InvalidAMIName.Duplicate when the caller already has an image of this name."""
    existing = ctx.cloudstack.list("listTemplates", "template", templatefilter="self",
                                   name=name)
    if any(t.get("name") == name for t in existing):
        raise errors.InvalidAMINameDuplicate(
            "You already have an image named '%s'; choose another name." % name)


def image_id_of(ctx, template_id):
    return ids.to_ec2(ctx, ids.IMAGE, [template_id])[template_id]


# CreateImage

def root_volume(ctx, vm):
    volumes = ctx.cloudstack.list("listVolumes", "volume", virtualmachineid=vm["id"],
                                  type="ROOT", listall=True)
    if not volumes:
        raise errors.IncorrectInstanceState(
            "The instance has no root volume in CloudStack, so no image can be made of it.")
    return volumes[0]


def os_type_of(ctx, vm):
    """Return the CloudStack OS type id for a template made from this VM."""
    if vm.get("guestosid"):
        return vm["guestosid"]
    source = list_templates(ctx, template_id=vm.get("templateid"))
    if source and source[0].get("ostypeid"):
        return source[0]["ostypeid"]
    raise errors.InternalError(
        "CloudStack reports no OS type for VM %s or its template" % vm["id"])


def start_again(ctx, vm, instance_id):
    """Start a VM that CreateImage stopped; return the EC2 error if that fails."""
    try:
        ctx.cloudstack.run_job("startVirtualMachine", id=vm["id"])
    except errors.EC2Error as exc:
        LOG.error("could not start instance %s (VM %s) again after imaging it: %s",
                  instance_id, vm["id"], exc)
        return exc
    return None


@action("CreateImage")
def create_image(ctx):
    instance_id = ctx.params.require("InstanceId")
    name = checked_image_name(ctx.params.require("Name"))
    description = ctx.params.get("Description") or name
    no_reboot = ctx.params.boolean("NoReboot", False)
    if ctx.params.structures("BlockDeviceMapping"):
        raise errors.UnsupportedOperation(
            "CreateImage makes an image of the root volume only; CloudStack templates "
            "have no block device mapping. Omit BlockDeviceMapping.")

    [(given, vm)] = find_vms(ctx, [instance_id])
    state = vm.get("state")
    if state == "Running" and no_reboot:
        # NOTE: createSnapshot + createTemplate snapshotid= could image a running
        # root volume, but that copies a crash-consistent disk and leaves a snapshot.
        raise errors.IncorrectInstanceState(
            "The instance '%s' is running. CloudStack makes a template only from the root "
            "volume of a stopped instance, so NoReboot=true needs a stopped instance: stop "
            "it first, or leave out NoReboot so that CreateImage stops and restarts it."
            % given)
    if state not in ("Running", "Stopped"):
        raise errors.IncorrectInstanceState(
            "The instance '%s' is %s; CreateImage needs a running or stopped instance."
            % (given, str(state).lower()))
    check_name_unused(ctx, name)
    volume = root_volume(ctx, vm)
    os_type_id = os_type_of(ctx, vm)

    was_running = state == "Running"
    if was_running:
        ctx.cloudstack.run_job("stopVirtualMachine", id=vm["id"])
    try:
        started = ctx.cloudstack.submit("createTemplate", volumeid=volume["id"], name=name,
                                        displaytext=description, ostypeid=os_type_id)
    except errors.EC2Error:
        if was_running:
            start_again(ctx, vm, given)
        raise
    outcome = ctx.cloudstack.wait_for_jobs({started["jobid"]: "createTemplate"})[
        started["jobid"]]
    # NOTE: after a JobTimeout the template is still being copied. The VM is
    # started anyway, and the image is returned in state pending.
    restart_failure = start_again(ctx, vm, given) if was_running else None
    if isinstance(outcome, Exception) and not isinstance(outcome, JobTimeout):
        raise outcome
    image_id = image_id_of(ctx, started["id"])
    if restart_failure is not None:
        raise errors.EC2Error(
            "The image %s was created, but the instance %s could not be started again: %s"
            % (image_id, given, restart_failure.message),
            code=restart_failure.code, status=restart_failure.status)
    LOG.info("instance %s imaged as %s (template %s)", given, image_id, started["id"])
    return {"imageId": image_id}


# RegisterImage

def checked_location(location):
    parsed = urllib.parse.urlparse(location)
    if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc:
        raise errors.InvalidParameterValue(
            "ImageLocation '%s' is invalid: CloudStack downloads templates from an http or "
            "https URL." % location)
    return location


def parse_architecture(value):
    """Split RegisterImage's Architecture into (format, zone name, OS type name, hypervisor)."""
    parts = [part.strip() for part in value.split(":")]
    if len(parts) not in (3, 4):
        raise errors.InvalidParameterValue(
            "Architecture '%s' is invalid: CloudStack needs a template's format, zone and "
            "OS type, so Architecture must be %s." % (value, ARCHITECTURE_FORM))
    for label, part in zip(("format", "zone name", "OS type name", "hypervisor"), parts):
        if not part:
            raise errors.InvalidParameterValue(
                "Architecture '%s' has an empty %s; it must be %s."
                % (value, label, ARCHITECTURE_FORM))
    image_format = parts[0].upper()
    if image_format not in DEFAULT_HYPERVISORS:
        raise errors.InvalidParameterValue(
            "The image format '%s' in Architecture is invalid; use one of %s."
            % (parts[0], ", ".join(sorted(DEFAULT_HYPERVISORS))))
    hypervisor = parts[3] if len(parts) == 4 else DEFAULT_HYPERVISORS[image_format]
    return image_format, parts[1], parts[2], hypervisor


def zone_named(ctx, name):
    zones = list_zones(ctx)
    for zone in zones:
        if zone["name"].lower() == name.lower():
            return zone
    raise errors.InvalidParameterValue(
        "The zone '%s' in Architecture does not exist; the zones are %s."
        % (name, ", ".join(sorted(z["name"] for z in zones))))


def os_type_named(ctx, name):
    """Return the OS type whose description is this name, or else the first that contains it."""
    os_types = ctx.cloudstack.list("listOsTypes", "ostype")
    wanted = name.lower()
    exact = [o for o in os_types if str(o.get("description", "")).lower() == wanted]
    containing = [o for o in os_types if wanted in str(o.get("description", "")).lower()]
    # NOTE: a name that several OS types contain (CentOS 5.5 for the 32-bit and
    # the 64-bit type) picks the first one CloudStack lists.
    chosen = (exact or containing or [None])[0]
    if chosen is None:
        raise errors.InvalidParameterValue(
            "No CloudStack OS type matches '%s' in Architecture; give part of an OS type "
            "description such as '%s'."
            % (name, os_types[0].get("description") if os_types else "CentOS 5.5"))
    return chosen


@action("RegisterImage")
def register_image(ctx):
    params = ctx.params
    name = checked_image_name(params.require("Name"))
    if params.structures("BlockDeviceMapping") or params.get("SnapshotId"):
        raise errors.UnsupportedOperation(
            "CloudStack registers a template only from a URL: give ImageLocation instead of "
            "a block device mapping or snapshot.")
    for unsupported in ("KernelId", "RamdiskId"):
        if params.get(unsupported):
            raise errors.InvalidParameterValue(
                "%s is not supported: CloudStack templates boot their own kernel and ramdisk."
                % unsupported)
    root_device = params.get("RootDeviceName")
    if root_device and root_device != ROOT_DEVICE_NAME:
        raise errors.InvalidParameterValue(
            "RootDeviceName '%s' is not supported; CloudStack images boot from %s."
            % (root_device, ROOT_DEVICE_NAME))
    location = checked_location(params.require("ImageLocation"))
    architecture = params.get("Architecture")
    if not architecture:
        raise errors.MissingParameter(
            "The request must contain the parameter Architecture, written %s."
            % ARCHITECTURE_FORM)
    image_format, zone_name, os_type_name, hypervisor = parse_architecture(architecture)

    zone = zone_named(ctx, zone_name)
    os_type = os_type_named(ctx, os_type_name)
    check_name_unused(ctx, name)
    registered = ctx.cloudstack.request(
        "registerTemplate", name=name, displaytext=params.get("Description") or name,
        url=location, format=image_format, hypervisor=hypervisor, zoneid=zone["id"],
        ostypeid=os_type["id"])
    templates = registered.get("template") or []
    if isinstance(templates, dict):
        templates = [templates]
    if not templates:
        raise errors.InternalError("CloudStack registerTemplate returned no template")
    image_id = image_id_of(ctx, templates[0]["id"])
    LOG.info("registered %s as %s (template %s, %s, zone %s)", location, image_id,
             templates[0]["id"], image_format, zone["name"])
    return {"imageId": image_id}


# DeregisterImage

@action("DeregisterImage")
def deregister_image(ctx):
    image_id = ctx.params.require("ImageId")
    template = find_visible_template(ctx, image_id, own_only=True)
    ctx.cloudstack.run_job("deleteTemplate", id=template["id"])
    return {"return": True}
