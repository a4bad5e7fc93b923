"""Instances: DescribeInstances and the state changes (start, stop, reboot, terminate)."""

import json
import logging

from cloudbridge import errors
from cloudbridge.ec2 import ids
from cloudbridge.ec2.core import action
from cloudbridge.ec2.filters import apply_filters, validate_filters
from cloudbridge.ec2.instance_view import INSTANCE_FILTERS, InstanceView, ec2_state
from cloudbridge.ec2.storage import block_device_mapping, list_volumes
from cloudbridge.ec2.zones import list_zones

LOG = logging.getLogger(__name__)

# EC2 lists a terminated instance for about an hour; CloudStack hides a
# destroyed VM from its owner at once, so CloudBridge keeps its last view.
TERMINATED_VISIBLE_SECONDS = 3600


def list_vms(ctx, vm_id=None):
    return ctx.cloudstack.list("listVirtualMachines", "virtualmachine", listall=True, id=vm_id)


def with_terminated(ctx, vms, vm_ids=None):
    """Add the caller's recently terminated VMs that CloudStack no longer lists.

    A listed VM whose destroy job is still running is shown as Expunging
    (EC2's shutting-down), not in the Stopping state CloudStack passes
    through on the way.  With `vm_ids`, only those VMs are added.
    """
    recent = ctx.store.recent_terminated(ctx.access_key, TERMINATED_VISIBLE_SECONDS)
    listed = set()
    for vm in vms:
        listed.add(vm["id"])
        if vm["id"] in recent and vm.get("jobstatus") == 0 and vm.get("state") != "Destroyed":
            vm["state"] = "Expunging"
    added = []
    for vm_id, text in sorted(recent.items()):
        if vm_id in listed or (vm_ids is not None and vm_id not in vm_ids):
            continue
        vm = json.loads(text)
        vm["state"] = "Destroyed"
        added.append(vm)
    return vms + added


def remember_terminated(ctx, vms):
    ctx.store.record_terminated(ctx.access_key, {vm["id"]: json.dumps(vm) for vm in vms},
                                TERMINATED_VISIBLE_SECONDS)


def make_view(ctx, vms):
    """Prepare the rendering of VMs: one zone and one volume listing for all of them."""
    if not vms:
        return InstanceView(ctx, [], {})
    zones = {z["id"]: z for z in list_zones(ctx)}
    vm_ids = {vm["id"] for vm in vms}
    attached = [v for v in list_volumes(ctx) if v.get("virtualmachineid") in vm_ids]
    volume_ids = ids.to_ec2(ctx, ids.VOLUME, [v["id"] for v in attached])
    volumes_by_vm = {}
    for volume in attached:
        volumes_by_vm.setdefault(volume["virtualmachineid"], []).append(volume)
    block_devices = {vm_id: block_device_mapping(volumes, volume_ids)
                     for vm_id, volumes in volumes_by_vm.items()}
    return InstanceView(ctx, vms, zones, block_devices)


def find_vms(ctx, instance_ids):
    """Return the caller's VMs for these instance ids, in the given order.

    One listing serves any number of ids; an id that does not exist or is
    not the caller's raises InvalidInstanceID.NotFound before anything is changed.
    """
    wanted = ids.resolve(ctx, ids.INSTANCE, instance_ids, errors.InvalidInstanceIDNotFound)
    if len(wanted) == 1:
        try:
            vms = list_vms(ctx, next(iter(wanted.values())))
        except (errors.InvalidParameterValue, errors.NotFound):
            vms = []  # CloudStack's answer for an expunged or unknown VM
    else:
        vms = list_vms(ctx)
    vms = with_terminated(ctx, vms, set(wanted.values()))
    by_id = {vm["id"]: vm for vm in vms}
    missing = [given for given, vm_id in wanted.items() if vm_id not in by_id]
    if missing:
        raise errors.InvalidInstanceIDNotFound(
            "The instance ID '%s' does not exist" % ", ".join(missing))
    return [(given, by_id[vm_id]) for given, vm_id in wanted.items()]


