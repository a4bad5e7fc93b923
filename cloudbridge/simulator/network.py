"""Networks, network offerings, public IP addresses and static NAT."""

from collections import OrderedDict

from cloudbridge.simulator import errors
from cloudbridge.simulator.accounts import check_limit
from cloudbridge.simulator.api import (AsyncResult, ListResult, ObjectResult, SuccessResult,
                                       command, fmt_date, now_ts)
from cloudbridge.simulator.jobs import job_kind
from cloudbridge.simulator.seed import ISOLATED_GUEST, sid
from cloudbridge.simulator.state import new_id
from cloudbridge.simulator.tags import tag_filter
from cloudbridge.simulator.views import ip_view, network_offering_view, network_view

PKG = "org.apache.cloudstack.api.command.user."


# ---------------------------------------------------------------------------
# helpers used by the VM commands


def _prefix(gateway):
    return gateway.rsplit(".", 1)[0] + "."


def alloc_guest_ip(net, wanted=None):
    """A free address on a guest network (``wanted`` if given and free)."""
    used = set(net.setdefault("used", []))
    prefix = _prefix(net["gateway"])
    if wanted:
        if wanted in used or not wanted.startswith(prefix):
            raise errors.invalid("Unable to allocate ip address %s in network %s"
                                 % (wanted, net["name"]))
        net["used"].append(wanted)
        return wanted
    for n in range(net["ipfirst"], net["iplast"] + 1):
        addr = "%s%d" % (prefix, n)
        if addr not in used:
            net["used"].append(addr)
            return addr
    raise errors.capacity("Insufficient address capacity in network %s" % net["name"])


def release_guest_ip(net, addr):
    if net and addr in net.get("used", []):
        net["used"].remove(addr)


def new_mac(model):
    n = model.next_seq("mac")
    return "06:%02x:%02x:00:%02x:%02x" % ((n >> 24) & 0xff, (n >> 16) & 0xff,
                                          (n >> 8) & 0xff, n & 0xff)


def isolated_offering(model):
    for off in model.network_offerings.values():
        if off["guestiptype"] == "Isolated" and off["availability"] == "Required":
            return off
    return None


def account_networks(model, acct, zoneid):
    return [n for n in model.networks.values()
            if n.get("accountid") == acct["id"] and n["zoneid"] == zoneid
            and n["type"] == "Isolated"]


def create_isolated_network(ctx, acct, zone, name, displaytext, offering):
    check_limit(ctx, acct, 6)
    model = ctx.model
    nid = new_id()
    net = OrderedDict(
        id=nid, name=name, displaytext=displaytext, zoneid=zone["id"],
        networkofferingid=offering["id"], accountid=acct["id"], domainid=acct["domainid"],
        type="Isolated", acltype="Account", state="Allocated",
        gateway=ISOLATED_GUEST["gateway"], netmask=ISOLATED_GUEST["netmask"],
        cidr=ISOLATED_GUEST["cidr"], broadcastdomaintype="Vlan", traffictype="Guest",
        networkdomain="cs%dcloud.internal" % model.next_seq("networkdomain"), issystem=False,
        isdefault=False, specifyipranges=False,
        physicalnetworkid=sid("physicalnetwork", zone["name"]), ipfirst=ISOLATED_GUEST["first"],
        iplast=ISOLATED_GUEST["last"], used=[], created=fmt_date(now_ts()))
    model.networks[nid] = net
    model.touch()
    return net


def public_vlan(model, zoneid):
    for vlan in model.vlans.values():
        if vlan["zoneid"] == zoneid:
            return vlan
    return None


