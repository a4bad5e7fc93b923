"""CloudStack virtual machines written as EC2 instances and reservations."""

import datetime

from cloudbridge.ec2 import ids
from cloudbridge.ec2.filters import TAGS
from cloudbridge.ec2.images import ROOT_DEVICE_NAME, architecture_of
from cloudbridge.ec2.tags import tag_dict, tag_set

# CloudStack VM state -> (EC2 state code, EC2 state name).  Every state of
# CloudStack 2.2 to 4.x is listed; see ec2_state() for anything newer.
VM_STATES = {
    "Starting": (0, "pending"),
    "Creating": (0, "pending"),
    "Running": (16, "running"),
    "Migrating": (16, "running"),      # a live migration keeps the VM running
    "Stopping": (64, "stopping"),
    "Stopped": (80, "stopped"),
    "Shutdowned": (80, "stopped"),     # 2.2/3.0 spelling
    "Shutdown": (80, "stopped"),
    "Destroyed": (48, "terminated"),
    "Expunging": (32, "shutting-down"),
    "Error": (48, "terminated"),       # creation failed: the VM never ran
    "Unknown": (0, "pending"),         # host unreachable: not usable until it reports again
}


def ec2_state(cloudstack_state):
    code, name = VM_STATES.get(cloudstack_state, (0, "pending"))
    return {"code": code, "name": name}


def parse_time(text):
    """Parse CloudStack's yyyy-MM-dd'T'HH:mm:ssZ (e.g. 2011-06-23T05:48:31+0000)."""
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")
    except (TypeError, ValueError):
        return datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def default_nic(vm):
    nics = vm.get("nic") or []
    for nic in nics:
        if nic.get("isdefault"):
            return nic
    return nics[0] if nics else {}


def addresses(vm, basic_zone):
    """Return (private IP, public IP) of a VM."""
    private_ip = default_nic(vm).get("ipaddress") or vm.get("ipaddress")
    public_ip = vm.get("publicip")
    if not public_ip and basic_zone:
        # In a Basic zone the guest address is directly reachable.
        public_ip = private_ip
    return private_ip, public_ip


