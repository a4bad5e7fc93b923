"""Volumes: listVolumes, createVolume, attachVolume, detachVolume,
deleteVolume.

A new data disk stays ``Allocated`` until it is first attached (then
``Ready``); a ROOT volume is ``Allocated`` until its VM first starts.
"""

from collections import OrderedDict

from cloudbridge.simulator import errors
from cloudbridge.simulator.accounts import check_limit
from cloudbridge.simulator.api import AsyncResult, SuccessResult, command, fmt_date, now_ts
from cloudbridge.simulator.jobs import job_kind
from cloudbridge.simulator.state import new_id
from cloudbridge.simulator.tags import remove_tags_of, tag_filter
from cloudbridge.simulator.views import volume_view

PKG = "org.apache.cloudstack.api.command.user."
GB = 1024 ** 3
MAX_DATA_DISKS = 6  # XenServer: device ids 1..7 except 3
MAX_CUSTOM_SIZE_GB = 1024


def new_volume(model, acct, zoneid, vtype, name, size, diskofferingid=None,
               serviceofferingid=None, vm=None, deviceid=None, state="Allocated",
               snapshotid=None):
    vol = OrderedDict(
        id=new_id(), name=name, zoneid=zoneid, type=vtype, accountid=acct["id"],
        domainid=acct["domainid"], size=size, created=fmt_date(now_ts()), state=state,
        diskofferingid=diskofferingid, serviceofferingid=serviceofferingid,
        virtualmachineid=vm["id"] if vm else None, deviceid=deviceid, attached=None,
        hypervisor="XenServer" if vm else None, snapshotid=snapshotid,
        seq=model.next_seq("volume"))
    if vm is not None and vtype == "DATADISK":
        vol["attached"] = fmt_date(now_ts())
    model.volumes[vol["id"]] = vol
    model.touch()
    return vol


def vol_label(vol):
    return "Vol[%s|vm=%s|%s]" % (vol["id"], vol.get("virtualmachineid"), vol["type"])


def _vm_label(vm):
    return "VM[User|%s]" % vm["instancename"]


@command("listVolumes", dict(hostid="str", id="uuid:volumes", name="str", podid="str",
                             tags="map", type="str", virtualmachineid="uuid:vms",
                             zoneid="uuid:zones"), listing=True)
def list_volumes(ctx, p):
    model = ctx.model
    pred = ctx.scope(p)
    match_tags = tag_filter(model, "Volume", p.get("tags"))
    items = []
    for vol in sorted(model.volumes.values(), key=lambda v: v["seq"]):
        if not pred(vol):
            continue
        if p.get("id") and vol["id"] != p["id"]:
            continue
        if p.get("name") and vol["name"] != p["name"]:
            continue
        if p.get("type") and vol["type"].lower() != p["type"].lower():
            continue
        if p.get("virtualmachineid") and vol.get("virtualmachineid") != p["virtualmachineid"]:
            continue
        if p.get("zoneid") and vol["zoneid"] != p["zoneid"]:
            continue
        if vol["state"] == "Destroy" and not ctx.is_admin:
            continue
        if not match_tags(vol["id"]):
            continue
        items.append(volume_view(model, vol, ctx))
    return ctx.page("volume", items, p)


@command("createVolume", dict(name="str!", account="str", diskofferingid="uuid:disk_offerings",
                              domainid="uuid:domains", projectid="uuid:projects", size="long",
                              snapshotid="uuid:snapshots", zoneid="uuid:zones",
                              displayvolume="bool", maxiops="long", miniops="long"),
         is_async=True)