def alloc_public_ip(ctx, acct, zoneid, network, sourcenat=False, state="Allocated"):
    model = ctx.model
    vlan = public_vlan(model, zoneid)
    if vlan is None:
        raise errors.capacity("Insufficient address capacity")
    used = {ip["ipaddress"] for ip in model.ips.values()}
    addr = None
    for n in range(vlan["first"], vlan["last"] + 1):
        cand = "%s%d" % (vlan["prefix"], n)
        if cand not in used:
            addr = cand
            break
    if addr is None:
        raise errors.capacity("Insufficient address capacity")
    ip = OrderedDict(
        id=new_id(), ipaddress=addr, zoneid=zoneid, vlanid=vlan["id"], accountid=acct["id"],
        domainid=acct["domainid"], allocated=fmt_date(now_ts()), issourcenat=sourcenat,
        isstaticnat=False, virtualmachineid=None, associatednetworkid=network["id"],
        networkid=vlan["networkid"], physicalnetworkid=vlan["physicalnetworkid"], state=state,
        purpose=None)
    model.ips[ip["id"]] = ip
    model.touch()
    return ip


def implement_network(ctx, net):
    """Allocated -> Implemented, with a source NAT address for isolated
    networks (what the first VM start or IP association does)."""
    if net["state"] != "Allocated":
        return
    net["state"] = "Implemented"
    vlan = 100 + ctx.model.next_seq("guestvlan")
    net["vlan"] = str(vlan)
    net["broadcasturi"] = "vlan://%d" % vlan
    acct = ctx.model.accounts[net["accountid"]]
    alloc_public_ip(ctx, acct, net["zoneid"], net, sourcenat=True)
    ctx.model.touch()


def release_static_nat(model, ip):
    vm = model.vms.get(ip.get("virtualmachineid"))
    if vm is not None and vm.get("publicipid") == ip["id"]:
        vm["publicipid"] = None
    ip["isstaticnat"] = False
    ip["virtualmachineid"] = None
    ip["purpose"] = None
    model.touch()


# ---------------------------------------------------------------------------
# networks


@command("listNetworkOfferings", dict(
    availability="str", displaytext="str", forvpc="bool", guestiptype="str",
    id="uuid:network_offerings", isdefault="bool", istagged="bool", name="str",
    networkid="uuid:networks", sourcenatsupported="bool", specifyipranges="bool",
    specifyvlan="bool", state="str", supportedservices="list", tags="str", traffictype="str",
    zoneid="uuid:zones", keyword="str", page="int", pagesize="int"))
def list_network_offerings(ctx, p):
    model = ctx.model
    items = []
    zone = model.zones.get(p.get("zoneid"))
    for off in sorted(model.network_offerings.values(), key=lambda o: o["name"]):
        if p.get("id") and off["id"] != p["id"]:
            continue
        if p.get("name") and off["name"] != p["name"]:
            continue
        if p.get("guestiptype") and off["guestiptype"].lower() != p["guestiptype"].lower():
            continue
        if p.get("availability") and off["availability"].lower() != p["availability"].lower():
            continue
        if p.get("state") and off["state"].lower() != p["state"].lower():
            continue
        if p.get("traffictype") and off["traffictype"].lower() != p["traffictype"].lower():
            continue
        if p.get("isdefault") is not None and off["isdefault"] != p["isdefault"]:
            continue
        if p.get("forvpc") is not None and off["forvpc"] != p["forvpc"]:
            continue
        if p.get("sourcenatsupported") is not None and \
                ("SourceNat" in off["services"]) != p["sourcenatsupported"]:
            continue
        if p.get("supportedservices"):
            have = {s.lower() for s in off["services"]}
            if not all(s.lower() in have for s in p["supportedservices"]):
                continue
        if zone is not None:
            basic = zone["networktype"] == "Basic"
            if basic != (off["guestiptype"] == "Shared"):
                continue
        items.append(network_offering_view(model, off))
    return ctx.page("networkoffering", items, p)


def _network_visible(ctx, net, scope_pred, p):
    if net.get("accountid") is None:  # shared, domain-wide
        return not p.get("account")
    return scope_pred(net)


