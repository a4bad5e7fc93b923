"""Response objects (the JSON the API returns) built from model entities.

Field names and order follow the 4.2 response classes; null fields are
left out, as CloudStack's serializer does.
"""

from collections import OrderedDict

from cloudbridge.simulator.api import fmt_date


def _clean(obj):
    return OrderedDict((k, v) for k, v in obj.items() if v is not None)


def _owner(model, obj, entity):
    acct = model.accounts.get(entity.get("accountid"))
    domain = model.domains.get(entity.get("domainid") or model.root_domain_id)
    if acct is not None:
        obj["account"] = acct["name"]
    obj["domainid"] = domain["id"] if domain else None
    obj["domain"] = domain["name"] if domain else None


def tag_list(model, resourcetype, resourceid):
    return [tag_view(model, t) for t in model.tags.values()
            if t["resourceid"] == resourceid and t["resourcetype"] == resourcetype]


def tag_view(model, tag):
    obj = OrderedDict()
    obj["key"] = tag["key"]
    obj["value"] = tag["value"]
    obj["resourcetype"] = tag["resourcetype"]
    obj["resourceid"] = tag["resourceid"]
    _owner(model, obj, tag)
    if tag.get("customer"):
        obj["customer"] = tag["customer"]
    return _clean(obj)


def zone_view(model, zone, showcapacities=False):
    obj = OrderedDict()
    for key in ("id", "name", "description", "dns1", "dns2", "internaldns1", "internaldns2",
                "guestcidraddress", "networktype", "securitygroupsenabled", "allocationstate",
                "zonetoken", "dhcpprovider", "localstorageenabled"):
        obj[key] = zone.get(key)
    if showcapacities:
        obj["capacity"] = zone_capacity(model, zone)
    return _clean(obj)


def zone_capacity(model, zone):
    hosts = [h for h in model.hosts.values() if h["zoneid"] == zone["id"]]
    mem_total = sum(h["memory"] for h in hosts) * 1024 * 1024
    cpu_total = sum(h["cpunumber"] * h["cpuspeed"] for h in hosts)
    mem_used = cpu_used = 0
    for vm in model.vms.values():
        if vm["zoneid"] == zone["id"] and vm["state"] in ("Starting", "Running", "Stopping"):
            off = model.service_offerings.get(vm["serviceofferingid"])
            if off:
                mem_used += off["memory"] * 1024 * 1024
                cpu_used += off["cpunumber"] * off["cpuspeed"]
    out = []
    for ctype, used, total in ((0, mem_used, mem_total), (1, cpu_used, cpu_total)):
        pct = "%.2f" % (100.0 * used / total) if total else "0"
        out.append(OrderedDict([("type", ctype), ("zoneid", zone["id"]),
                                ("zonename", zone["name"]), ("capacityused", used),
                                ("capacitytotal", total), ("percentused", pct)]))
    return out


def service_offering_view(model, off):
    obj = OrderedDict()
    for key in ("id", "name", "displaytext", "cpunumber", "cpuspeed", "memory", "created",
                "storagetype", "offerha", "limitcpuuse", "isvolatile", "tags", "issystem",
                "defaultuse"):
        obj[key] = off.get(key)
    return _clean(obj)


def disk_offering_view(model, off):
    obj = OrderedDict()
    for key in ("id", "name", "displaytext", "disksize", "created", "iscustomized",
                "storagetype", "displayoffering", "tags"):
        obj[key] = off.get(key)
    return _clean(obj)


def ostype_view(model, ostype):
    return OrderedDict([("id", ostype["id"]), ("oscategoryid", ostype["oscategoryid"]),
                        ("description", ostype["description"])])


