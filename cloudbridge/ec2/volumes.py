"""Volumes: CreateVolume, DeleteVolume, AttachVolume, DetachVolume, DescribeVolumes.

CloudStack data disks are EC2 volumes, and each instance's ROOT disk is
shown too, attached at /dev/sda1.  A device name maps to CloudStack's
device id by its letter: /dev/sdb (or xvdb) is 1, sdc is 2 and sde to sdj
are 4 to 9, because 0 is the root disk and 3 the CD-ROM.
"""

import logging
import re
import uuid

from cloudbridge import errors
from cloudbridge.cloudstack.client import JobTimeout
from cloudbridge.ec2 import ids
from cloudbridge.ec2.core import action
from cloudbridge.ec2.filters import TAGS, apply_filters, validate_filters
from cloudbridge.ec2.instance_view import parse_time
from cloudbridge.ec2.instances import find_vms
from cloudbridge.ec2.storage import (device_name, find_snapshot, find_volume, list_volumes,
                                     pick_by_ids, size_in_gib)
from cloudbridge.ec2.tags import tag_dict, tag_set
from cloudbridge.ec2.zones import find_zone

LOG = logging.getLogger(__name__)

_DEVICE = re.compile(r"^(?:/dev/)?(?:sd|xvd)([a-z])$")
# Device letters a data volume may take: b, c and e to j (device ids 1, 2 and 4 to 9).
DATA_DEVICE_LETTERS = "bcefghij"

VOLUME_STATES = {
    "Allocated": "available", "Ready": "available",
    # Short operations on a healthy volume.
    "Snapshotting": "available", "Migrating": "available", "Resizing": "available",
    "Attaching": "available",
    "Creating": "creating",
    "Destroy": "deleting", "Destroying": "deleting", "Expunging": "deleting",
}
ATTACHMENT_STATES = {
    "Running": "attached", "Stopped": "attached", "Stopping": "attached",
    "Migrating": "attached", "Shutdowned": "attached", "Shutdown": "attached",
    "Starting": "attaching", "Creating": "attaching",
}
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.000Z"


def device_id(device):
    """Return CloudStack's device id for an EC2 device name, or raise InvalidParameterValue."""
    match = _DEVICE.match(device or "")
    if not match or match.group(1) not in DATA_DEVICE_LETTERS:
        raise errors.InvalidParameterValue(
            "Invalid device name '%s': CloudStack attaches data volumes at /dev/sdb, /dev/sdc "
            "and /dev/sde to /dev/sdj (or xvdb ... xvdj); sda is the root disk and sdd the "
            "CD-ROM." % device)
    return ord(match.group(1)) - ord("a")


def names_device(device, volume):
    """Return True if an EC2 device name (sdX or xvdX, /dev/ optional) is the volume's device."""
    if device == device_name(volume):
        return True
    match = _DEVICE.match(device)
    return bool(match) and ord(match.group(1)) - ord("a") == int(volume.get("deviceid") or 0)


def volume_status(volume):
    status = VOLUME_STATES.get(volume.get("state"), "error")
    if status == "available" and volume.get("virtualmachineid"):
        return "in-use"
    return status


class VolumeView:
    """Renders CloudStack volumes as EC2 items, with the id look-ups done once for all."""

    def __init__(self, ctx, volumes):
        self.volume_ids = ids.to_ec2(ctx, ids.VOLUME, [v["id"] for v in volumes])
        self.instance_ids = ids.to_ec2(ctx, ids.INSTANCE,
                                       [v.get("virtualmachineid") for v in volumes])
        self.snapshot_ids = ids.to_ec2(ctx, ids.SNAPSHOT, [v.get("snapshotid") for v in volumes])

    def attachment(self, volume):
        if not volume.get("virtualmachineid"):
            return None
        return {
            "volumeId": self.volume_ids[volume["id"]],
            "instanceId": self.instance_ids[volume["virtualmachineid"]],
            "device": device_name(volume),
            "status": ATTACHMENT_STATES.get(volume.get("vmstate"), "detached"),
            "attachTime": parse_time(volume.get("attached") or volume.get("created")),
            # CloudStack destroys a ROOT disk with its VM and keeps data disks.
            "deleteOnTermination": volume.get("type") == "ROOT",
        }

    def item(self, volume):
        attachment = self.attachment(volume)
        return {
            "volumeId": self.volume_ids[volume["id"]],
            "size": str(size_in_gib(volume)),
            "snapshotId": self.snapshot_ids.get(volume.get("snapshotid"), ""),
            "availabilityZone": volume.get("zonename", ""),
            "status": volume_status(volume),
            "createTime": parse_time(volume.get("created")),
            "attachmentSet": [attachment] if attachment else [],
            "tagSet": tag_set(volume),
        }


def _attachment_values(field, convert=None):
    def get(row):
        values = [a[field] for a in row["item"]["attachmentSet"]]
        return [convert(v) for v in values] if convert else values
    return get