class InstanceView:
    """Renders VMs for one request, with the lookups done once for all of them."""

    def __init__(self, ctx, vms, zones_by_id=None, block_devices=None):
        self.ctx = ctx
        self.vms = vms
        # VM id -> blockDeviceMapping items of its attached volumes.
        self.block_devices = block_devices or {}
        self.basic_zone_ids = {z["id"] for z in (zones_by_id or {}).values()
                               if z.get("networktype", "").lower() == "basic"}
        vm_ids = [vm["id"] for vm in vms]
        self.instance_ids = ids.to_ec2(ctx, ids.INSTANCE, vm_ids)
        self.image_ids = ids.to_ec2(ctx, ids.IMAGE, [vm.get("templateid") for vm in vms])
        self.reservations = ctx.store.reservations_for(vm_ids) if vm_ids else {}
        unreserved = [i for i in vm_ids if i not in self.reservations]
        if unreserved:
            # A VM launched outside CloudBridge is its own reservation.
            self.reservations.update(ids.to_ec2(ctx, ids.RESERVATION, unreserved))
        offering_map = ctx.store.offering_map()
        self.instance_types = {offering: itype for itype, offering in sorted(offering_map.items())}

    def instance_type(self, vm):
        offering = vm.get("serviceofferingid")
        if offering in self.instance_types:
            return self.instance_types[offering]
        # An unmapped offering is shown by its CloudStack name, never as m1.small.
        return vm.get("serviceofferingname") or offering or "unknown"

    def groups(self, vm):
        groups = vm.get("securitygroup") or []
        if self.ctx.uses_base_version:
            return [{"groupId": g.get("name")} for g in groups]
        group_ids = ids.to_ec2(self.ctx, ids.SECURITY_GROUP, [g.get("id") for g in groups])
        return [{"groupId": group_ids.get(g.get("id")), "groupName": g.get("name")}
                for g in groups]

    def item(self, vm, launch_index=0):
        private_ip, public_ip = addresses(vm, vm.get("zoneid") in self.basic_zone_ids)
        item = {
            "instanceId": self.instance_ids[vm["id"]],
            "imageId": self.image_ids.get(vm.get("templateid")),
            "instanceState": ec2_state(vm.get("state")),
            "privateDnsName": vm.get("name") or "",
            "dnsName": public_ip or "",
            "keyName": vm.get("keypair"),
            "amiLaunchIndex": launch_index,
            "instanceType": self.instance_type(vm),
            "launchTime": parse_time(vm.get("created")),
            "placement": {"availabilityZone": vm.get("zonename", "")},
            "monitoring": {"state": "disabled"},
            "privateIpAddress": private_ip,
            "ipAddress": public_ip,
        }
        if not self.ctx.uses_base_version:
            item["groupSet"] = self.groups(vm)
        item.update({
            "architecture": architecture_of({"displaytext": vm.get("templatedisplaytext", ""),
                                             "name": vm.get("templatename", "")}),
            "rootDeviceType": "ebs",
            "rootDeviceName": ROOT_DEVICE_NAME,
            "blockDeviceMapping": self.block_devices.get(vm["id"], []),
            "virtualizationType": "hvm",
            "tagSet": tag_set(vm),
            "hypervisor": str(vm.get("hypervisor", "")).lower() or None,
        })
        return item

    def reservation_list(self, filter_items=None):
        """Group the VMs into EC2 reservations, keeping the VMs' order."""
        reservations = {}
        for vm in self.vms:
            reservation_id = self.reservations[vm["id"]]
            entry = reservations.setdefault(reservation_id, {"vms": [], "owner": vm.get("account", "")})
            entry["vms"].append(vm)
        result = []
        for reservation_id, entry in reservations.items():
            items = []
            for index, vm in enumerate(entry["vms"]):
                items.append((vm, self.item(vm, index)))
            if filter_items is not None:
                items = filter_items(reservation_id, entry["owner"], items)
            if not items:
                continue
            groups = self.groups(items[0][0])
            result.append({
                "reservationId": reservation_id,
                "ownerId": entry["owner"],
                "groupSet": groups,
                "instancesSet": [item for _, item in items],
            })
        return result


# The DescribeInstances filter table, over rows of
# {"vm": CloudStack VM, "item": EC2 item, "reservation": id, "owner": owner}.
INSTANCE_FILTERS = {
    "availability-zone": lambda r: r["item"]["placement"]["availabilityZone"],
    "hypervisor": lambda r: r["item"]["hypervisor"],
    "image-id": lambda r: r["item"]["imageId"],
    "instance-id": lambda r: r["item"]["instanceId"],
    "instance-type": lambda r: r["item"]["instanceType"],
    "instance-state-code": lambda r: r["item"]["instanceState"]["code"],
    "instance-state-name": lambda r: r["item"]["instanceState"]["name"],
    "ip-address": lambda r: r["item"]["ipAddress"],
    "private-ip-address": lambda r: r["item"]["privateIpAddress"],
    "dns-name": lambda r: r["item"]["dnsName"],
    "private-dns-name": lambda r: r["item"]["privateDnsName"],
    "key-name": lambda r: r["item"]["keyName"],
    "owner-id": lambda r: r["owner"],
    "reservation-id": lambda r: r["reservation"],
    "root-device-name": lambda r: r["item"]["rootDeviceName"],
    "root-device-type": lambda r: r["item"]["rootDeviceType"],
    "architecture": lambda r: r["item"]["architecture"],
    "launch-time": lambda r: r["item"]["launchTime"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    "group-name": lambda r: [g.get("name") for g in r["vm"].get("securitygroup") or []],
    TAGS: lambda r: tag_dict(r["vm"]),
}
