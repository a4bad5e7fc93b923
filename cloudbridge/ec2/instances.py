"""Instances: DescribeInstances and the state changes (start, stop, reboot, terminate)."""

import logging

from cloudbridge import errors
from cloudbridge.ec2 import ids
from cloudbridge.ec2.core import action
from cloudbridge.ec2.filters import apply_filters, validate_filters
from cloudbridge.ec2.instance_view import INSTANCE_FILTERS, InstanceView, ec2_state
from cloudbridge.ec2.zones import list_zones

LOG = logging.getLogger(__name__)


def list_vms(ctx, vm_id=None):
    return ctx.cloudstack.list("listVirtualMachines", "virtualmachine", listall=True, id=vm_id)


def make_view(ctx, vms):
    zones = {z["id"]: z for z in list_zones(ctx)} if vms else {}
    return InstanceView(ctx, vms, zones)


def find_vms(ctx, instance_ids):
    """Return the caller's VMs for these instance ids, in the given order.

    One listing serves any number of ids; an id that does not exist or is
    not the caller's raises InvalidInstanceID.NotFound before anything is changed.
    """
    wanted = ids.resolve(ctx, ids.INSTANCE, instance_ids, errors.InvalidInstanceIDNotFound)
    if len(wanted) == 1:
        try:
            vms = list_vms(ctx, next(iter(wanted.values())))
        except errors.InvalidParameterValue:
            vms = []
    else:
        vms = list_vms(ctx)
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
        vms = list_vms(ctx)
    view = make_view(ctx, vms)

    def keep(reservation_id, owner, items):
        rows = [{"vm": vm, "item": item, "reservation": reservation_id, "owner": owner}
                for vm, item in items]
        rows = apply_filters(rows, filters, INSTANCE_FILTERS, "DescribeInstances")
        return [(row["vm"], row["item"]) for row in rows]

    return {"reservationSet": view.reservation_list(keep)}


def change_states(ctx, command, transition, skip_states, job_params=None):
    """Start one CloudStack job per instance and report the state changes.

    As EC2 does, the answer comes as soon as every job has started: the
    current state is the transitional one (`transition`, a CloudStack state
    name such as "Stopping").  Instances already in one of `skip_states` get
    no job, and their previous and current states are the same.  A job that
    CloudStack rejects outright fails the request with its EC2 error.
    """
    instance_ids = ctx.params.strings("InstanceId")
    if not instance_ids:
        raise errors.MissingParameter("The request must contain the parameter InstanceId")
    targets = find_vms(ctx, instance_ids)

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
    return {"instancesSet": changes}


@action("StartInstances")
def start_instances(ctx):
    return change_states(ctx, "startVirtualMachine", "Starting", {"Running", "Starting"})


@action("StopInstances")
def stop_instances(ctx):
    forced = ctx.params.boolean("Force", False)
    return change_states(ctx, "stopVirtualMachine", "Stopping", {"Stopped", "Stopping"},
                         {"forced": forced} if forced else None)


@action("TerminateInstances")
def terminate_instances(ctx):
    return change_states(ctx, "destroyVirtualMachine", "Expunging",
                         {"Destroyed", "Expunging"})


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
