"""Seed data: the same cloud, with the same ids, on every start.

Ids are uuid5 of a fixed namespace and a name, so a zone, template or
offering keeps its id across restarts (with or without ``--state``).

* ``zone1``: Basic zone, security groups enabled, one shared guest network
  (direct addresses in 203.0.113.0/24).
* ``zone2``: Advanced zone; each account gets an isolated network behind a
  virtual router (source NAT) on first deploy or with createNetwork; public
  addresses come from 198.51.100.0/24.
* Two hosts per zone (16 x 2400 MHz, 64 GB each): "Huge Instance" fits on
  none, so deploying it fails inside its job with 533.
"""

import uuid
from collections import OrderedDict

from cloudbridge.simulator.api import fmt_date

NAMESPACE = uuid.UUID("6f1c1a8e-3b0f-5d4e-9a43-2a3c4c1b5e10")
SEED_TIME = 1385856000  # 2013-12-01T00:00:00Z: "created" of seed entities
SEED_DATE = fmt_date(SEED_TIME)

ROOT_DOMAIN = "ROOT"
SYSTEM_ACCOUNT = "system"

HOST_CPUS = 16
HOST_CPU_SPEED = 2400
HOST_MEMORY = 65536


def sid(kind, name):
    return str(uuid.uuid5(NAMESPACE, "%s:%s" % (kind, name)))


def zone_id(name):
    return sid("zone", name)


OS_CATEGORIES = ["CentOS", "Debian", "Ubuntu", "Windows", "Other"]
OS_TYPES = [
    ("CentOS", "CentOS 5.5 (32-bit)"),
    ("CentOS", "CentOS 5.5 (64-bit)"),
    ("CentOS", "CentOS 6.4 (64-bit)"),
    ("Debian", "Debian GNU/Linux 7(64-bit)"),
    ("Ubuntu", "Ubuntu 12.04 (32-bit)"),
    ("Ubuntu", "Ubuntu 12.04 (64-bit)"),
    ("Windows", "Windows Server 2008 R2 (64-bit)"),
    ("Other", "Other (64-bit)"),
    ("Other", "Other PV (64-bit)"),
]

SERVICE_OFFERINGS = [
    # name, displaytext, cpus, MHz, MB
    ("Small Instance", "Small Instance", 1, 500, 512),
    ("Medium Instance", "Medium Instance", 1, 1000, 1024),
    ("Large Instance", "Large Instance", 2, 2000, 4096),
    ("Extra Large Instance", "Extra Large Instance", 4, 2000, 8192),
    ("Huge Instance", "Huge Instance (larger than any host)", 64, 2400, 524288),
]

DISK_OFFERINGS = [
    # name, displaytext, GB, customized
    ("Small", "Small Disk, 5 GB", 5, False),
    ("Medium", "Medium Disk, 20 GB", 20, False),
    ("Large", "Large Disk, 100 GB", 100, False),
    ("Custom", "Custom Disk", 0, True),
]

TEMPLATES = [
    # name, displaytext, ostype, passwordenabled, featured, public, type, GB, zones, format
    ("CentOS 5.5(64-bit) no GUI (XenServer)", "CentOS 5.5(64-bit) no GUI (XenServer)",
     "CentOS 5.5 (64-bit)", False, True, True, "BUILTIN", 2, ["zone1", "zone2"], "VHD"),
    ("Ubuntu 12.04 i386 (password enabled)", "Ubuntu 12.04 i386 with the password reset script",
     "Ubuntu 12.04 (32-bit)", True, True, True, "USER", 1, ["zone1", "zone2"], "VHD"),
    ("Debian 7 x86_64 (community)", "Debian 7 x86_64, community template",
     "Debian GNU/Linux 7(64-bit)", False, False, True, "USER", 2, ["zone1"], "VHD"),
]

ISOS = [
    ("CentOS 6.4 x86_64 netinstall", "CentOS 6.4 x86_64 netinstall ISO", "CentOS 6.4 (64-bit)",
     True, True, ["zone1", "zone2"]),
]

SG_SERVICES = ["SecurityGroup", "Dhcp", "Dns", "UserData"]
ISOLATED_SERVICES = ["Vpn", "Dhcp", "Dns", "Firewall", "Lb", "UserData", "SourceNat",
                     "StaticNat", "PortForwarding"]

BASIC_GUEST = {"gateway": "203.0.113.1", "netmask": "255.255.255.0", "cidr": "203.0.113.0/24",
               "first": 10, "last": 250}
ADVANCED_PUBLIC = {"gateway": "198.51.100.1", "netmask": "255.255.255.0", "first": 10,
                   "last": 250, "prefix": "198.51.100."}