def template_view(model, tmpl, zoneid=None, ctx=None):
    obj = OrderedDict()
    obj["id"] = tmpl["id"]
    obj["name"] = tmpl["name"]
    obj["displaytext"] = tmpl["displaytext"]
    obj["ispublic"] = tmpl["ispublic"]
    obj["created"] = tmpl["created"]
    obj["isready"] = tmpl["isready"]
    obj["passwordenabled"] = tmpl["passwordenabled"]
    obj["format"] = tmpl["format"]
    obj["isfeatured"] = tmpl["isfeatured"]
    obj["crossZones"] = tmpl["crossZones"]
    obj["ostypeid"] = tmpl["ostypeid"]
    ostype = model.ostypes.get(tmpl["ostypeid"])
    obj["ostypename"] = ostype["description"] if ostype else None
    acct = model.accounts.get(tmpl["accountid"])
    obj["account"] = acct["name"] if acct else None
    obj["accountid"] = tmpl["accountid"]
    if zoneid:
        zone = model.zones.get(zoneid)
        obj["zoneid"] = zoneid
        obj["zonename"] = zone["name"] if zone else None
    obj["status"] = tmpl.get("status")
    obj["size"] = tmpl.get("size")
    obj["templatetype"] = tmpl["templatetype"]
    obj["hypervisor"] = tmpl["hypervisor"]
    domain = model.domains.get(tmpl["domainid"])
    obj["domain"] = domain["name"] if domain else None
    obj["domainid"] = tmpl["domainid"]
    obj["isextractable"] = tmpl["isextractable"]
    obj["checksum"] = tmpl.get("checksum")
    obj["sourcetemplateid"] = tmpl.get("sourcetemplateid")
    obj["templatetag"] = tmpl.get("templatetag")
    obj["bootable"] = tmpl.get("bootable")
    obj["sshkeyenabled"] = tmpl.get("sshkeyenabled", False)
    obj["isdynamicallyscalable"] = tmpl.get("isdynamicallyscalable", False)
    obj["tags"] = tag_list(model, "ISO" if tmpl["format"] == "ISO" else "Template", tmpl["id"])
    if ctx is not None:
        ctx.job_decoration("Template", tmpl["id"], obj)
    return _clean(obj)


def security_group_view(model, group, ctx=None):
    obj = OrderedDict()
    obj["id"] = group["id"]
    obj["name"] = group["name"]
    obj["description"] = group.get("description")
    _owner(model, obj, group)
    obj["ingressrule"] = [rule_view(r) for r in group.get("ingressrule", [])]
    obj["egressrule"] = [rule_view(r) for r in group.get("egressrule", [])]
    obj["tags"] = tag_list(model, "SecurityGroup", group["id"])
    if ctx is not None:
        ctx.job_decoration("SecurityGroup", group["id"], obj)
    return _clean(obj)


def rule_view(rule):
    obj = OrderedDict()
    for key in ("ruleid", "protocol", "icmptype", "icmpcode", "startport", "endport",
                "securitygroupname", "account", "cidr"):
        obj[key] = rule.get(key)
    return _clean(obj)


def nic_view(model, nic):
    net = model.networks.get(nic["networkid"])
    obj = OrderedDict()
    obj["id"] = nic["id"]
    obj["networkid"] = nic["networkid"]
    obj["networkname"] = net["name"] if net else None
    obj["netmask"] = nic["netmask"]
    obj["gateway"] = nic["gateway"]
    obj["ipaddress"] = nic["ipaddress"]
    obj["isolationuri"] = nic.get("isolationuri")
    obj["broadcasturi"] = nic.get("broadcasturi")
    obj["traffictype"] = "Guest"
    obj["type"] = nic["type"]
    obj["isdefault"] = nic["isdefault"]
    obj["macaddress"] = nic["macaddress"]
    return _clean(obj)