def create_volume(ctx, p):
    model = ctx.model
    acct = ctx.owner(p)
    snapshot = None
    if p.get("snapshotid"):
        snapshot = model.snapshots[p["snapshotid"]]
        ctx.check_access(snapshot, "Snapshot[%s]" % snapshot["id"])
        if snapshot["state"] != "BackedUp":
            raise errors.invalid("Snapshot id=%s is not in BackedUp state yet and can't be used "
                                 "for volume creation" % snapshot["id"])
        zoneid = snapshot["zoneid"]
        offering = model.disk_offerings.get(snapshot.get("diskofferingid"))
        size = snapshot["size"]
        if p.get("diskofferingid"):
            offering = model.disk_offerings[p["diskofferingid"]]
    else:
        if not p.get("diskofferingid"):
            raise errors.invalid("Either disk Offering Id or snapshot Id must be passed whilst "
                                 "creating volume")
        if not p.get("zoneid"):
            raise errors.invalid("Please specify a valid zone.")
        zoneid = p["zoneid"]
        offering = model.disk_offerings[p["diskofferingid"]]
        if offering["iscustomized"]:
            if p.get("size") is None:
                raise errors.invalid("This disk offering requires a custom size specified")
            if p["size"] <= 0 or p["size"] > MAX_CUSTOM_SIZE_GB:
                raise errors.invalid("Disk size must be larger than 0 and no larger than %d GB"
                                     % MAX_CUSTOM_SIZE_GB)
            size = p["size"] * GB
        else:
            if p.get("size") is not None:
                raise errors.invalid("This disk offering does not allow custom size")
            size = offering["disksize"] * GB
    zone = model.zones[zoneid]
    if zone["allocationstate"] != "Enabled" and not ctx.is_admin:
        raise errors.denied("Cannot perform this operation, Zone is currently disabled: %s"
                            % zone["id"])
    check_limit(ctx, acct, 2)
    vol = new_volume(model, acct, zoneid, "DATADISK", p["name"], size,
                     diskofferingid=offering["id"] if offering else None,
                     snapshotid=snapshot["id"] if snapshot else None,
                     state="Allocated" if snapshot is None else "Creating")
    jobid = ctx.submit("createVolume", "Volume", vol["id"], {"id": vol["id"]})
    return AsyncResult(jobid, vol["id"])


@job_kind("createVolume", PKG + "volume.CreateVolumeCmd")
def _finish_create_volume(ctx, job):
    vol = ctx.model.volumes.get(job["args"]["id"])
    if vol is None:
        raise errors.internal("Failed to create volume")
    if vol["state"] == "Creating":  # from a snapshot: created on primary storage
        vol["state"] = "Ready"
        vol["hypervisor"] = "XenServer"
        ctx.model.touch()
    return {"volume": volume_view(ctx.model, vol, ctx)}


def _volume_for_user(ctx, volid):
    vol = ctx.model.volumes[volid]
    ctx.check_access(vol, vol_label(vol))
    return vol


@command("attachVolume", dict(id="uuid:volumes!", virtualmachineid="uuid:vms!",
                              deviceid="long"), is_async=True)
def attach_volume(ctx, p):
    vol = _volume_for_user(ctx, p["id"])
    vm = ctx.model.vms[p["virtualmachineid"]]
    ctx.check_access(vm, _vm_label(vm))
    jobid = ctx.submit("attachVolume", "Volume", vol["id"],
                       {"id": vol["id"], "vmid": vm["id"], "deviceid": p.get("deviceid")})
    return AsyncResult(jobid)


def _check_attach(ctx, vol, vm, deviceid):
    model = ctx.model
    if vol["type"] != "DATADISK":
        raise errors.internal("Please specify a volume with the valid type: DATADISK")
    if vol.get("virtualmachineid"):
        raise errors.internal("Please specify a volume that is not attached to any VM.")
    if vol["state"] not in ("Allocated", "Ready"):
        raise errors.internal("Volume state must be in Allocated or Ready state")
    if vm["state"] not in ("Running", "Stopped"):
        raise errors.internal("Please specify a VM that is either running or stopped.")
    if vm["zoneid"] != vol["zoneid"]:
        raise errors.internal("Please specify a VM that is in the same zone as the volume.")
    if vm["accountid"] != vol["accountid"]:
        raise errors.denied("Owners of the volume and the VM are different")
    used = {v.get("deviceid") for v in model.volumes.values()
            if v.get("virtualmachineid") == vm["id"]}
    if len([d for d in used if d]) >= MAX_DATA_DISKS:
        raise errors.internal("The specified VM already has the maximum number of data disks "
                              "(%d). Please specify another VM." % MAX_DATA_DISKS)
    if deviceid is not None:
        if deviceid == 0:
            raise errors.internal("deviceId can't be 0, which is used by Root device")
        if deviceid == 3 or deviceid > 15:
            raise errors.internal("deviceId should be 1,2,4-15")
        if deviceid in used:
            raise errors.internal("deviceId %d is used by vm %s" % (deviceid, vm["id"]))
        return deviceid
    n = 1
    while n in used or n == 3:
        n += 1
    return n


