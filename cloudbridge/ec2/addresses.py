"""Elastic IP addresses: CloudStack public IP addresses with static NAT.

AllocateAddress acquires a public address for the caller's isolated
network in an Advanced zone, AssociateAddress sets up static NAT to an
instance, DisassociateAddress ends it (the address stays allocated) and
ReleaseAddress gives the address back.  The source NAT address of a
network is CloudStack's own and is never shown or released as an elastic IP.

Versions after 2010-11-15 also get `allocationId` (an `eipalloc-` id),
`domain` "standard" and, while associated, `associationId` (an `eipassoc-`
id, one per address).  AssociateAddress and ReleaseAddress accept
AllocationId in place of PublicIp, and DisassociateAddress AssociationId.
"""

import logging

from cloudbridge import errors
from cloudbridge.ec2 import ids
from cloudbridge.ec2.core import action
from cloudbridge.ec2.filters import apply_filters, validate_filters
from cloudbridge.ec2.instances import find_vms
from cloudbridge.ec2.run import find_network
from cloudbridge.ec2.zones import is_basic, list_zones

LOG = logging.getLogger(__name__)

ALLOCATION = "eipalloc"
ASSOCIATION = "eipassoc"
DOMAIN = "standard"

ADDRESS_FILTERS = {
    "public-ip": lambda item: item["publicIp"],
    "instance-id": lambda item: item["instanceId"],
    "allocation-id": lambda item: item["allocationId"],
    "association-id": lambda item: item["associationId"],
    "domain": lambda item: item["domain"],
}


def is_elastic(address):
    """False for addresses CloudStack uses itself: source NAT, system and direct ones."""
    return not (address.get("issourcenat") or address.get("issystem")
                or address.get("forvirtualnetwork") is False)


def list_public_addresses(ctx):
    """List the caller's public addresses, source NAT ones included, in one CloudStack call."""
    return ctx.cloudstack.list("listPublicIpAddresses", "publicipaddress", listall=True)


def address_items(ctx, addresses):
    """Render addresses as DescribeAddresses items, with every field the filters need."""
    instance_ids = ids.to_ec2(ctx, ids.INSTANCE, [a.get("virtualmachineid") for a in addresses])
    allocation_ids = ids.to_ec2(ctx, ALLOCATION, [a["id"] for a in addresses])
    association_ids = ids.to_ec2(ctx, ASSOCIATION, [a["id"] for a in addresses
                                                    if a.get("isstaticnat")])
    return [{
        "publicIp": a["ipaddress"],
        "instanceId": instance_ids.get(a.get("virtualmachineid")),
        "allocationId": allocation_ids[a["id"]],
        "associationId": association_ids.get(a["id"]),
        "domain": DOMAIN,
        "privateIpAddress": a.get("vmipaddress") if a.get("virtualmachineid") else None,
    } for a in addresses]


def versioned(ctx, item):
    """Keep the elements of the request's version, in its schema's order."""
    shown = {"publicIp": item["publicIp"], "instanceId": item["instanceId"]}
    if not ctx.uses_base_version:
        shown.update({"allocationId": item["allocationId"],
                      "associationId": item["associationId"], "domain": item["domain"],
                      "privateIpAddress": item["privateIpAddress"]})
    return shown


def address_not_found(public_ip, address=None):
    if address is not None and not is_elastic(address):
        return errors.InvalidAddressNotFound(
            "The address '%s' is not an elastic IP address: CloudStack uses it for the "
            "source NAT of its network." % public_ip)
    return errors.InvalidAddressNotFound("Address '%s' not found." % public_ip)


def requested_address(ctx, addresses):
    """Return the elastic IP named by PublicIp or AllocationId, raising NotFound.

    `addresses` is the caller's listing, so an address of another account
    is not found either.
    """
    public_ip = ctx.params.get("PublicIp")
    allocation_id = ctx.params.get("AllocationId")
    if public_ip and allocation_id:
        raise errors.InvalidParameterCombination(
            "Give either PublicIp or AllocationId, not both.")
    if allocation_id:
        address_id = ids.resolve_one(ctx, ALLOCATION, allocation_id,
                                     errors.InvalidAllocationIDNotFound)
        for address in addresses:
            if address["id"] == address_id and is_elastic(address):
                return address
        raise errors.InvalidAllocationIDNotFound(
            "The allocation ID '%s' does not exist" % allocation_id)
    if not public_ip:
        raise errors.MissingParameter("The request must contain the parameter PublicIp "
                                      "(or AllocationId, or for DisassociateAddress "
                                      "AssociationId)")
    for address in addresses:
        if address["ipaddress"] == public_ip:
            if not is_elastic(address):
                raise address_not_found(public_ip, address)
            return address
    raise address_not_found(public_ip)