def vm_view(model, vm, ctx=None):
    obj = OrderedDict()
    obj["id"] = vm["id"]
    obj["name"] = vm["name"]
    obj["displayname"] = vm["displayname"]
    _owner(model, obj, vm)
    obj["created"] = vm["created"]
    obj["state"] = vm["state"]
    obj["haenable"] = vm.get("haenable", False)
    if vm.get("group"):
        obj["groupid"] = vm.get("groupid")
        obj["group"] = vm["group"]
    zone = model.zones.get(vm["zoneid"])
    obj["zoneid"] = vm["zoneid"]
    obj["zonename"] = zone["name"] if zone else None
    host = model.hosts.get(vm.get("hostid")) if vm["state"] in ("Running", "Stopping") else None
    if host and ctx is not None and ctx.is_admin:
        obj["hostid"] = host["id"]
        obj["hostname"] = host["name"]
    tmpl = model.templates.get(vm["templateid"])
    obj["templateid"] = vm["templateid"]
    obj["templatename"] = tmpl["name"] if tmpl else None
    obj["templatedisplaytext"] = tmpl["displaytext"] if tmpl else None
    obj["passwordenabled"] = bool(tmpl and tmpl["passwordenabled"])
    if vm.get("isoid"):
        iso = model.templates.get(vm["isoid"])
        obj["isoid"] = vm["isoid"]
        obj["isoname"] = iso["name"] if iso else None
        obj["isodisplaytext"] = iso["displaytext"] if iso else None
    off = model.service_offerings.get(vm["serviceofferingid"])
    obj["serviceofferingid"] = vm["serviceofferingid"]
    obj["serviceofferingname"] = off["name"] if off else None
    obj["cpunumber"] = off["cpunumber"] if off else None
    obj["cpuspeed"] = off["cpuspeed"] if off else None
    obj["memory"] = off["memory"] if off else None
    if vm["state"] == "Running":
        obj["cpuused"] = "0.5%"
        obj["networkkbsread"] = vm.get("networkkbsread", 0)
        obj["networkkbswrite"] = vm.get("networkkbswrite", 0)
    obj["guestosid"] = tmpl["ostypeid"] if tmpl else None
    obj["rootdeviceid"] = 0
    obj["rootdevicetype"] = "ROOT"
    obj["securitygroup"] = [security_group_view(model, model.security_groups[g])
                            for g in vm.get("securitygroupids", []) if g in model.security_groups]
    obj["nic"] = [nic_view(model, n) for n in vm.get("nics", [])]
    obj["hypervisor"] = vm.get("hypervisor", "XenServer")
    if vm.get("publicipid") and vm["publicipid"] in model.ips:
        obj["publicipid"] = vm["publicipid"]
        obj["publicip"] = model.ips[vm["publicipid"]]["ipaddress"]
    if ctx is not None and ctx.is_admin:
        obj["instancename"] = vm.get("instancename")
    obj["keypair"] = vm.get("keypair")
    obj["displayvm"] = True
    obj["isdynamicallyscalable"] = False
    obj["affinitygroup"] = []
    obj["tags"] = tag_list(model, "UserVm", vm["id"])
    if ctx is not None:
        ctx.job_decoration("VirtualMachine", vm["id"], obj)
    return _clean(obj)


def volume_view(model, vol, ctx=None):
    obj = OrderedDict()
    obj["id"] = vol["id"]
    obj["name"] = vol["name"]
    zone = model.zones.get(vol["zoneid"])
    obj["zoneid"] = vol["zoneid"]
    obj["zonename"] = zone["name"] if zone else None
    obj["type"] = vol["type"]
    vm = model.vms.get(vol.get("virtualmachineid"))
    if vm is not None:
        obj["deviceid"] = vol.get("deviceid")
        obj["virtualmachineid"] = vm["id"]
        obj["vmname"] = vm["name"]
        obj["vmdisplayname"] = vm["displayname"]
        obj["vmstate"] = vm["state"]
    obj["size"] = vol["size"]
    obj["created"] = vol["created"]
    obj["state"] = vol["state"]
    _owner(model, obj, vol)
    obj["storagetype"] = "shared"
    obj["hypervisor"] = vol.get("hypervisor") or "None"
    off = model.disk_offerings.get(vol.get("diskofferingid"))
    if off is not None:
        obj["diskofferingid"] = off["id"]
        obj["diskofferingname"] = off["name"]
        obj["diskofferingdisplaytext"] = off["displaytext"]
    soff = model.service_offerings.get(vol.get("serviceofferingid"))
    if soff is not None:
        obj["serviceofferingid"] = soff["id"]
        obj["serviceofferingname"] = soff["name"]
        obj["serviceofferingdisplaytext"] = soff["displaytext"]
    obj["storage"] = "%s-primary" % (zone["name"] if zone else "zone") \
        if vol["state"] != "Allocated" else "none"
    obj["destroyed"] = vol["state"] == "Destroy"
    if vol.get("attached") and vm is not None:
        obj["attached"] = vol["attached"]
    obj["isextractable"] = vol["type"] == "DATADISK"
    obj["snapshotid"] = vol.get("snapshotid")
    obj["displayvolume"] = True
    obj["tags"] = tag_list(model, "Volume", vol["id"])
    if ctx is not None:
        ctx.job_decoration("Volume", vol["id"], obj)
    return _clean(obj)


