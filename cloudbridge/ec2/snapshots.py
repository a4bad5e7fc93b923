"""Snapshots: CreateSnapshot, DeleteSnapshot, DescribeSnapshots and the snapshot attributes.

CloudStack cannot share a snapshot with other accounts, so only its owner
may create volumes from it: createVolumePermission is always empty and
cannot be changed.
"""

import logging

from cloudbridge import errors
from cloudbridge.cloudstack.client import JobTimeout
from cloudbridge.ec2 import ids
from cloudbridge.ec2.core import action
from cloudbridge.ec2.extensions import caller_user
from cloudbridge.ec2.filters import TAGS, apply_filters, validate_filters
from cloudbridge.ec2.instance_view import parse_time
from cloudbridge.ec2.storage import (GIB, find_snapshot, find_volume, list_snapshots,
                                     list_volumes, pick_by_ids, size_in_gib)
from cloudbridge.ec2.tags import tag_dict, tag_set

LOG = logging.getLogger(__name__)

SNAPSHOT_STATES = {
    "BackedUp": "completed",
    "Allocated": "pending", "Creating": "pending", "CreatedOnPrimary": "pending",
    "BackingUp": "pending", "Copying": "pending",
    "Error": "error",
}
CREATE_VOLUME_PERMISSION = "createVolumePermission"
MAX_DESCRIPTION_LENGTH = 255
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.000Z"
# Owner aliases of snapshots that EC2 publishes and CloudStack does not have.
PUBLISHER_ALIASES = {"amazon", "aws-marketplace", "microsoft"}


# The store's name for a snapshot's description.
DESCRIPTION = "description"


def snapshot_status(snapshot):
    return SNAPSHOT_STATES.get(snapshot.get("state"), "error")


def snapshot_item(snapshot, snapshot_id, volume_id, volume_size, description=None):
    status = snapshot_status(snapshot)
    return {
        "snapshotId": snapshot_id,
        "volumeId": volume_id,
        "status": status,
        "startTime": parse_time(snapshot.get("created")),
        # CloudStack reports no progress: a snapshot is either done or not.
        "progress": "100%" if status == "completed" else "0%",
        "ownerId": snapshot.get("account", ""),
        "volumeSize": str(volume_size),
        "description": description,
        "tagSet": tag_set(snapshot),
    }


def volume_size_of(snapshot, volumes_by_id):
    """Return the size in GiB of the volume a snapshot was taken of."""
    volume = volumes_by_id.get(snapshot.get("volumeid"))
    if volume is not None:
        return size_in_gib(volume)
    # CloudStack 4.2 lists no snapshot size; later versions add virtualsize (bytes).
    # NOTE: without either, a snapshot of a deleted volume is shown with size 0.
    try:
        return int(snapshot.get("virtualsize") or 0) // GIB
    except (TypeError, ValueError):
        return 0


class CallerAccount:
    """The caller's CloudStack account name, looked up once and only when needed."""

    def __init__(self, ctx):
        self.ctx = ctx
        self._name = None

    @property
    def name(self):
        if self._name is None:
            self._name = caller_user(self.ctx).get("account", "")
        return self._name

    def accounts(self, values):
        """Return the account names that EC2 owner values stand for ("self" is the caller)."""
        return {self.name if value == "self" else value for value in values
                if value not in PUBLISHER_ALIASES and value != "all"}


# The DescribeSnapshots filter table, over rows of
# {"snapshot": CloudStack snapshot, "item": EC2 item, "caller": CallerAccount}.
SNAPSHOT_FILTERS = {
    "owner-alias": lambda row: "self" if row["item"]["ownerId"] == row["caller"].name else [],
    "owner-id": lambda row: row["item"]["ownerId"],
    "snapshot-id": lambda row: row["item"]["snapshotId"],
    "start-time": lambda row: row["item"]["startTime"].strftime(TIME_FORMAT),
    "status": lambda row: row["item"]["status"],
    "volume-id": lambda row: row["item"]["volumeId"],
    "volume-size": lambda row: row["item"]["volumeSize"],
    "progress": lambda row: row["item"]["progress"],
    TAGS: lambda row: tag_dict(row["snapshot"]),
}


@action("DescribeSnapshots")
def describe_snapshots(ctx):
    snapshot_ids = ctx.params.strings("SnapshotId")
    owners = ctx.params.strings("Owner")
    restorable_by = ctx.params.strings("RestorableBy")
    filters = ctx.params.filters()
    validate_filters(filters, SNAPSHOT_FILTERS, "DescribeSnapshots")

    snapshots = pick_by_ids(ctx, ids.SNAPSHOT, snapshot_ids, list_snapshots(ctx),
                            errors.InvalidSnapshotNotFound, "snapshot")
    caller = CallerAccount(ctx)
    # Without sharing, only a snapshot's owner may restore it: both lists name owners.
    for values in (owners, restorable_by):
        if values:
            accounts = caller.accounts(values)
            snapshots = [s for s in snapshots if s.get("account") in accounts]

    volumes_by_id = {v["id"]: v for v in list_volumes(ctx)} if snapshots else {}
    ec2_snapshot_ids = ids.to_ec2(ctx, ids.SNAPSHOT, [s["id"] for s in snapshots])
    volume_ids = ids.to_ec2(ctx, ids.VOLUME, [s.get("volumeid") for s in snapshots])
    descriptions = ctx.store.details(ids.SNAPSHOT, [s["id"] for s in snapshots], DESCRIPTION)
    rows = []
    for snapshot in snapshots:
        item = snapshot_item(snapshot, ec2_snapshot_ids[snapshot["id"]],
                             volume_ids.get(snapshot.get("volumeid"), ""),
                             volume_size_of(snapshot, volumes_by_id),
                             descriptions.get(snapshot["id"]))
        rows.append({"snapshot": snapshot, "item": item, "caller": caller})
    rows = apply_filters(rows, filters, SNAPSHOT_FILTERS, "DescribeSnapshots")
    return {"snapshotSet": [row["item"] for row in rows]}


