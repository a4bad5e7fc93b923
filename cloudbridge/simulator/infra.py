"""Zones, offerings, OS types, hypervisors, capabilities and async-job
queries."""

from collections import OrderedDict

from cloudbridge.simulator import errors
from cloudbridge.simulator.api import (CLOUDSTACK_VERSION, ListResult, ObjectResult, RawResult,
                                       command)
from cloudbridge.simulator.jobs import job_view
from cloudbridge.simulator.views import (disk_offering_view, ostype_view, service_offering_view,
                                         zone_view)

PAGING = {"keyword": "str", "page": "int", "pagesize": "int"}


@command("listZones", dict(available="bool", domainid="uuid:domains", id="uuid:zones",
                           name="str", networktype="str", showcapacities="bool", **PAGING))
def list_zones(ctx, p):
    zones = []
    for zone in sorted(ctx.model.zones.values(), key=lambda z: z["name"]):
        if p.get("id") and zone["id"] != p["id"]:
            continue
        if p.get("name") and zone["name"] != p["name"]:
            continue
        if p.get("networktype") and zone["networktype"].lower() != p["networktype"].lower():
            continue
        zones.append(zone_view(ctx.model, zone, p.get("showcapacities", False)))
    return ctx.page("zone", zones, p)


@command("listServiceOfferings", dict(domainid="uuid:domains", id="uuid:service_offerings",
                                      issystem="bool", name="str", systemvmtype="str",
                                      virtualmachineid="uuid:vms", **PAGING))
def list_service_offerings(ctx, p):
    if p.get("issystem"):
        return ListResult("serviceoffering", [])
    current = None
    if p.get("virtualmachineid"):
        vm = ctx.model.vms[p["virtualmachineid"]]
        ctx.check_access(vm, "VM[User|%s]" % vm["instancename"])
        current = vm["serviceofferingid"]
    items = []
    for off in sorted(ctx.model.service_offerings.values(), key=lambda o: o["memory"]):
        if p.get("id") and off["id"] != p["id"]:
            continue
        if p.get("name") and off["name"] != p["name"]:
            continue
        if current and off["id"] == current:
            continue
        items.append(service_offering_view(ctx.model, off))
    return ctx.page("serviceoffering", items, p)


@command("listDiskOfferings", dict(domainid="uuid:domains", id="uuid:disk_offerings", name="str",
                                   **PAGING))
def list_disk_offerings(ctx, p):
    items = []
    for off in sorted(ctx.model.disk_offerings.values(), key=lambda o: (o["disksize"] == 0,
                                                                       o["disksize"])):
        if p.get("id") and off["id"] != p["id"]:
            continue
        if p.get("name") and off["name"] != p["name"]:
            continue
        items.append(disk_offering_view(ctx.model, off))
    return ctx.page("diskoffering", items, p)


@command("listOsTypes", dict(description="str", id="uuid:ostypes",
                             oscategoryid="uuid:oscategories", **PAGING))
def list_os_types(ctx, p):
    items = []
    for ostype in sorted(ctx.model.ostypes.values(), key=lambda o: o["description"]):
        if p.get("id") and ostype["id"] != p["id"]:
            continue
        if p.get("oscategoryid") and ostype["oscategoryid"] != p["oscategoryid"]:
            continue
        if p.get("description") and p["description"].lower() not in ostype["description"].lower():
            continue
        items.append(ostype_view(ctx.model, ostype))
    return ctx.page("ostype", items, p)


@command("listOsCategories", dict(id="uuid:oscategories", name="str", **PAGING))
def list_os_categories(ctx, p):
    items = [OrderedDict([("id", c["id"]), ("name", c["name"])])
             for c in sorted(ctx.model.oscategories.values(), key=lambda c: c["name"])
             if (not p.get("id") or c["id"] == p["id"])
             and (not p.get("name") or c["name"] == p["name"])]
    return ctx.page("oscategory", items, p)


@command("listHypervisors", dict(zoneid="uuid:zones"))
def list_hypervisors(ctx, p):
    return ListResult("hypervisor", [OrderedDict([("name", "XenServer")])])


@command("listCapabilities", {})
def list_capabilities(ctx, p):
    cap = OrderedDict()
    cap["securitygroupsenabled"] = any(z["securitygroupsenabled"]
                                       for z in ctx.model.zones.values())
    cap["cloudstackversion"] = CLOUDSTACK_VERSION
    cap["userpublictemplateenabled"] = True
    cap["supportELB"] = "false"
    cap["projectinviterequired"] = False
    cap["allowusercreateprojects"] = True
    cap["customdiskofferingmaxsize"] = 1024
    return ObjectResult("capability", cap)


@command("queryAsyncJobResult", dict(jobid="uuid:jobs!"))
def query_async_job_result(ctx, p):
    job = ctx.model.jobs[p["jobid"]]
    if not ctx.is_admin and job["accountid"] != ctx.account["id"]:
        raise errors.denied("%s does not have permission to operate with resource AsyncJob[%s]"
                            % (ctx.caller_label(), job["jobid"]))
    return RawResult(job_view(job))


@command("listAsyncJobs", dict(startdate="date"), listing=True)
def list_async_jobs(ctx, p):
    visible = ctx.scope(p)
    jobs = sorted((j for j in ctx.model.jobs.values() if visible(j)), key=lambda j: j["seq"])
    return ctx.page("asyncjobs", [job_view(j) for j in jobs], p)