def snapshot_view(model, snap, ctx=None):
    obj = OrderedDict()
    obj["id"] = snap["id"]
    _owner(model, obj, snap)
    obj["snapshottype"] = snap.get("snapshottype", "MANUAL")
    obj["volumeid"] = snap["volumeid"]
    obj["volumename"] = snap["volumename"]
    obj["volumetype"] = snap["volumetype"]
    obj["created"] = snap["created"]
    obj["name"] = snap["name"]
    obj["intervaltype"] = snap.get("intervaltype", "MANUAL")
    obj["state"] = snap["state"]
    obj["zoneid"] = snap.get("zoneid")
    obj["tags"] = tag_list(model, "Snapshot", snap["id"])
    if ctx is not None:
        ctx.job_decoration("Snapshot", snap["id"], obj)
    return _clean(obj)


def keypair_view(model, kp, with_private=False):
    obj = OrderedDict()
    obj["name"] = kp["name"]
    obj["fingerprint"] = kp["fingerprint"]
    if with_private and kp.get("privatekey"):
        obj["privatekey"] = kp["privatekey"]
    return obj


def ip_view(model, ip, ctx=None):
    obj = OrderedDict()
    obj["id"] = ip["id"]
    obj["ipaddress"] = ip["ipaddress"]
    obj["allocated"] = ip.get("allocated")
    zone = model.zones.get(ip["zoneid"])
    obj["zoneid"] = ip["zoneid"]
    obj["zonename"] = zone["name"] if zone else None
    obj["issourcenat"] = ip.get("issourcenat", False)
    _owner(model, obj, ip)
    obj["forvirtualnetwork"] = True
    vlan = model.vlans.get(ip.get("vlanid"))
    if vlan is not None and ctx is not None and ctx.is_admin:
        obj["vlanid"] = vlan["id"]
        obj["vlanname"] = vlan["vlan"]
    obj["isstaticnat"] = ip.get("isstaticnat", False)
    obj["issystem"] = False
    vm = model.vms.get(ip.get("virtualmachineid"))
    if vm is not None:
        obj["virtualmachineid"] = vm["id"]
        obj["virtualmachinename"] = vm["name"]
        obj["virtualmachinedisplayname"] = vm["displayname"]
        obj["vmipaddress"] = vm["nics"][0]["ipaddress"] if vm.get("nics") else None
    net = model.networks.get(ip.get("associatednetworkid"))
    if net is not None:
        obj["associatednetworkid"] = net["id"]
        obj["associatednetworkname"] = net["name"]
    obj["networkid"] = ip.get("networkid")
    obj["state"] = ip["state"]
    obj["physicalnetworkid"] = ip.get("physicalnetworkid")
    obj["purpose"] = ip.get("purpose")
    obj["tags"] = tag_list(model, "PublicIpAddress", ip["id"])
    if ctx is not None:
        ctx.job_decoration("IpAddress", ip["id"], obj)
    return _clean(obj)


