"""Virtual machines: deploy, list, start, stop, reboot, destroy, recover,
expunge, update, changeService, passwords.

States (VirtualMachine.State): deploy -> Starting -> Running (or Stopped
with startvm=false, or Error when no host has room); stop -> Stopping ->
Stopped; destroy -> Destroyed (recoverable) -> Expunging -> gone, either by
expungeVirtualMachine or after the expunge delay.
"""

import base64
import binascii
import re
import secrets
from collections import OrderedDict

from cloudbridge.simulator import errors
from cloudbridge.simulator.accounts import check_limit
from cloudbridge.simulator.api import (AsyncResult, ObjectResult, command, fmt_date, now_ts)
from cloudbridge.simulator.jobs import job_kind, periodic
from cloudbridge.simulator.keypairs import encrypt_password, find_keypair
from cloudbridge.simulator.network import (account_networks, alloc_guest_ip,
                                           create_isolated_network, implement_network,
                                           isolated_offering, new_mac, release_guest_ip,
                                           release_static_nat)
from cloudbridge.simulator.state import new_id
from cloudbridge.simulator.tags import remove_tags_of, tag_filter
from cloudbridge.simulator.templates import template_usable
from cloudbridge.simulator.views import vm_view
from cloudbridge.simulator.volumes import GB, new_volume