@command("listNetworks", dict(
    acltype="str", canusefordeploy="bool", forvpc="bool", id="uuid:networks", issystem="bool",
    physicalnetworkid="str", restartrequired="bool", specifyipranges="bool",
    supportedservices="list", tags="map", traffictype="str", type="str", vpcid="str",
    zoneid="uuid:zones", isdefault="bool"), listing=True)
def list_networks(ctx, p):
    model = ctx.model
    pred = ctx.scope(p)
    match_tags = tag_filter(model, "Network", p.get("tags"))
    items = []
    for net in sorted(model.networks.values(), key=lambda n: n["created"]):
        if not _network_visible(ctx, net, pred, p):
            continue
        if p.get("id") and net["id"] != p["id"]:
            continue
        if p.get("zoneid") and net["zoneid"] != p["zoneid"]:
            continue
        if p.get("type") and net["type"].lower() != p["type"].lower():
            continue
        if p.get("acltype") and net["acltype"].lower() != p["acltype"].lower():
            continue
        if p.get("traffictype") and net["traffictype"].lower() != p["traffictype"].lower():
            continue
        if p.get("issystem") is not None and net["issystem"] != p["issystem"]:
            continue
        if p.get("forvpc"):
            continue
        if p.get("isdefault") is not None and net.get("isdefault", False) != p["isdefault"]:
            continue
        if p.get("supportedservices"):
            off = model.network_offerings[net["networkofferingid"]]
            have = {s.lower() for s in off["services"]}
            if not all(s.lower() in have for s in p["supportedservices"]):
                continue
        if not match_tags(net["id"]):
            continue
        items.append(network_view(model, net))
    return ctx.page("network", items, p)


@command("createNetwork", dict(
    name="str!", displaytext="str!", networkofferingid="uuid:network_offerings!",
    zoneid="uuid:zones!", account="str", domainid="uuid:domains", projectid="uuid:projects",
    gateway="str", netmask="str", startip="str", endip="str", vlan="str",
    networkdomain="str", acltype="str", physicalnetworkid="str", subdomainaccess="bool",
    vpcid="str", aclid="str", displaynetwork="bool", isolatedpvlan="str", startipv6="str",
    endipv6="str", ip6cidr="str", ip6gateway="str"))
def create_network(ctx, p):
    model = ctx.model
    acct = ctx.owner(p)
    zone = model.zones[p["zoneid"]]
    off = model.network_offerings[p["networkofferingid"]]
    if off["state"] != "Enabled":
        raise errors.invalid("Can't use network offering id=%s as its state is not enabled"
                             % off["id"])
    if off["guestiptype"] == "Shared":
        if not ctx.is_admin:
            raise errors.denied("Only Admins can create network with guest type Shared")
        raise errors.invalid("Creating shared networks is not supported by this simulator")
    if zone["networktype"] == "Basic":
        raise errors.invalid("Network creation is not allowed in zone of type Basic; only "
                             "Shared networks with SecurityGroup service can be used")
    net = create_isolated_network(ctx, acct, zone, p["name"], p["displaytext"], off)
    if p.get("networkdomain"):
        net["networkdomain"] = p["networkdomain"]
    return ObjectResult("network", network_view(model, net))


# ---------------------------------------------------------------------------
# public IP addresses


@command("listPublicIpAddresses", dict(
    allocatedonly="bool", associatednetworkid="uuid:networks", forloadbalancing="bool",
    forvirtualnetwork="bool", id="uuid:ips", ipaddress="str", issourcenat="bool",
    isstaticnat="bool", physicalnetworkid="str", tags="map", vlanid="uuid:vlans",
    vpcid="str", zoneid="uuid:zones"), listing=True)