def delete_quietly(ctx, snapshot_id):
    """Delete the snapshot of a failed CreateSnapshot, so that it leaves nothing behind."""
    try:
        ctx.cloudstack.run_job("deleteSnapshot", id=snapshot_id)
    except errors.EC2Error as exc:
        LOG.error("could not delete snapshot %s of a failed CreateSnapshot: %s",
                  snapshot_id, exc)


@action("CreateSnapshot")
def create_snapshot(ctx):
    volume_id = ctx.params.require("VolumeId")
    description = ctx.params.get("Description")
    if description and len(description) > MAX_DESCRIPTION_LENGTH:
        raise errors.InvalidParameterValue(
            "Description is limited to %d characters." % MAX_DESCRIPTION_LENGTH)
    volume = find_volume(ctx, volume_id)
    if volume.get("state") == "Allocated":
        raise errors.IncorrectState(
            "The volume '%s' has never been attached to an instance, so CloudStack has not "
            "created it on storage yet; attach it once before taking a snapshot." % volume_id)

    started = ctx.cloudstack.submit("createSnapshot", volumeid=volume["id"])
    outcome = ctx.cloudstack.wait_for_jobs({started["jobid"]: "createSnapshot"})[started["jobid"]]
    if isinstance(outcome, JobTimeout):
        found = list_snapshots(ctx, started["id"])
        snapshot = found[0] if found else {"id": started["id"], "state": "Creating"}
    elif isinstance(outcome, Exception):
        delete_quietly(ctx, started["id"])
        raise outcome
    else:
        snapshot = outcome["snapshot"]
    LOG.info("created snapshot %s of volume %s", snapshot["id"], volume["id"])

    snapshot_id = ids.to_ec2(ctx, ids.SNAPSHOT, [snapshot["id"]])[snapshot["id"]]
    volume_ec2_id = ids.to_ec2(ctx, ids.VOLUME, [volume["id"]])[volume["id"]]
    snapshot.setdefault("account", volume.get("account", ""))
    if description:
        # CloudStack keeps no snapshot description: the store does.
        ctx.store.set_details(ids.SNAPSHOT, snapshot["id"], {DESCRIPTION: description})
    item = snapshot_item(snapshot, snapshot_id, volume_ec2_id, size_in_gib(volume), description)
    del item["tagSet"]
    return item


@action("DeleteSnapshot")
def delete_snapshot(ctx):
    snapshot_id = ctx.params.require("SnapshotId")
    snapshot = find_snapshot(ctx, snapshot_id)
    if snapshot_status(snapshot) == "pending":
        raise errors.IncorrectState(
            "The snapshot '%s' is still pending; delete it once it is completed." % snapshot_id)
    ctx.cloudstack.run_job("deleteSnapshot", id=snapshot["id"])
    LOG.info("deleted snapshot %s", snapshot["id"])
    return {"return": True}


def checked_attribute(ctx, required=True):
    attribute = ctx.params.get("Attribute")
    if attribute is None and not required:
        return CREATE_VOLUME_PERMISSION
    if not attribute:
        raise errors.MissingParameter("The request must contain the parameter Attribute")
    if attribute != CREATE_VOLUME_PERMISSION:
        raise errors.InvalidParameterValue(
            "The snapshot attribute '%s' is not supported; CloudStack snapshots have only "
            "createVolumePermission." % attribute)
    return attribute


@action("DescribeSnapshotAttribute")
def describe_snapshot_attribute(ctx):
    snapshot_id = ctx.params.require("SnapshotId")
    checked_attribute(ctx)
    find_snapshot(ctx, snapshot_id)
    return {"snapshotId": snapshot_id, "createVolumePermission": []}


@action("ModifySnapshotAttribute")
def modify_snapshot_attribute(ctx):
    snapshot_id = ctx.params.require("SnapshotId")
    checked_attribute(ctx, required=False)
    find_snapshot(ctx, snapshot_id)
    raise errors.UnsupportedOperation(
        "CloudStack cannot share snapshots: only the account that owns snapshot '%s' can "
        "create volumes from it, so its createVolumePermission cannot be changed."
        % snapshot_id)


@action("ResetSnapshotAttribute")
def reset_snapshot_attribute(ctx):
    snapshot_id = ctx.params.require("SnapshotId")
    checked_attribute(ctx)
    find_snapshot(ctx, snapshot_id)
    # A CloudStack snapshot is never shared, so it already has the reset permissions.
    return {"return": True}