def network_offering_view(model, off):
    obj = OrderedDict()
    for key in ("id", "name", "displaytext", "traffictype", "isdefault", "specifyvlan",
                "conservemode", "specifyipranges", "availability", "networkrate", "state",
                "guestiptype", "serviceofferingid"):
        obj[key] = off.get(key)
    obj["service"] = [OrderedDict([("name", s), ("provider", [{"name": off["provider"]}])])
                      for s in off["services"]]
    obj["forvpc"] = off["forvpc"]
    obj["ispersistent"] = off["ispersistent"]
    obj["egressdefaultpolicy"] = off["egressdefaultpolicy"]
    return _clean(obj)


def network_view(model, net):
    off = model.network_offerings.get(net["networkofferingid"])
    zone = model.zones.get(net["zoneid"])
    obj = OrderedDict()
    obj["id"] = net["id"]
    obj["name"] = net["name"]
    obj["displaytext"] = net["displaytext"]
    obj["broadcastdomaintype"] = net["broadcastdomaintype"]
    obj["traffictype"] = net["traffictype"]
    obj["gateway"] = net.get("gateway")
    obj["netmask"] = net.get("netmask")
    obj["cidr"] = net.get("cidr")
    obj["zoneid"] = net["zoneid"]
    obj["zonename"] = zone["name"] if zone else None
    obj["networkofferingid"] = net["networkofferingid"]
    obj["networkofferingname"] = off["name"] if off else None
    obj["networkofferingdisplaytext"] = off["displaytext"] if off else None
    obj["networkofferingconservemode"] = off["conservemode"] if off else None
    obj["networkofferingavailability"] = off["availability"] if off else None
    obj["issystem"] = net["issystem"]
    obj["state"] = net["state"]
    obj["related"] = net["id"]
    obj["broadcasturi"] = net.get("broadcasturi")
    zone_dns = zone or {}
    obj["dns1"] = zone_dns.get("dns1")
    obj["dns2"] = zone_dns.get("dns2")
    obj["type"] = net["type"]
    obj["vlan"] = net.get("vlan")
    obj["acltype"] = net["acltype"]
    if net.get("accountid"):
        _owner(model, obj, net)
    else:
        domain = model.domains.get(net["domainid"])
        obj["domainid"] = net["domainid"]
        obj["domain"] = domain["name"] if domain else None
    obj["subdomainaccess"] = net.get("subdomainaccess")
    obj["service"] = [OrderedDict([("name", s)]) for s in (off["services"] if off else [])]
    obj["networkdomain"] = net.get("networkdomain")
    obj["physicalnetworkid"] = net.get("physicalnetworkid")
    obj["restartrequired"] = False
    obj["specifyipranges"] = net.get("specifyipranges", False)
    obj["canusefordeploy"] = True
    obj["ispersistent"] = False
    obj["isdefault"] = net.get("isdefault", False)
    obj["tags"] = tag_list(model, "Network", net["id"])
    obj["displaynetwork"] = True
    return _clean(obj)


def user_view(model, user, acct):
    domain = model.domains.get(acct["domainid"])
    obj = OrderedDict()
    obj["id"] = user["id"]
    obj["username"] = user["username"]
    obj["firstname"] = user.get("firstname")
    obj["lastname"] = user.get("lastname")
    obj["email"] = user.get("email")
    obj["created"] = user["created"]
    obj["state"] = user["state"]
    obj["account"] = acct["name"]
    obj["accounttype"] = acct["accounttype"]
    obj["domainid"] = acct["domainid"]
    obj["domain"] = domain["name"] if domain else None
    obj["timezone"] = user.get("timezone")
    obj["apikey"] = user.get("apikey")
    obj["secretkey"] = user.get("secretkey")
    obj["accountid"] = acct["id"]
    obj["iscallerchilddomain"] = False
    obj["isdefault"] = user.get("isdefault", False)
    return _clean(obj)


def fmt(ts):
    return fmt_date(ts)