PKG = "org.apache.cloudstack.api.command.user."
MAX_USER_DATA_BYTES = 2048
HIDDEN_FROM_USERS = ("Destroyed", "Expunging")
_HOSTNAME_RE = re.compile(r"^[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_PASSWORD_CHARS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def vm_label(vm):
    return "VM[User|%s]" % vm["instancename"]


def vm_for_user(ctx, vmid):
    vm = ctx.model.vms[vmid]
    ctx.check_access(vm, vm_label(vm))
    return vm


def _password():
    return "".join(secrets.choice(_PASSWORD_CHARS) for _ in range(6))


def _check_user_data(userdata):
    try:
        raw = base64.b64decode(userdata, validate=True)
    except (binascii.Error, ValueError):
        raise errors.invalid("User data is not base64 encoded")
    if len(raw) > MAX_USER_DATA_BYTES:
        raise errors.invalid("User data is too long")


def _account_num(model, acct):
    if "num" not in acct:
        acct["num"] = model.next_seq("accountnum") + 1
    return acct["num"]


def _fits(offering, host):
    return (offering["cpunumber"] <= host["cpunumber"]
            and offering["cpunumber"] * offering["cpuspeed"] <= host["cpunumber"] * host["cpuspeed"]
            and offering["memory"] <= host["memory"])


def _pick_host(model, vm):
    offering = model.service_offerings[vm["serviceofferingid"]]
    hosts = sorted((h for h in model.hosts.values() if h["zoneid"] == vm["zoneid"]),
                   key=lambda h: h["name"])
    fitting = [h for h in hosts if _fits(offering, h)]
    if not fitting:
        return None
    load = {h["id"]: 0 for h in fitting}
    for other in model.vms.values():
        if other.get("hostid") in load and other["state"] in ("Starting", "Running"):
            load[other["hostid"]] += 1
    return min(fitting, key=lambda h: (load[h["id"]], h["name"]))


def _result(ctx, vm, with_password=False):
    view = vm_view(ctx.model, vm, ctx)
    if with_password and vm.get("password"):
        view["password"] = vm["password"]
    return {"virtualmachine": view}


def _set_password(model, vm, password):
    vm["password"] = password
    vm["encryptedpassword"] = None
    if vm.get("keypair"):
        kp = find_keypair(model, model.accounts[vm["accountid"]], vm["keypair"])
        if kp is not None:
            vm["encryptedpassword"] = encrypt_password(kp["publickey"], password)


def _volumes_of(model, vm):
    return [v for v in model.volumes.values() if v.get("virtualmachineid") == vm["id"]]


def _go_running(ctx, vm):
    """Finish a start: place the VM on a host or fail with 533."""
    model = ctx.model
    host = _pick_host(model, vm)
    if host is None:
        raise errors.capacity("Unable to create a deployment for %s" % vm_label(vm))
    vm["state"] = "Running"
    vm["hostid"] = host["id"]
    for vol in _volumes_of(model, vm):
        if vol["state"] == "Allocated":
            vol["state"] = "Ready"
            vol["hypervisor"] = "XenServer"
    model.touch()


def _begin_start(ctx, vm):
    for nic in vm.get("nics", []):
        net = ctx.model.networks.get(nic["networkid"])
        if net is not None and net["type"] == "Isolated":
            implement_network(ctx, net)
            nic["isolationuri"] = net.get("broadcasturi")
            nic["broadcasturi"] = net.get("broadcasturi")
    vm["state"] = "Starting"
    ctx.model.touch()


# ---------------------------------------------------------------------------
# deploy


def _security_groups(ctx, p, acct, zone):
    model = ctx.model
    ids = p.get("securitygroupids")
    names = p.get("securitygroupnames")
    if ids and names:
        raise errors.invalid("securitygroupids parameter is mutually exclusive with "
                             "securitygroupnames parameter")
    if not zone["securitygroupsenabled"]:
        if ids or names:
            raise errors.invalid("Can't create vm with security groups; security group feature "
                                 "is not enabled in this zone")
        return []
    groups = []
    if names:
        for name in names:
            found = [g for g in model.security_groups.values()
                     if g["accountid"] == acct["id"] and g["name"] == name]
            if not found:
                raise errors.invalid("Unable to find group by name %s for account %s"
                                     % (name, acct["id"]))
            groups.append(found[0]["id"])
    elif ids:
        for gid in ids:
            group = model.security_groups[gid]
            if group["accountid"] != acct["id"]:
                raise errors.denied("%s does not have permission to operate with resource "
                                    "SecurityGroup[%s]" % (ctx.caller_label(), gid))
            groups.append(gid)
    if not groups:
        groups = [g["id"] for g in model.security_groups.values()
                  if g["accountid"] == acct["id"] and g["name"] == "default"]
    return list(OrderedDict.fromkeys(groups))


def _networks(ctx, p, acct, zone):
    model = ctx.model
    if zone["networktype"] == "Basic":
        nets = [n for n in model.networks.values()
                if n["zoneid"] == zone["id"] and n["type"] == "Shared"]
        if p.get("networkids"):
            wanted = set(p["networkids"])
            if not wanted <= {n["id"] for n in nets}:
                raise errors.invalid("Can specify only the default network in a Basic zone")
        return nets[:1]
    if p.get("networkids"):
        nets = []
        for nid in p["networkids"]:
            net = model.networks[nid]
            if net["zoneid"] != zone["id"]:
                raise errors.invalid("Network id=%s doesn't belong to zone %s"
                                     % (nid, zone["id"]))
            if net.get("accountid") is not None and net["accountid"] != acct["id"]:
                raise errors.denied("%s does not have permission to operate with resource "
                                    "Ntwk[%s]" % (ctx.caller_label(), nid))
            nets.append(net)
        return nets
    nets = account_networks(model, acct, zone["id"])
    if len(nets) > 1:
        raise errors.invalid("More than 1 default Isolated networks are found for account "
                             "Acct[%s-%s]; please specify networkIds" % (acct["id"], acct["name"]))
    if not nets:
        offering = isolated_offering(model)
        if offering is None:
            raise errors.invalid("Unable to find physical network with id: null and tag: null")
        nets = [create_isolated_network(ctx, acct, zone, acct["name"] + "-network",
                                        acct["name"] + "-network", offering)]
    return nets


@command("deployVirtualMachine", dict(
    zoneid="uuid:zones!", serviceofferingid="uuid:service_offerings!",
    templateid="uuid:templates!", displayname="str", name="str", group="str",
    hypervisor="str", userdata="str", keypair="str", account="str", domainid="uuid:domains",
    networkids="uuids:networks", iptonetworklist="map", ipaddress="str", ip6address="str",
    diskofferingid="uuid:disk_offerings", size="long", securitygroupids="uuids:security_groups",
    securitygroupnames="list", hostid="uuid:hosts", keyboard="str", projectid="uuid:projects",
    startvm="bool", affinitygroupids="list", affinitygroupnames="list", displayvm="bool"),
    is_async=True)
def deploy_virtual_machine(ctx, p):
    model = ctx.model
    acct = ctx.owner(p)
    zone = model.zones[p["zoneid"]]
    if zone["allocationstate"] != "Enabled" and not ctx.is_admin:
        raise errors.denied("Cannot perform this operation, Zone is currently disabled: %s"
                            % zone["id"])
    offering = model.service_offerings[p["serviceofferingid"]]
    template = model.templates[p["templateid"]]
    template_usable(ctx, template, acct, zone)
    if template["format"] == "ISO" and not p.get("diskofferingid"):
        raise errors.invalid("Installing from ISO requires a disk offering to be specified for "
                             "the root disk.")
    if p.get("hypervisor") and p["hypervisor"].lower() != "xenserver" and \
            template["format"] != "ISO":
        raise errors.invalid("Hypervisor passed to the deployVm call, is different from the "
                             "hypervisor type of the template")
    disk_offering = None
    data_size = None
    if p.get("diskofferingid"):
        disk_offering = model.disk_offerings[p["diskofferingid"]]
        if disk_offering["iscustomized"]:
            if not p.get("size"):
                raise errors.invalid("Disk offering %s requires size parameter."
                                     % disk_offering["id"])
            data_size = p["size"] * GB
        else:
            data_size = disk_offering["disksize"] * GB
    if p.get("keypair"):
        if find_keypair(model, acct, p["keypair"]) is None:
            raise errors.invalid("A key pair with name '%s' was not found." % p["keypair"])
    if p.get("userdata"):
        _check_user_data(p["userdata"])
    name = p.get("name")
    if name is not None:
        if not _HOSTNAME_RE.match(name) or name[0].isdigit():
            raise errors.invalid(
                "Invalid name. Vm name can contain ASCII letters 'a' through 'z', the digits '0' "
                "through '9', and the hyphen ('-'), must be between 1 and 63 characters long, "
                "and can't start or end with \"-\" and can't start with digit")
    groups = _security_groups(ctx, p, acct, zone)
    check_limit(ctx, acct, 0)
    nets = _networks(ctx, p, acct, zone)
    if name is not None:
        for other in model.vms.values():
            if other["name"] == name and other["state"] not in HIDDEN_FROM_USERS and any(
                    n["networkid"] in {x["id"] for x in nets} for n in other.get("nics", [])):
                raise errors.invalid("The vm with hostName %s already exists in the network "
                                     "domain: %s; network=%s" % (name, nets[0]["networkdomain"],
                                                                 nets[0]["id"]))

    vmid = new_id()
    vmnum = model.next_seq("vm")
    nics = []
    for i, net in enumerate(nets):
        addr = alloc_guest_ip(net, p.get("ipaddress") if i == 0 else None)
        isolated = net["type"] == "Isolated"
        nics.append(OrderedDict(
            id=new_id(), networkid=net["id"], ipaddress=addr, netmask=net["netmask"],
            gateway=net["gateway"], macaddress=new_mac(model),
            type="Isolated" if isolated else "Shared", isdefault=i == 0,
            isolationuri=net.get("broadcasturi") if isolated else "ec2://untagged",
            broadcasturi=net.get("broadcasturi") if isolated else "vlan://untagged"))
    vm = OrderedDict(
        id=vmid, name=name or vmid, displayname=p.get("displayname") or name or vmid,
        instancename="i-%d-%d-VM" % (_account_num(model, acct), vmnum),
        accountid=acct["id"], domainid=acct["domainid"], created=fmt_date(now_ts()),
        state="Stopped", zoneid=zone["id"], hostid=None, templateid=template["id"],
        isoid=template["id"] if template["format"] == "ISO" else None,
        serviceofferingid=offering["id"], keypair=p.get("keypair"),
        userdata=p.get("userdata"), group=p.get("group"),
        groupid=new_id() if p.get("group") else None, haenable=False, nics=nics,
        securitygroupids=groups, hypervisor="XenServer", publicipid=None, password=None,
        encryptedpassword=None, destroyed_at=None, seq=vmnum)
    model.vms[vmid] = vm
    root_size = template["size"] if template["format"] != "ISO" else data_size
    new_volume(model, acct, zone["id"], "ROOT", "ROOT-%d" % vmnum, root_size,
               serviceofferingid=offering["id"], vm=vm, deviceid=0,
               diskofferingid=disk_offering["id"] if template["format"] == "ISO" else None)
    if disk_offering is not None and template["format"] != "ISO":
        new_volume(model, acct, zone["id"], "DATADISK", "DATA-%d" % vmnum, data_size,
                   diskofferingid=disk_offering["id"], vm=vm, deviceid=1)
    if template["passwordenabled"]:
        _set_password(model, vm, _password())
    model.touch()
    start = p.get("startvm", True)
    jobid = ctx.submit("deployVirtualMachine", "VirtualMachine", vmid, {"id": vmid,
                                                                       "start": start})
    return AsyncResult(jobid, vmid)


def _begin_deploy(ctx, job):
    vm = ctx.model.vms.get(job["args"]["id"])
    if vm is not None and job["args"].get("start", True):
        _begin_start(ctx, vm)


@job_kind("deployVirtualMachine", PKG + "vm.DeployVMCmd", begin=_begin_deploy)
def _finish_deploy(ctx, job):
    model = ctx.model
    vm = model.vms.get(job["args"]["id"])
    if vm is None:
        raise errors.internal("Unable to find vm %s" % job["args"]["id"])
    if job["args"].get("start", True):
        try:
            _go_running(ctx, vm)
        except errors.CSError:
            vm["state"] = "Error"
            model.touch()
            raise
    return _result(ctx, vm, with_password=True)


# ---------------------------------------------------------------------------
# listing


@command("listVirtualMachines", dict(
    affinitygroupid="str", details="list", forvirtualnetwork="bool", groupid="str",
    hostid="uuid:hosts", hypervisor="str", id="uuid:vms", ids="list", isoid="uuid:templates",
    name="str", networkid="uuid:networks", podid="str", state="str", storageid="str",
    tags="map", templateid="uuid:templates", vpcid="str", zoneid="uuid:zones"), listing=True)
def list_virtual_machines(ctx, p):
    model = ctx.model
    pred = ctx.scope(p)
    match_tags = tag_filter(model, "UserVm", p.get("tags"))
    items = []
    for vm in sorted(model.vms.values(), key=lambda v: v["seq"]):
        if not pred(vm):
            continue
        if vm["state"] in HIDDEN_FROM_USERS and not ctx.is_admin:
            continue
        if p.get("id") and vm["id"] != p["id"]:
            continue
        if p.get("ids") and vm["id"] not in p["ids"]:
            continue
        if p.get("name") and p["name"].lower() not in vm["name"].lower():
            continue
        if p.get("state") and vm["state"].lower() != p["state"].lower():
            continue
        if p.get("zoneid") and vm["zoneid"] != p["zoneid"]:
            continue
        if p.get("templateid") and vm["templateid"] != p["templateid"]:
            continue
        if p.get("isoid") and vm.get("isoid") != p["isoid"]:
            continue
        if p.get("hostid") and vm.get("hostid") != p["hostid"]:
            continue
        if p.get("groupid") and vm.get("groupid") != p["groupid"]:
            continue
        if p.get("networkid") and not any(n["networkid"] == p["networkid"]
                                          for n in vm.get("nics", [])):
            continue
        if p.get("forvirtualnetwork") is not None:
            isolated = any(n["type"] == "Isolated" for n in vm.get("nics", []))
            if isolated != p["forvirtualnetwork"]:
                continue
        if not match_tags(vm["id"]):
            continue
        items.append(vm_view(model, vm, ctx))
    return ctx.page("virtualmachine", items, p)


# ---------------------------------------------------------------------------
# start / stop / reboot / destroy


def _vm_job(ctx, p, kind):
    vm = vm_for_user(ctx, p["id"])
    jobid = ctx.submit(kind, "VirtualMachine", vm["id"], {"id": vm["id"]})
    return AsyncResult(jobid)


def _job_vm(ctx, job):
    vm = ctx.model.vms.get(job["args"]["id"])
    if vm is None:
        raise errors.invalid("Unable to find a virtual machine with specified vmId")
    return vm


@command("startVirtualMachine", dict(id="uuid:vms!", hostid="uuid:hosts"), is_async=True)
def start_virtual_machine(ctx, p):
    return _vm_job(ctx, p, "startVirtualMachine")


def _begin_start_job(ctx, job):
    vm = _job_vm(ctx, job)
    if vm["state"] == "Running":
        return
    if vm["state"] != "Stopped":
        raise errors.internal("Unable to start %s: it is in state %s" % (vm_label(vm),
                                                                         vm["state"]))
    _begin_start(ctx, vm)


@job_kind("startVirtualMachine", PKG + "vm.StartVMCmd", begin=_begin_start_job)
def _finish_start(ctx, job):
    vm = _job_vm(ctx, job)
    if vm["state"] == "Starting":
        try:
            _go_running(ctx, vm)
        except errors.CSError:
            vm["state"] = "Stopped"
            ctx.model.touch()
            raise
    return _result(ctx, vm)


@command("stopVirtualMachine", dict(id="uuid:vms!", forced="bool"), is_async=True)
def stop_virtual_machine(ctx, p):
    return _vm_job(ctx, p, "stopVirtualMachine")


def _begin_stop(ctx, job):
    vm = _job_vm(ctx, job)
    if vm["state"] == "Stopped":
        return
    if vm["state"] != "Running":
        raise errors.internal("Unable to stop %s: it is in state %s" % (vm_label(vm),
                                                                       vm["state"]))
    vm["state"] = "Stopping"
    ctx.model.touch()


def _stopped(model, vm):
    vm["state"] = "Stopped"
    vm["hostid"] = None
    model.touch()


@job_kind("stopVirtualMachine", PKG + "vm.StopVMCmd", begin=_begin_stop)
def _finish_stop(ctx, job):
    vm = _job_vm(ctx, job)
    if vm["state"] == "Stopping":
        _stopped(ctx.model, vm)
    return _result(ctx, vm)


@command("rebootVirtualMachine", dict(id="uuid:vms!"), is_async=True)
def reboot_virtual_machine(ctx, p):
    return _vm_job(ctx, p, "rebootVirtualMachine")


def _begin_reboot(ctx, job):
    vm = _job_vm(ctx, job)
    if vm["state"] != "Running":
        raise errors.internal("Failed to reboot vm instance")


@job_kind("rebootVirtualMachine", PKG + "vm.RebootVMCmd", begin=_begin_reboot)
def _finish_reboot(ctx, job):
    vm = _job_vm(ctx, job)
    if vm["state"] != "Running":
        raise errors.internal("Failed to reboot vm instance")
    return _result(ctx, vm)


@command("destroyVirtualMachine", dict(id="uuid:vms!"), is_async=True)
def destroy_virtual_machine(ctx, p):
    return _vm_job(ctx, p, "destroyVirtualMachine")


def _begin_destroy(ctx, job):
    vm = _job_vm(ctx, job)
    if vm["state"] == "Running":
        vm["state"] = "Stopping"
        ctx.model.touch()


@job_kind("destroyVirtualMachine", PKG + "vm.DestroyVMCmd", begin=_begin_destroy)
def _finish_destroy(ctx, job):
    model = ctx.model
    vm = _job_vm(ctx, job)
    if vm["state"] not in HIDDEN_FROM_USERS:
        vm["state"] = "Destroyed"
        vm["hostid"] = None
        vm["destroyed_at"] = now_ts()
        for vol in _volumes_of(model, vm):
            if vol["type"] == "ROOT":
                vol["state"] = "Destroy"
        model.touch()
    return _result(ctx, vm)


@command("recoverVirtualMachine", dict(id="uuid:vms!"))
def recover_virtual_machine(ctx, p):
    model = ctx.model
    vm = vm_for_user(ctx, p["id"])
    if vm["state"] != "Destroyed":
        raise errors.invalid("Vm with id %s is not in the right state" % vm["id"])
    vm["state"] = "Stopped"
    vm["destroyed_at"] = None
    for vol in _volumes_of(model, vm):
        if vol["type"] == "ROOT" and vol["state"] == "Destroy":
            vol["state"] = "Ready"
    model.touch()
    return ObjectResult("virtualmachine", vm_view(model, vm, ctx))


def expunge_vm(model, vm):
    """Remove a VM for good: its ROOT volume, addresses, rules and tags go;
    data disks are detached."""
    for vol in _volumes_of(model, vm):
        if vol["type"] == "ROOT":
            remove_tags_of(model, vol["id"])
            del model.volumes[vol["id"]]
        else:
            vol["virtualmachineid"] = None
            vol["deviceid"] = None
            vol["attached"] = None
    for ip in model.ips.values():
        if ip.get("virtualmachineid") == vm["id"]:
            release_static_nat(model, ip)
    for nic in vm.get("nics", []):
        release_guest_ip(model.networks.get(nic["networkid"]), nic["ipaddress"])
    remove_tags_of(model, vm["id"])
    del model.vms[vm["id"]]
    model.touch()


@command("expungeVirtualMachine", dict(id="uuid:vms!"), is_async=True, admin=True)
def expunge_virtual_machine(ctx, p):
    vm = vm_for_user(ctx, p["id"])
    if vm["state"] == "Expunging":
        raise errors.invalid("Vm with id %s is already being expunged" % vm["id"])
    return _vm_job(ctx, p, "expungeVirtualMachine")


def _begin_expunge(ctx, job):
    vm = _job_vm(ctx, job)
    vm["state"] = "Expunging"
    ctx.model.touch()


@job_kind("expungeVirtualMachine", PKG + "vm.ExpungeVMCmd", begin=_begin_expunge)
def _finish_expunge(ctx, job):
    vm = ctx.model.vms.get(job["args"]["id"])
    if vm is not None:
        expunge_vm(ctx.model, vm)
    return {"success": True}


@periodic
def expunge_destroyed(sim, now):
    """The expunge thread: Destroyed VMs older than the expunge delay, and
    VMs that failed to deploy, are removed."""
    delay = sim.expunge_delay
    if delay is None:
        return
    model = sim.model
    for vm in list(model.vms.values()):
        if sim.jobs.pending_job("VirtualMachine", vm["id"]):
            continue
        if vm["state"] == "Destroyed" and vm.get("destroyed_at") and \
                now - vm["destroyed_at"] >= delay:
            expunge_vm(model, vm)


# ---------------------------------------------------------------------------
# update / change service / passwords


@command("updateVirtualMachine", dict(id="uuid:vms!", displayname="str", group="str",
                                      haenable="bool", ostypeid="uuid:ostypes", userdata="str",
                                      displayvm="bool", isdynamicallyscalable="bool"))
def update_virtual_machine(ctx, p):
    model = ctx.model
    vm = vm_for_user(ctx, p["id"])
    if vm["state"] in ("Error", "Expunging"):
        raise errors.invalid("Vm with id %s is not in the right state" % vm["id"])
    if p.get("userdata") is not None:
        _check_user_data(p["userdata"])
        vm["userdata"] = p["userdata"]
    if p.get("displayname"):
        vm["displayname"] = p["displayname"]
    if p.get("group") is not None:
        vm["group"] = p["group"] or None
        vm["groupid"] = new_id() if p["group"] else None
    if p.get("haenable") is not None:
        vm["haenable"] = p["haenable"]
    model.touch()
    return ObjectResult("virtualmachine", vm_view(model, vm, ctx))


@command("changeServiceForVirtualMachine", dict(id="uuid:vms!",
                                                serviceofferingid="uuid:service_offerings!"))
def change_service_for_virtual_machine(ctx, p):
    model = ctx.model
    vm = vm_for_user(ctx, p["id"])
    offering = model.service_offerings[p["serviceofferingid"]]
    if vm["state"] != "Stopped":
        raise errors.invalid("Unable to upgrade virtual machine %s  in state %s; make sure the "
                             "virtual machine is stopped" % (vm_label(vm), vm["state"]))
    if vm["serviceofferingid"] == offering["id"]:
        raise errors.invalid("Not upgrading vm %s since it already has the requested service "
                             "offering (%s)" % (vm_label(vm), offering["name"]))
    vm["serviceofferingid"] = offering["id"]
    for vol in _volumes_of(model, vm):
        if vol["type"] == "ROOT":
            vol["serviceofferingid"] = offering["id"]
    model.touch()
    return ObjectResult("virtualmachine", vm_view(model, vm, ctx))


@command("getVMPassword", dict(id="uuid:vms!"))
def get_vm_password(ctx, p):
    vm = vm_for_user(ctx, p["id"])
    if not vm.get("encryptedpassword"):
        raise errors.invalid("No password for VM with id '%s' found. Please try again in a few "
                             "minutes if VM was recently created" % vm["id"])
    return ObjectResult("password", OrderedDict([("encryptedpassword",
                                                  vm["encryptedpassword"])]))


@command("resetPasswordForVirtualMachine", dict(id="uuid:vms!"), is_async=True)
def reset_password_for_virtual_machine(ctx, p):
    return _vm_job(ctx, p, "resetPasswordForVirtualMachine")


def _begin_reset_password(ctx, job):
    vm = _job_vm(ctx, job)
    template = ctx.model.templates.get(vm["templateid"])
    if template is None or not template["passwordenabled"]:
        raise errors.invalid("Fail to reset password for the virtual machine, the template is "
                             "not password enabled")
    if vm["state"] != "Stopped":
        raise errors.invalid("Vm %s should be stopped to do password reset" % vm_label(vm))


@job_kind("resetPasswordForVirtualMachine", PKG + "vm.ResetVMPasswordCmd",
          begin=_begin_reset_password)
def _finish_reset_password(ctx, job):
    vm = _job_vm(ctx, job)
    _set_password(ctx.model, vm, _password())
    ctx.model.touch()
    return _result(ctx, vm, with_password=True)