@job_kind("attachVolume", PKG + "volume.AttachVolumeCmd")
def _finish_attach(ctx, job):
    model = ctx.model
    args = job["args"]
    vol = model.volumes.get(args["id"])
    vm = model.vms.get(args["vmid"])
    if vol is None or vm is None:
        raise errors.internal("Failed to attach volume")
    deviceid = _check_attach(ctx, vol, vm, args.get("deviceid"))
    vol["virtualmachineid"] = vm["id"]
    vol["deviceid"] = deviceid
    vol["attached"] = fmt_date(now_ts())
    vol["state"] = "Ready"
    vol["hypervisor"] = "XenServer"
    model.touch()
    return {"volume": volume_view(model, vol, ctx)}


@command("detachVolume", dict(id="uuid:volumes", deviceid="long", virtualmachineid="uuid:vms"),
         is_async=True)
def detach_volume(ctx, p):
    model = ctx.model
    if p.get("id"):
        vol = _volume_for_user(ctx, p["id"])
    elif p.get("deviceid") is not None and p.get("virtualmachineid"):
        vm = model.vms[p["virtualmachineid"]]
        ctx.check_access(vm, _vm_label(vm))
        found = [v for v in model.volumes.values() if v.get("virtualmachineid") == vm["id"]
                 and v.get("deviceid") == p["deviceid"]]
        if not found:
            raise errors.invalid("Unable to find volume with ID: null")
        vol = found[0]
    else:
        raise errors.invalid("Please provide either a volume id, or a tuple(device id, instance "
                             "id)")
    jobid = ctx.submit("detachVolume", "Volume", vol["id"], {"id": vol["id"]})
    return AsyncResult(jobid)


@job_kind("detachVolume", PKG + "volume.DetachVolumeCmd")
def _finish_detach(ctx, job):
    model = ctx.model
    vol = model.volumes.get(job["args"]["id"])
    if vol is None:
        raise errors.internal("Failed to detach volume")
    if vol["type"] == "ROOT":
        raise errors.internal("Please specify a data volume.")
    vm = model.vms.get(vol.get("virtualmachineid"))
    if vm is None:
        raise errors.internal("The specified volume is not attached to a VM.")
    if vm["state"] not in ("Running", "Stopped", "Destroyed"):
        raise errors.internal("Please specify a VM that is either running or stopped.")
    vol["virtualmachineid"] = None
    vol["deviceid"] = None
    vol["attached"] = None
    model.touch()
    return {"volume": volume_view(model, vol, ctx)}


@command("deleteVolume", dict(id="uuid:volumes!"))
def delete_volume(ctx, p):
    model = ctx.model
    vol = _volume_for_user(ctx, p["id"])
    if vol["type"] == "ROOT":
        raise errors.invalid("Please specify a volume that is not a ROOT volume.")
    if vol.get("virtualmachineid"):
        raise errors.invalid("Please specify a volume that is not attached to any VM.")
    if ctx.jobs.pending_job("Volume", vol["id"]):
        raise errors.invalid("Please specify a volume that is not in use by a pending job")
    remove_tags_of(model, vol["id"])
    del model.volumes[vol["id"]]
    model.touch()
    return SuccessResult()