ISOLATED_GUEST = {"gateway": "10.1.1.1", "netmask": "255.255.255.0", "cidr": "10.1.1.0/24",
                  "first": 2, "last": 254}


def _od(**kw):
    return OrderedDict(kw)


def seed(model):
    """Fill an empty model with the fixed infrastructure."""
    root = sid("domain", ROOT_DOMAIN)
    model.root_domain_id = root
    model.domains[root] = _od(id=root, name=ROOT_DOMAIN, level=0, haschild=False, path="ROOT")

    system = ensure_account(model, SYSTEM_ACCOUNT, None, None, True)

    for cat in OS_CATEGORIES:
        cid = sid("oscategory", cat)
        model.oscategories[cid] = _od(id=cid, name=cat)
    for cat, desc in OS_TYPES:
        oid = sid("ostype", desc)
        model.ostypes[oid] = _od(id=oid, oscategoryid=sid("oscategory", cat), description=desc)

    # zones, pods, hosts
    z1, z2 = zone_id("zone1"), zone_id("zone2")
    model.zones[z1] = _od(
        id=z1, name="zone1", description="Basic zone with security groups",
        dns1="192.0.2.53", dns2="192.0.2.54", internaldns1="192.0.2.53",
        internaldns2="192.0.2.54", networktype="Basic", securitygroupsenabled=True,
        allocationstate="Enabled", zonetoken=sid("zonetoken", "zone1"),
        dhcpprovider="VirtualRouter", localstorageenabled=False)
    model.zones[z2] = _od(
        id=z2, name="zone2", description="Advanced zone with isolated networks",
        dns1="192.0.2.53", dns2="192.0.2.54", internaldns1="192.0.2.53",
        internaldns2="192.0.2.54", guestcidraddress=ISOLATED_GUEST["cidr"],
        networktype="Advanced", securitygroupsenabled=False, allocationstate="Enabled",
        zonetoken=sid("zonetoken", "zone2"), dhcpprovider="VirtualRouter",
        localstorageenabled=False)
    for zname, zid in (("zone1", z1), ("zone2", z2)):
        pid = sid("pod", zname)
        model.pods[pid] = _od(id=pid, name="%s-pod1" % zname, zoneid=zid)
        for n in (1, 2):
            hname = "SimulatedAgent.%s-host%d" % (zname, n)
            hid = sid("host", hname)
            model.hosts[hid] = _od(id=hid, name=hname, zoneid=zid, podid=pid,
                                   cpunumber=HOST_CPUS, cpuspeed=HOST_CPU_SPEED,
                                   memory=HOST_MEMORY)

    for name, text, cpus, mhz, mb in SERVICE_OFFERINGS:
        oid = sid("serviceoffering", name)
        model.service_offerings[oid] = _od(
            id=oid, name=name, displaytext=text, cpunumber=cpus, cpuspeed=mhz, memory=mb,
            created=SEED_DATE, storagetype="shared", offerha=False, limitcpuuse=False,
            isvolatile=False, issystem=False, defaultuse=False)

    for name, text, size, custom in DISK_OFFERINGS:
        oid = sid("diskoffering", name)
        model.disk_offerings[oid] = _od(
            id=oid, name=name, displaytext=text, disksize=size, created=SEED_DATE,
            iscustomized=custom, storagetype="shared", displayoffering=True)

    for seq, (name, text, ostype, pwd, featured, public, ttype, gb, zones, fmt) in \
            enumerate(TEMPLATES, 1):
        tid = sid("template", name)
        model.templates[tid] = _od(
            id=tid, name=name, displaytext=text, ispublic=public, isfeatured=featured,
            isready=True, passwordenabled=pwd, format=fmt, bootable=True,
            ostypeid=sid("ostype", ostype), accountid=system["id"], domainid=root,
            zones=[zone_id(z) for z in zones], size=gb * 1024 ** 3, templatetype=ttype,
            hypervisor="XenServer", isextractable=False, checksum="", created=SEED_DATE,
            crossZones=len(zones) > 1, sshkeyenabled=False, isdynamicallyscalable=False,
            status="Download Complete", permissions=[], templatetag=None,
            sourcetemplateid=None, removed=False, seq=seq)
    for seq, (name, text, ostype, featured, public, zones) in enumerate(ISOS, 101):
        tid = sid("iso", name)
        model.templates[tid] = _od(
            id=tid, name=name, displaytext=text, ispublic=public, isfeatured=featured,
            isready=True, passwordenabled=False, format="ISO", bootable=True,
            ostypeid=sid("ostype", ostype), accountid=system["id"], domainid=root,
            zones=[zone_id(z) for z in zones], size=358612992, templatetype="USER",
            hypervisor="None", isextractable=False, checksum="", created=SEED_DATE,
            crossZones=len(zones) > 1, sshkeyenabled=False, isdynamicallyscalable=False,
            status="Successfully Installed", permissions=[], templatetag=None,
            sourcetemplateid=None, removed=False, seq=seq)

    # network offerings
    sg_off = sid("networkoffering", "DefaultSharedNetworkOfferingWithSGService")
    model.network_offerings[sg_off] = _od(
        id=sg_off, name="DefaultSharedNetworkOfferingWithSGService",
        displaytext="Offering for Shared Security group enabled networks",
        traffictype="Guest", isdefault=True, specifyvlan=True, conservemode=True,
        specifyipranges=True, availability="Optional", networkrate=200, state="Enabled",
        guestiptype="Shared", services=SG_SERVICES, forvpc=False, ispersistent=False,
        egressdefaultpolicy=True, created=SEED_DATE, provider="VirtualRouter",
        serviceofferingid=sid("serviceoffering", "System Offering For Software Router"))
    iso_off = sid("networkoffering", "DefaultIsolatedNetworkOfferingWithSourceNatService")
    model.network_offerings[iso_off] = _od(
        id=iso_off, name="DefaultIsolatedNetworkOfferingWithSourceNatService",
        displaytext="Offering for Isolated networks with Source Nat service enabled",
        traffictype="Guest", isdefault=True, specifyvlan=False, conservemode=True,
        specifyipranges=False, availability="Required", networkrate=200, state="Enabled",
        guestiptype="Isolated", services=ISOLATED_SERVICES, forvpc=False, ispersistent=False,
        egressdefaultpolicy=False, created=SEED_DATE, provider="VirtualRouter",
        serviceofferingid=sid("serviceoffering", "System Offering For Software Router"))

    # the Basic zone's shared guest network
    nid = sid("network", "guestNetworkForBasicZone")
    model.networks[nid] = _od(
        id=nid, name="guestNetworkForBasicZone", displaytext="guestNetworkForBasicZone",
        zoneid=z1, networkofferingid=sg_off, accountid=None, domainid=root, type="Shared",
        acltype="Domain", state="Setup", gateway=BASIC_GUEST["gateway"],
        netmask=BASIC_GUEST["netmask"], cidr=BASIC_GUEST["cidr"], broadcastdomaintype="Native",
        traffictype="Guest", networkdomain="zone1.cloud.internal", issystem=False,
        isdefault=True, specifyipranges=True, physicalnetworkid=sid("physicalnetwork", "zone1"),
        canusefordeploy=True, restartrequired=False, ispersistent=False,
        subdomainaccess=True, broadcasturi="vlan://untagged", vlan="untagged",
        ipfirst=BASIC_GUEST["first"], iplast=BASIC_GUEST["last"], used=[],
        created=SEED_DATE)

    # the Advanced zone's public range
    vid = sid("vlan", "zone2-public")
    model.vlans[vid] = _od(
        id=vid, zoneid=z2, vlan="untagged", gateway=ADVANCED_PUBLIC["gateway"],
        netmask=ADVANCED_PUBLIC["netmask"], prefix=ADVANCED_PUBLIC["prefix"],
        first=ADVANCED_PUBLIC["first"], last=ADVANCED_PUBLIC["last"],
        networkid=sid("network", "zone2-public"),
        physicalnetworkid=sid("physicalnetwork", "zone2"), forvirtualnetwork=True)
    return model


