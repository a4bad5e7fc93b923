"""Instances: DescribeInstances and the state changes (start, stop, reboot, terminate)."""

import logging

from cloudbridge import errors
from cloudbridge.cloudstack.client import JobTimeout
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


def change_states(ctx, command, skip_states, job_params=None):
    """Run one CloudStack command on each instance and report the state changes.

    Instances already in one of `skip_states` get no call; their previous and
    current states are the same.  Every job is started before any is waited
    for.  A failed job fails the request with its EC2 error once all jobs
    have finished.
    """
    instance_ids = ctx.params.strings("InstanceId")
    if not instance_ids:
        raise errors.MissingParameter("The request must contain the parameter InstanceId")
    targets = find_vms(ctx, instance_ids)

    jobs = {}
    for given, vm in targets:
        if vm.get("state") in skip_states:
            continue
        started = ctx.cloudstack.submit(command, id=vm["id"], **(job_params or {}))
        jobs[started["jobid"]] = (given, vm)
    outcomes = ctx.cloudstack.wait_for_jobs({job: command for job in jobs}) if jobs else {}

    current = {}
    failure = None
    for job_id, (given, vm) in jobs.items():
        outcome = outcomes[job_id]
        if isinstance(outcome, JobTimeout):
            current[vm["id"]] = None  # still in progress: report the state CloudStack shows
        elif isinstance(outcome, Exception):
            failure = failure or outcome
        else:
            current[vm["id"]] = (outcome.get("virtualmachine") or {}).get("state")
    if failure is not None:
        raise failure

    pending = [vm_id for vm_id, state in current.items() if state is None]
    if pending:
        fresh = {vm["id"]: vm for vm in list_vms(ctx)}
        for vm_id in pending:
            current[vm_id] = fresh.get(vm_id, {}).get("state", "Destroyed")

    instance_ids_by_vm = ids.to_ec2(ctx, ids.INSTANCE, [vm["id"] for _, vm in targets])
    changes = []
    for given, vm in targets:
        changes.append({
            "instanceId": instance_ids_by_vm[vm["id"]],
            "currentState": ec2_state(current.get(vm["id"], vm.get("state"))),
            "previousState": ec2_state(vm.get("state")),
        })
    return {"instancesSet": changes}


@action("StartInstances")
def start_instances(ctx):
    return change_states(ctx, "startVirtualMachine", {"Running", "Starting"})


@action("StopInstances")
def stop_instances(ctx):
    forced = ctx.params.boolean("Force", False)
    return change_states(ctx, "stopVirtualMachine", {"Stopped", "Stopping"},
                         {"forced": forced} if forced else None)


@action("TerminateInstances")
def terminate_instances(ctx):
    return change_states(ctx, "destroyVirtualMachine", {"Destroyed", "Expunging"})


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
    jobs = {}
    for given, vm in targets:
        jobs[ctx.cloudstack.submit("rebootVirtualMachine", id=vm["id"])["jobid"]] = given
    outcomes = ctx.cloudstack.wait_for_jobs({job: "rebootVirtualMachine" for job in jobs})
    for outcome in outcomes.values():
        if isinstance(outcome, Exception) and not isinstance(outcome, JobTimeout):
            raise outcome
    return {"return": True}