def list_public_ip_addresses(ctx, p):
    model = ctx.model
    pred = ctx.scope(p)
    match_tags = tag_filter(model, "PublicIpAddress", p.get("tags"))
    items = []
    for ip in sorted(model.ips.values(), key=lambda i: tuple(int(x) for x in
                                                            i["ipaddress"].split("."))):
        if not pred(ip):
            continue
        for key in ("id", "ipaddress", "zoneid", "associatednetworkid", "vlanid"):
            if p.get(key) and ip.get(key) != p[key]:
                break
        else:
            if p.get("issourcenat") is not None and ip["issourcenat"] != p["issourcenat"]:
                continue
            if p.get("isstaticnat") is not None and ip["isstaticnat"] != p["isstaticnat"]:
                continue
            if p.get("forvirtualnetwork") is False:
                continue
            if not match_tags(ip["id"]):
                continue
            items.append(ip_view(model, ip, ctx))
    return ctx.page("publicipaddress", items, p)


@command("associateIpAddress", dict(
    account="str", domainid="uuid:domains", isportable="bool", networkid="uuid:networks",
    projectid="uuid:projects", regionid="int", vpcid="str", zoneid="uuid:zones"),
    is_async=True)
def associate_ip_address(ctx, p):
    model = ctx.model
    acct = ctx.owner(p)
    if p.get("networkid"):
        net = model.networks[p["networkid"]]
        if net.get("accountid") is None:
            raise errors.invalid("Can't associate ip address to the shared network %s; only "
                                 "isolated networks with source nat are supported" % net["name"])
        ctx.check_access(net, "Ntwk[%s|Guest|%s]" % (net["id"], net["networkofferingid"]))
        zone = model.zones[net["zoneid"]]
    elif p.get("zoneid"):
        zone = model.zones[p["zoneid"]]
        if zone["networktype"] == "Basic":
            raise errors.invalid("Can't associate ip address in zone id=%s of type Basic: "
                                 "elastic IP service is not enabled" % zone["id"])
        nets = account_networks(model, acct, zone["id"])
        if not nets:
            raise errors.invalid("Account name=%s domain=%s doesn't have virtual networks in "
                                 "zone=%s" % (p.get("account"),
                                              model.domains[acct["domainid"]]["name"],
                                              zone["name"]))
        if len(nets) > 1:
            raise errors.invalid("Account has more than one Isolated network in the zone")
        net = nets[0]
    else:
        raise errors.invalid("Either networkId or zoneId has to be specified")
    check_limit(ctx, acct, 1)
    implement_network(ctx, net)
    ip = alloc_public_ip(ctx, acct, zone["id"], net, state="Allocating")
    jobid = ctx.submit("associateIpAddress", "IpAddress", ip["id"], {"id": ip["id"]})
    return AsyncResult(jobid, ip["id"])


@job_kind("associateIpAddress", PKG + "address.AssociateIPAddrCmd")
def _finish_associate(ctx, job):
    ip = ctx.model.ips.get(job["args"]["id"])
    if ip is None:
        raise errors.internal("Unable to find ip address by id %s" % job["args"]["id"])
    # 4.x answers with the address as it was while the job ran ("Allocating").
    view = ip_view(ctx.model, ip, ctx)
    ip["state"] = "Allocated"
    ctx.model.touch()
    return {"ipaddress": view}


def _ip_for_user(ctx, ipid):
    ip = ctx.model.ips[ipid]
    ctx.check_access(ip, "IPAddress[%s-%s]" % (ip["id"], ip["ipaddress"]))
    return ip


@command("disassociateIpAddress", dict(id="uuid:ips!"), is_async=True)
def disassociate_ip_address(ctx, p):
    ip = _ip_for_user(ctx, p["id"])
    jobid = ctx.submit("disassociateIpAddress", "IpAddress", ip["id"], {"id": ip["id"]})
    return AsyncResult(jobid)


def _begin_disassociate(ctx, job):
    ip = ctx.model.ips.get(job["args"]["id"])
    if ip is None:
        raise errors.invalid("Unable to find ip address by id %s" % job["args"]["id"])
    if ip["issourcenat"]:
        raise errors.invalid("ip address is used for source nat purposes and can not be "
                             "disassociated.")
    ip["state"] = "Releasing"
    ctx.model.touch()