def ensure_account(model, name, apikey, secretkey, admin):
    """Create (or update the keys of) an account with one user and its
    ``default`` security group. Returns the account."""
    root = model.root_domain_id
    aid = sid("account", name)
    acct = model.accounts.get(aid)
    if acct is None:
        acct = _od(id=aid, name=name, accounttype=1 if admin else 0, domainid=root,
                   state="enabled", networkdomain=None, created=SEED_DATE,
                   isdefault=name in (SYSTEM_ACCOUNT, "admin"))
        model.accounts[aid] = acct
        gid = sid("securitygroup", "%s/default" % name)
        model.security_groups[gid] = _od(
            id=gid, name="default", description="Default Security Group", accountid=aid,
            domainid=root, ingressrule=[], egressrule=[])
    else:
        acct["accounttype"] = 1 if admin else 0
    uid = sid("user", name)
    user = model.users.get(uid)
    if user is None:
        user = _od(id=uid, username=name, firstname=name, lastname="User",
                   email="%s@example.com" % name, created=SEED_DATE, state="enabled",
                   accountid=aid, timezone=None, apikey=apikey, secretkey=secretkey,
                   isdefault=acct["isdefault"])
        model.users[uid] = user
    elif apikey is not None:
        user["apikey"] = apikey
        user["secretkey"] = secretkey
    model.touch()
    return acct