def run_jobs(ctx, command, params_list):
    """Start one job per parameter set, wait for all; raise the first failure."""
    jobs = {}
    for params in params_list:
        jobs[ctx.cloudstack.submit(command, **params)["jobid"]] = params
    outcomes = ctx.cloudstack.wait_for_jobs({job: command for job in jobs}) if jobs else {}
    failures = [o for o in outcomes.values() if isinstance(o, Exception)]
    if failures:
        raise failures[0]


# AllocateAddress

def elastic_ip_networks(ctx, zones):
    """Return {zone id: networks with the StaticNat service} for Basic zones."""
    basic_ids = {z["id"] for z in zones if is_basic(z)}
    if not basic_ids:
        return {}
    found = {}
    for network in ctx.cloudstack.list("listNetworks", "network"):
        services = {s.get("name") for s in network.get("service") or []}
        if network.get("zoneid") in basic_ids and "StaticNat" in services:
            found.setdefault(network["zoneid"], []).append(network)
    return found


def allocation_target(ctx):
    """Return the associateIpAddress parameters for a new elastic IP.

    An Advanced zone where the caller already has an isolated network is
    preferred, then the first Advanced zone, then a Basic zone with the
    elastic IP service.
    """
    zones = list_zones(ctx)
    advanced = [z for z in zones if not is_basic(z)]
    if advanced:
        # Without listall, so that an administrator gets a network of their own.
        networks = ctx.cloudstack.list("listNetworks", "network", type="Isolated")
        for zone in advanced:
            for network in networks:
                if network.get("zoneid") == zone["id"]:
                    return {"networkid": network["id"]}
        return {"networkid": find_network(ctx, advanced[0])}
    elastic = elastic_ip_networks(ctx, zones)
    for zone in zones:
        if zone["id"] in elastic:
            return {"zoneid": zone["id"]}
    raise errors.UnsupportedOperation(
        "Elastic IP addresses are not available: the zones %s are Basic zones without the "
        "elastic IP service. Allocate addresses in an Advanced zone."
        % ", ".join(z["name"] for z in zones))


@action("AllocateAddress")
def allocate_address(ctx):
    target = allocation_target(ctx)
    try:
        result = ctx.cloudstack.run_job("associateIpAddress", **target)
    except errors.ClientError as exc:
        if exc.code == "ResourceLimitExceeded":
            raise errors.ClientError("You have reached the maximum number of elastic IP "
                                     "addresses: %s" % exc.message, code="AddressLimitExceeded")
        raise
    address = result.get("ipaddress") or {}
    if not address.get("ipaddress"):
        raise errors.InternalError("CloudStack associateIpAddress returned no address")
    LOG.info("elastic IP %s allocated (CloudStack address %s)",
             address["ipaddress"], address.get("id"))
    response = {"publicIp": address["ipaddress"]}
    if not ctx.uses_base_version:
        response["domain"] = DOMAIN
        response["allocationId"] = ids.to_ec2(ctx, ALLOCATION, [address["id"]])[address["id"]]
    return response


# AssociateAddress and DisassociateAddress

def check_same_network(address, vm, instance_id):
    networks = {nic.get("networkid") for nic in vm.get("nic") or []}
    network_id = address.get("associatednetworkid")
    if network_id and network_id not in networks:
        raise errors.InvalidParameterValue(
            "The instance %s (zone %s) is not in the network of the address %s (zone %s): "
            "an elastic IP address can be associated only with an instance in its own "
            "network." % (instance_id, vm.get("zonename", ""), address["ipaddress"],
                          address.get("zonename", "")))