@action("DescribeInstances")
def describe_instances(ctx):
    instance_ids = ctx.params.strings("InstanceId")
    filters = ctx.params.filters()
    validate_filters(filters, INSTANCE_FILTERS, "DescribeInstances")
    if instance_ids:
        vms = [vm for _, vm in find_vms(ctx, instance_ids)]
    else:
        vms = with_terminated(ctx, list_vms(ctx))
    view = make_view(ctx, vms)

    def keep(reservation_id, owner, items):
        rows = [{"vm": vm, "item": item, "reservation": reservation_id, "owner": owner}
                for vm, item in items]
        rows = apply_filters(rows, filters, INSTANCE_FILTERS, "DescribeInstances")
        return [(row["vm"], row["item"]) for row in rows]

    return {"reservationSet": view.reservation_list(keep)}


def change_states(ctx, command, transition, skip_states, job_params=None):
    """Start one CloudStack job per instance; return the state changes and the VMs.

    As EC2 does, the response is sent as soon as every job has started, so
    the current state is the transitional one (`transition`, a CloudStack state
    name such as "Stopping").  Instances already in one of `skip_states` get
    no job, and their previous and current states are the same.  A job that
    CloudStack rejects outright fails the request with its EC2 error.
    """
    instance_ids = ctx.params.strings("InstanceId")
    if not instance_ids:
        raise errors.MissingParameter("The request must contain the parameter InstanceId")
    targets = find_vms(ctx, instance_ids)

    terminated = [given for given, vm in targets
                  if vm.get("state") == "Destroyed" and "Destroyed" not in skip_states]
    if terminated:
        raise errors.IncorrectInstanceState(
            "The instance '%s' is terminated; it cannot be started or stopped."
            % ", ".join(terminated))

    instance_ids_by_vm = ids.to_ec2(ctx, ids.INSTANCE, [vm["id"] for _, vm in targets])
    changes = []
    for given, vm in targets:
        current = vm.get("state")
        if current not in skip_states:
            started = ctx.cloudstack.submit(command, id=vm["id"], **(job_params or {}))
            LOG.info("%s of VM %s started as job %s", command, vm["id"], started.get("jobid"))
            current = transition
        changes.append({
            "instanceId": instance_ids_by_vm[vm["id"]],
            "currentState": ec2_state(current),
            "previousState": ec2_state(vm.get("state")),
        })
    return {"instancesSet": changes}, [vm for _, vm in targets]


@action("StartInstances")
def start_instances(ctx):
    return change_states(ctx, "startVirtualMachine", "Starting", {"Running", "Starting"})[0]


@action("StopInstances")
def stop_instances(ctx):
    forced = ctx.params.boolean("Force", False)
    return change_states(ctx, "stopVirtualMachine", "Stopping", {"Stopped", "Stopping"},
                         {"forced": forced} if forced else None)[0]


@action("TerminateInstances")
def terminate_instances(ctx):
    changes, vms = change_states(ctx, "destroyVirtualMachine", "Expunging",
                                 {"Destroyed", "Expunging"})
    remember_terminated(ctx, [vm for vm in vms if vm.get("state") != "Destroyed"])
    return changes


@action("RebootInstances")
def reboot_instances(ctx):
    instance_ids = ctx.params.strings("InstanceId")
    if not instance_ids:
        raise errors.MissingParameter("The request must contain the parameter InstanceId")
    targets = find_vms(ctx, instance_ids)
    not_running = [given for given, vm in targets if vm.get("state") != "Running"]
    if not_running:
        raise errors.IncorrectInstanceState(
            "The instance '%s' is not in a state from which it can be rebooted."
            % ", ".join(not_running))
    for given, vm in targets:
        started = ctx.cloudstack.submit("rebootVirtualMachine", id=vm["id"])
        LOG.info("rebootVirtualMachine of VM %s started as job %s", vm["id"], started.get("jobid"))
    return {"return": True}
