"""Look-ups of CloudStack volumes and snapshots, shared by their EC2 actions.

Volumes and snapshots are listed with listall=True, as instances are, so
CloudStack returns an administrator those of every account and a user only
its own.
"""

from cloudbridge import errors
from cloudbridge.ec2 import ids
from cloudbridge.ec2.images import ROOT_DEVICE_NAME
from cloudbridge.ec2.instance_view import parse_time

GIB = 2 ** 30


def device_name(volume):
    """Return the EC2 device name of an attached volume: the root disk, or /dev/sdb for id 1 ..."""
    if volume.get("type") == "ROOT":
        return ROOT_DEVICE_NAME
    number = int(volume.get("deviceid") or 0)
    if 0 < number < 26:
        return "/dev/sd" + chr(ord("a") + number)
    return str(number)


def block_device_mapping(volumes, volume_ids):
    """Return the blockDeviceMapping items of one VM's volumes, root disk first.

    `volume_ids` maps CloudStack volume ids to EC2 volume ids.
    """
    ordered = sorted(volumes, key=lambda v: (v.get("type") != "ROOT", int(v.get("deviceid") or 0)))
    return [{
        "deviceName": device_name(volume),
        "ebs": {
            "volumeId": volume_ids[volume["id"]],
            "status": "attached",
            "attachTime": parse_time(volume.get("attached") or volume.get("created")),
            "deleteOnTermination": volume.get("type") == "ROOT",
        },
    } for volume in ordered]


def size_in_gib(volume):
    """Return a volume's size in whole GiB (CloudStack gives bytes)."""
    try:
        return int(volume.get("size") or 0) // GIB
    except (TypeError, ValueError):
        return 0


def list_volumes(ctx, volume_id=None):
    return ctx.cloudstack.list("listVolumes", "volume", listall=True, id=volume_id)


def list_snapshots(ctx, snapshot_id=None):
    return ctx.cloudstack.list("listSnapshots", "snapshot", listall=True, id=snapshot_id)


def _find_one(ctx, kind, given, list_items, not_found, label):
    cloudstack_id = ids.resolve_one(ctx, kind, given, not_found)
    try:
        found = [item for item in list_items(ctx, cloudstack_id) if item["id"] == cloudstack_id]
    except (errors.InvalidParameterValue, errors.NotFound):
        found = []  # CloudStack rejects an id it does not know instead of listing nothing
    if not found:
        raise not_found("The %s '%s' does not exist" % (label, given))
    return found[0]


def find_volume(ctx, volume_id):
    """Return the CloudStack volume behind an EC2 volume id, or raise InvalidVolume.NotFound."""
    return _find_one(ctx, ids.VOLUME, volume_id, list_volumes,
                     errors.InvalidVolumeNotFound, "volume")


def find_snapshot(ctx, snapshot_id):
    """Return the CloudStack snapshot behind an EC2 snapshot id.

    Raises InvalidSnapshot.NotFound for an unknown id or another account's snapshot.
    """
    return _find_one(ctx, ids.SNAPSHOT, snapshot_id, list_snapshots,
                     errors.InvalidSnapshotNotFound, "snapshot")


def pick_by_ids(ctx, kind, given_ids, items, not_found, label):
    """Return the listed items named by given EC2 ids (all items if none are given).

    Raises `not_found` naming every id that is not among the items.
    """
    if not given_ids:
        return items
    wanted = ids.resolve(ctx, kind, given_ids, not_found)
    by_id = {item["id"]: item for item in items}
    missing = [given for given, cloudstack_id in wanted.items() if cloudstack_id not in by_id]
    if missing:
        raise not_found("The %s '%s' does not exist" % (label, ", ".join(missing)))
    return [by_id[cloudstack_id] for cloudstack_id in dict.fromkeys(wanted.values())]
