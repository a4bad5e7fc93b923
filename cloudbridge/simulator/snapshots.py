"""Volume snapshots: listSnapshots, createSnapshot, deleteSnapshot.

A snapshot goes Creating -> BackingUp -> BackedUp (usable)."""

import time
from collections import OrderedDict

from cloudbridge.simulator import errors
from cloudbridge.simulator.accounts import check_limit
from cloudbridge.simulator.api import AsyncResult, command, fmt_date, now_ts
from cloudbridge.simulator.jobs import job_kind
from cloudbridge.simulator.state import new_id
from cloudbridge.simulator.tags import remove_tags_of, tag_filter
from cloudbridge.simulator.views import snapshot_view

PKG = "org.apache.cloudstack.api.command.user."


@command("listSnapshots", dict(id="uuid:snapshots", intervaltype="str", name="str",
                               snapshottype="str", tags="map", volumeid="uuid:volumes",
                               zoneid="uuid:zones"), listing=True)
def list_snapshots(ctx, p):
    model = ctx.model
    pred = ctx.scope(p)
    match_tags = tag_filter(model, "Snapshot", p.get("tags"))
    items = []
    for snap in sorted(model.snapshots.values(), key=lambda s: s["seq"]):
        if not pred(snap):
            continue
        if p.get("id") and snap["id"] != p["id"]:
            continue
        if p.get("name") and snap["name"] != p["name"]:
            continue
        if p.get("volumeid") and snap["volumeid"] != p["volumeid"]:
            continue
        if p.get("zoneid") and snap["zoneid"] != p["zoneid"]:
            continue
        if p.get("snapshottype") and snap["snapshottype"].lower() != p["snapshottype"].lower():
            continue
        if p.get("intervaltype") and snap["intervaltype"].lower() != p["intervaltype"].lower():
            continue
        if not match_tags(snap["id"]):
            continue
        items.append(snapshot_view(model, snap, ctx))
    return ctx.page("snapshot", items, p)


@command("createSnapshot", dict(volumeid="uuid:volumes!", account="str",
                                domainid="uuid:domains", policyid="str"), is_async=True)
def create_snapshot(ctx, p):
    model = ctx.model
    vol = model.volumes[p["volumeid"]]
    ctx.check_access(vol, "Vol[%s|vm=%s|%s]" % (vol["id"], vol.get("virtualmachineid"),
                                                 vol["type"]))
    if vol["state"] != "Ready":
        raise errors.invalid("VolumeId: %s is not in Ready state but %s. Cannot take snapshot."
                             % (vol["id"], vol["state"]))
    acct = model.accounts[vol["accountid"]]
    check_limit(ctx, acct, 3)
    vm = model.vms.get(vol.get("virtualmachineid"))
    prefix = vm["instancename"] if vm is not None else "detached"
    ts = now_ts()
    snap = OrderedDict(
        id=new_id(), name="%s_%s_%s" % (prefix, vol["name"], time.strftime("%Y%m%d%H%M%S",
                                                                           time.gmtime(ts))),
        accountid=acct["id"], domainid=acct["domainid"], snapshottype="MANUAL",
        intervaltype="MANUAL", volumeid=vol["id"], volumename=vol["name"],
        volumetype=vol["type"], created=fmt_date(ts), state="Creating", zoneid=vol["zoneid"],
        size=vol["size"], diskofferingid=vol.get("diskofferingid"),
        templateid=vm["templateid"] if vm is not None and vol["type"] == "ROOT" else None,
        seq=model.next_seq("snapshot"))
    model.snapshots[snap["id"]] = snap
    model.touch()
    jobid = ctx.submit("createSnapshot", "Snapshot", snap["id"], {"id": snap["id"]})
    return AsyncResult(jobid, snap["id"])


def _begin_create(ctx, job):
    snap = ctx.model.snapshots.get(job["args"]["id"])
    if snap is not None:
        snap["state"] = "BackingUp"
        ctx.model.touch()


@job_kind("createSnapshot", PKG + "snapshot.CreateSnapshotCmd", begin=_begin_create)
def _finish_create(ctx, job):
    snap = ctx.model.snapshots.get(job["args"]["id"])
    if snap is None:
        raise errors.internal("Failed to create snapshot due to an internal error creating "
                              "snapshot for volume")
    snap["state"] = "BackedUp"
    ctx.model.touch()
    return {"snapshot": snapshot_view(ctx.model, snap, ctx)}


@command("deleteSnapshot", dict(id="uuid:snapshots!"), is_async=True)
def delete_snapshot(ctx, p):
    snap = ctx.model.snapshots[p["id"]]
    ctx.check_access(snap, "Snapshot[%s]" % snap["id"])
    jobid = ctx.submit("deleteSnapshot", "Snapshot", snap["id"], {"id": snap["id"]})
    return AsyncResult(jobid)


def _begin_delete(ctx, job):
    snap = ctx.model.snapshots.get(job["args"]["id"])
    if snap is None:
        raise errors.invalid("unable to find a snapshot with id %s" % job["args"]["id"])
    if snap["state"] not in ("BackedUp", "Error"):
        raise errors.invalid("Can't delete snapshotshot %s due to it is not in BackedUp Status"
                             % snap["id"])


@job_kind("deleteSnapshot", PKG + "snapshot.DeleteSnapshotCmd", begin=_begin_delete)
def _finish_delete(ctx, job):
    model = ctx.model
    snap = model.snapshots.pop(job["args"]["id"], None)
    if snap is not None:
        remove_tags_of(model, snap["id"])
        model.touch()
    return {"success": True}