# The DescribeVolumes filter table, over rows of {"volume": CloudStack volume, "item": EC2 item}.
VOLUME_FILTERS = {
    "attachment.attach-time": _attachment_values("attachTime",
                                                 lambda t: t.strftime(TIME_FORMAT)),
    "attachment.delete-on-termination": _attachment_values("deleteOnTermination"),
    "attachment.device": _attachment_values("device"),
    "attachment.instance-id": _attachment_values("instanceId"),
    "attachment.status": _attachment_values("status"),
    "availability-zone": lambda row: row["item"]["availabilityZone"],
    "create-time": lambda row: row["item"]["createTime"].strftime(TIME_FORMAT),
    "size": lambda row: row["item"]["size"],
    "snapshot-id": lambda row: row["item"]["snapshotId"],
    "status": lambda row: row["item"]["status"],
    "volume-id": lambda row: row["item"]["volumeId"],
    TAGS: lambda row: tag_dict(row["volume"]),
}


@action("DescribeVolumes")
def describe_volumes(ctx):
    volume_ids = ctx.params.strings("VolumeId")
    filters = ctx.params.filters()
    validate_filters(filters, VOLUME_FILTERS, "DescribeVolumes")
    volumes = pick_by_ids(ctx, ids.VOLUME, volume_ids, list_volumes(ctx),
                          errors.InvalidVolumeNotFound, "volume")
    view = VolumeView(ctx, volumes)
    rows = [{"volume": v, "item": view.item(v)} for v in volumes]
    rows = apply_filters(rows, filters, VOLUME_FILTERS, "DescribeVolumes")
    return {"volumeSet": [row["item"] for row in rows]}


def custom_disk_offering(ctx):
    """Return the id of a disk offering that takes a size, as EC2's Size needs one."""
    offerings = ctx.cloudstack.list("listDiskOfferings", "diskoffering")
    for offering in offerings:
        if offering.get("iscustomized"):
            return offering["id"]
    raise errors.UnsupportedOperation(
        "CloudStack offers no disk offering with a custom size, so a volume of a chosen Size "
        "cannot be created; create it from a snapshot (SnapshotId) or ask the administrator "
        "for a custom disk offering.")


def create_parameters(ctx):
    """Validate a CreateVolume request and return (createVolume parameters, zone name)."""
    zone = find_zone(ctx, ctx.params.require("AvailabilityZone"))
    size = ctx.params.integer("Size", None, minimum=1)
    snapshot_id = ctx.params.get("SnapshotId")
    create = {"name": "ec2-%s" % uuid.uuid4(), "zoneid": zone["id"]}
    if not snapshot_id:
        if size is None:
            raise errors.MissingParameter("The request must contain the parameter Size "
                                          "or SnapshotId")
        create.update(diskofferingid=custom_disk_offering(ctx), size=size)
        return create, zone["name"]

    snapshot = find_snapshot(ctx, snapshot_id)
    if snapshot.get("zoneid") and snapshot["zoneid"] != zone["id"]:
        raise errors.InvalidParameterValue(
            "CloudStack creates a volume from a snapshot only in the snapshot's own zone; "
            "the snapshot '%s' is not in %s." % (snapshot_id, zone["name"]))
    if snapshot.get("state") != "BackedUp":
        raise errors.IncorrectState(
            "The snapshot '%s' is not completed yet; try again when its status is completed."
            % snapshot_id)
    if size is not None:
        origin = [v for v in list_volumes(ctx) if v["id"] == snapshot.get("volumeid")]
        # NOTE: once the snapshot's volume is deleted its size is unknown and Size is not checked.
        if origin and size_in_gib(origin[0]) != size:
            raise errors.InvalidParameterValue(
                "CloudStack creates a volume from a snapshot at the snapshot's size (%d GiB); "
                "omit Size or pass %d." % (size_in_gib(origin[0]), size_in_gib(origin[0])))
    create["snapshotid"] = snapshot["id"]
    return create, zone["name"]


def delete_quietly(ctx, volume_id):
    """Delete the volume of a failed CreateVolume, so that it leaves nothing behind."""
    try:
        ctx.cloudstack.request("deleteVolume", id=volume_id)
    except errors.EC2Error as exc:
        LOG.error("could not delete volume %s of a failed CreateVolume: %s", volume_id, exc)