@job_kind("disassociateIpAddress", PKG + "address.DisassociateIPAddrCmd",
          begin=_begin_disassociate)
def _finish_disassociate(ctx, job):
    model = ctx.model
    ip = model.ips.get(job["args"]["id"])
    if ip is not None:
        if ip["isstaticnat"]:
            release_static_nat(model, ip)
        del model.ips[ip["id"]]
        for tid in [t for t, tag in model.tags.items() if tag["resourceid"] == ip["id"]]:
            del model.tags[tid]
        model.touch()
    return {"success": True}


@command("enableStaticNat", dict(ipaddressid="uuid:ips!", virtualmachineid="uuid:vms!",
                                 networkid="uuid:networks", vmguestip="str"))
def enable_static_nat(ctx, p):
    model = ctx.model
    ip = _ip_for_user(ctx, p["ipaddressid"])
    vm = model.vms[p["virtualmachineid"]]
    ctx.check_access(vm, "VM[User|%s]" % vm["instancename"])
    if ip["issourcenat"]:
        raise errors.invalid("Can't enable static nat on the source nat ip address id=%s"
                             % ip["id"])
    if ip["state"] != "Allocated":
        raise errors.invalid("Ip address id=%s is not in Allocated state" % ip["id"])
    if vm["state"] in ("Destroyed", "Expunging", "Error"):
        raise errors.invalid("Can't enable static nat for the vm %s as it's in state %s"
                             % (vm["id"], vm["state"]))
    if ip["accountid"] != vm["accountid"]:
        raise errors.denied("ip address and vm belong to different accounts")
    if not any(n["networkid"] == ip["associatednetworkid"] for n in vm.get("nics", [])):
        raise errors.invalid("Invalid network id=%s; vm id=%s has no nic in the network the "
                             "ip address is associated with" % (ip["associatednetworkid"],
                                                                vm["id"]))
    if ip["isstaticnat"] and ip["virtualmachineid"] != vm["id"]:
        raise errors.conflict("Failed to enable static nat for the ip address id=%s as it's "
                              "already assigned to antoher vm" % ip["id"])
    if vm.get("publicipid") and vm["publicipid"] != ip["id"]:
        raise errors.conflict("Failed to enable static nat for the ip address id=%s as vm "
                              "id=%s is already associated with ip id=%s"
                              % (ip["id"], vm["id"], vm["publicipid"]))
    ip["isstaticnat"] = True
    ip["virtualmachineid"] = vm["id"]
    ip["purpose"] = "StaticNat"
    vm["publicipid"] = ip["id"]
    model.touch()
    return SuccessResult()


@command("disableStaticNat", dict(ipaddressid="uuid:ips!"), is_async=True)
def disable_static_nat(ctx, p):
    ip = _ip_for_user(ctx, p["ipaddressid"])
    if not ip["isstaticnat"]:
        raise errors.invalid("Specified IP address id is not associated with any vm Id")
    jobid = ctx.submit("disableStaticNat", "IpAddress", ip["id"], {"id": ip["id"]})
    return AsyncResult(jobid)


@job_kind("disableStaticNat", PKG + "nat.DisableStaticNatCmd")
def _finish_disable_static_nat(ctx, job):
    ip = ctx.model.ips.get(job["args"]["id"])
    if ip is not None and ip["isstaticnat"]:
        release_static_nat(ctx.model, ip)
    return {"success": True}


# Port forwarding and 1:1 NAT rules are not simulated; clients such as
# libcloud list them with every listing of nodes.

@command("listPortForwardingRules", dict(id="str", ipaddressid="uuid:ips", networkid="str"),
         listing=True)
def list_port_forwarding_rules(ctx, p):
    return ListResult("portforwardingrule", [])


@command("listIpForwardingRules", dict(id="str", ipaddressid="uuid:ips",
                                       virtualmachineid="uuid:vms"), listing=True)
def list_ip_forwarding_rules(ctx, p):
    return ListResult("ipforwardingrule", [])