@action("AssociateAddress")
def associate_address(ctx):
    instance_id = ctx.params.require("InstanceId")
    addresses = list_public_addresses(ctx)
    address = requested_address(ctx, addresses)
    vm = find_vms(ctx, [instance_id])[0][1]
    check_same_network(address, vm, instance_id)
    if address.get("isstaticnat") and address.get("virtualmachineid") == vm["id"]:
        return association_response(ctx, address)

    # As in EC2, the address leaves the instance it was on, and the
    # instance gives up the elastic IP it had.
    moved = [a for a in addresses if a.get("isstaticnat") and (
        a["id"] == address["id"] or a.get("virtualmachineid") == vm["id"])]
    run_jobs(ctx, "disableStaticNat", [{"ipaddressid": a["id"]} for a in moved])
    try:
        ctx.cloudstack.request("enableStaticNat", ipaddressid=address["id"],
                               virtualmachineid=vm["id"])
    except errors.EC2Error:
        restore_static_nat(ctx, moved)
        raise
    LOG.info("elastic IP %s associated with VM %s", address["ipaddress"], vm["id"])
    return association_response(ctx, address)


def association_response(ctx, address):
    if ctx.uses_base_version:
        return {"return": True}
    # One association id per address: it names the address's current association.
    return {"return": True,
            "associationId": ids.to_ec2(ctx, ASSOCIATION, [address["id"]])[address["id"]]}


def restore_static_nat(ctx, addresses):
    """Put back static NAT that a failed AssociateAddress ended, logging what fails."""
    for address in addresses:
        try:
            ctx.cloudstack.request("enableStaticNat", ipaddressid=address["id"],
                                   virtualmachineid=address["virtualmachineid"])
        except errors.EC2Error as exc:
            LOG.error("could not restore static NAT of address %s to VM %s: %s",
                      address["ipaddress"], address["virtualmachineid"], exc)


def associated_address(ctx, addresses, association_id):
    address_id = ids.resolve_one(ctx, ASSOCIATION, association_id,
                                 errors.InvalidAssociationIDNotFound)
    for address in addresses:
        if address["id"] == address_id and address.get("isstaticnat"):
            return address
    raise errors.InvalidAssociationIDNotFound(
        "The association ID '%s' does not exist" % association_id)


@action("DisassociateAddress")
def disassociate_address(ctx):
    addresses = list_public_addresses(ctx)
    association_id = ctx.params.get("AssociationId")
    if association_id:
        address = associated_address(ctx, addresses, association_id)
    else:
        address = requested_address(ctx, addresses)
    if not address.get("isstaticnat"):
        # The address already has no instance, and EC2 returns true here too.
        return {"return": True}
    ctx.cloudstack.run_job("disableStaticNat", ipaddressid=address["id"])
    LOG.info("elastic IP %s disassociated from VM %s", address["ipaddress"],
             address.get("virtualmachineid"))
    return {"return": True}


# ReleaseAddress and DescribeAddresses

@action("ReleaseAddress")
def release_address(ctx):
    address = requested_address(ctx, list_public_addresses(ctx))
    ctx.cloudstack.run_job("disassociateIpAddress", id=address["id"])
    LOG.info("elastic IP %s released", address["ipaddress"])
    return {"return": True}


@action("DescribeAddresses")
def describe_addresses(ctx):
    public_ips = ctx.params.strings("PublicIp")
    allocation_ids = ctx.params.strings("AllocationId")
    filters = ctx.params.filters()
    validate_filters(filters, ADDRESS_FILTERS, "DescribeAddresses")
    requested_allocations = ids.resolve(ctx, ALLOCATION, allocation_ids,
                                        errors.InvalidAllocationIDNotFound)

    addresses = [a for a in list_public_addresses(ctx) if is_elastic(a)]
    if public_ips:
        by_ip = {a["ipaddress"]: a for a in addresses}
        missing = [ip for ip in dict.fromkeys(public_ips) if ip not in by_ip]
        if missing:
            raise address_not_found(", ".join(missing))
        addresses = [by_ip[ip] for ip in dict.fromkeys(public_ips)]
    if requested_allocations:
        by_id = {a["id"]: a for a in addresses}
        missing = [given for given, cs_id in requested_allocations.items()
                   if cs_id not in by_id]
        if missing:
            raise errors.InvalidAllocationIDNotFound(
                "The allocation ID '%s' does not exist" % ", ".join(missing))
        addresses = [by_id[cs_id] for cs_id in requested_allocations.values()]

    items = apply_filters(address_items(ctx, addresses), filters, ADDRESS_FILTERS,
                          "DescribeAddresses")
    return {"addressesSet": [versioned(ctx, item) for item in items]}