@action("CreateVolume")
def create_volume(ctx):
    create, zone_name = create_parameters(ctx)
    started = ctx.cloudstack.submit("createVolume", **create)
    outcome = ctx.cloudstack.wait_for_jobs({started["jobid"]: "createVolume"})[started["jobid"]]
    if isinstance(outcome, JobTimeout):
        found = list_volumes(ctx, started["id"])
        volume = found[0] if found else {"id": started["id"], "state": "Creating"}
    elif isinstance(outcome, Exception):
        delete_quietly(ctx, started["id"])
        raise outcome
    else:
        volume = outcome["volume"]
    LOG.info("created volume %s in zone %s", volume["id"], zone_name)

    item = VolumeView(ctx, [volume]).item(volume)
    return {
        "volumeId": item["volumeId"],
        "size": item["size"],
        "snapshotId": item["snapshotId"],
        "availabilityZone": volume.get("zonename") or zone_name,
        "status": item["status"],
        "createTime": item["createTime"],
    }


@action("DeleteVolume")
def delete_volume(ctx):
    volume_id = ctx.params.require("VolumeId")
    volume = find_volume(ctx, volume_id)
    if volume.get("virtualmachineid"):
        raise errors.VolumeInUse("The volume '%s' is attached to an instance; detach it first."
                                 % volume_id)
    ctx.cloudstack.request("deleteVolume", id=volume["id"])
    LOG.info("deleted volume %s", volume["id"])
    return {"return": True}


def attachment_response(ctx, volume, instance_id, status):
    view = VolumeView(ctx, [volume])
    return {
        "volumeId": view.volume_ids[volume["id"]],
        "instanceId": instance_id,
        "device": device_name(volume),
        "status": status,
        "attachTime": parse_time(volume.get("attached") or volume.get("created")),
    }


@action("AttachVolume")
def attach_volume(ctx):
    volume_id = ctx.params.require("VolumeId")
    instance_id = ctx.params.require("InstanceId")
    number = device_id(ctx.params.require("Device"))
    volumes = list_volumes(ctx)
    volume = pick_by_ids(ctx, ids.VOLUME, [volume_id], volumes,
                         errors.InvalidVolumeNotFound, "volume")[0]
    vm = find_vms(ctx, [instance_id])[0][1]
    if volume.get("virtualmachineid"):
        raise errors.VolumeInUse("The volume '%s' is already attached to an instance."
                                 % volume_id)
    if volume.get("zoneid") != vm.get("zoneid"):
        raise errors.InvalidVolumeZoneMismatch(
            "The volume '%s' is in zone %s and the instance '%s' in zone %s; both must be in "
            "one zone." % (volume_id, volume.get("zonename"), instance_id, vm.get("zonename")))
    if vm.get("state") not in ("Running", "Stopped"):
        raise errors.IncorrectInstanceState(
            "The instance '%s' is %s; CloudStack attaches volumes to running or stopped "
            "instances only." % (instance_id, vm.get("state")))
    used = [v for v in volumes if v.get("virtualmachineid") == vm["id"]
            and v.get("type") != "ROOT" and int(v.get("deviceid") or 0) == number]
    if used:
        raise errors.InvalidParameterValue(
            "The device %s of instance '%s' is already in use."
            % (ctx.params.get("Device"), instance_id))

    attached = ctx.cloudstack.run_job("attachVolume", id=volume["id"],
                                      virtualmachineid=vm["id"], deviceid=number)["volume"]
    LOG.info("attached volume %s to VM %s as device %d", volume["id"], vm["id"], number)
    instance = ids.to_ec2(ctx, ids.INSTANCE, [vm["id"]])[vm["id"]]
    status = ATTACHMENT_STATES.get(attached.get("vmstate", vm.get("state")), "attached")
    return attachment_response(ctx, attached, instance, status)


@action("DetachVolume")
def detach_volume(ctx):
    volume_id = ctx.params.require("VolumeId")
    instance_id = ctx.params.get("InstanceId")
    device = ctx.params.get("Device")
    ctx.params.boolean("Force", False)  # CloudStack detaches at once, forced or not
    volume = find_volume(ctx, volume_id)
    vm_id = volume.get("virtualmachineid")
    if not vm_id:
        raise errors.IncorrectState("The volume '%s' is in the 'available' state."
                                    % volume_id)
    if volume.get("type") == "ROOT":
        raise errors.UnsupportedOperation(
            "The volume '%s' is the root disk of its instance; CloudStack cannot detach a "
            "root disk." % volume_id)
    if instance_id and ids.resolve_one(ctx, ids.INSTANCE, instance_id,
                                       errors.InvalidInstanceIDNotFound) != vm_id:
        raise errors.InvalidAttachmentNotFound(
            "The volume '%s' is not attached to instance '%s'." % (volume_id, instance_id))
    if device and not names_device(device, volume):
        raise errors.InvalidAttachmentNotFound(
            "The volume '%s' is not attached at %s." % (volume_id, device))

    instance = ids.to_ec2(ctx, ids.INSTANCE, [vm_id])[vm_id]
    response = attachment_response(ctx, volume, instance, "detached")
    ctx.cloudstack.run_job("detachVolume", id=volume["id"])
    LOG.info("detached volume %s from VM %s", volume["id"], vm_id)
    return response
