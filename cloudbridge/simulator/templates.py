"""Templates and ISOs: listTemplates, listIsos, registerTemplate,
createTemplate, deleteTemplate, updateTemplate, listTemplatePermissions,
updateTemplatePermissions.

A template is listed once per zone it is in (the same id several times
unless ``zoneid`` is given), as CloudStack does.
"""

from collections import OrderedDict

from cloudbridge.simulator import errors
from cloudbridge.simulator.accounts import check_limit
from cloudbridge.simulator.api import (AsyncResult, ListResult, ObjectResult, SuccessResult,
                                       command, fmt_date, now_ts)
from cloudbridge.simulator.jobs import job_kind, periodic
from cloudbridge.simulator.state import new_id
from cloudbridge.simulator.tags import remove_tags_of, tag_filter
from cloudbridge.simulator.views import template_view

PKG = "org.apache.cloudstack.api.command.user."
FILTERS = ("featured", "self", "selfexecutable", "sharedexecutable", "executable",
           "community", "all")
FORMATS = ("VHD", "QCOW2", "OVA", "RAW", "VMDK", "TAR")
HYPERVISORS = ("XenServer", "KVM", "VMware", "Hyperv", "BareMetal", "Simulator", "Ovm", "LXC")


def template_label(tmpl):
    return "Tmpl[%d-%s]" % (tmpl.get("seq", 0), tmpl["name"])


def visible(ctx, tmpl, acct=None):
    acct = acct or ctx.account
    return (tmpl["ispublic"] or tmpl["accountid"] == acct["id"]
            or acct["id"] in tmpl.get("permissions", [])
            or acct["accounttype"] in (1, 2))


def template_usable(ctx, tmpl, acct, zone):
    """Checks deployVirtualMachine makes on its template."""
    if tmpl.get("removed"):
        raise errors.invalid("Unable to use template %d" % tmpl.get("seq", 0))
    if not visible(ctx, tmpl, acct):
        raise errors.denied("%s does not have permission to operate with resource %s"
                            % (ctx.caller_label(), template_label(tmpl)))
    if not tmpl["isready"] or zone["id"] not in tmpl["zones"]:
        raise errors.invalid("Template %s has not been completely downloaded to zone %s"
                             % (tmpl["id"], zone["id"]))


def _matches_filter(ctx, tmpl, flt):
    own = tmpl["accountid"] == ctx.account["id"]
    shared = ctx.account["id"] in tmpl.get("permissions", [])
    if flt == "featured":
        return tmpl["ispublic"] and tmpl["isfeatured"]
    if flt == "self":
        return own
    if flt == "selfexecutable":
        return own and tmpl["isready"]
    if flt == "sharedexecutable":
        return shared and not own and tmpl["isready"]
    if flt == "executable":
        return tmpl["isready"] and (own or shared or tmpl["ispublic"])
    if flt == "community":
        return tmpl["ispublic"] and not tmpl["isfeatured"]
    return True  # all


def _list(ctx, p, iso, flt):
    model = ctx.model
    if flt not in FILTERS:
        raise errors.invalid("Please specify a valid %s filter" % ("iso" if iso else "template"))
    if flt == "all" and not ctx.is_admin:
        raise errors.invalid("Filter all can be specified by admin only")
    rtype = "ISO" if iso else "Template"
    match_tags = tag_filter(model, rtype, p.get("tags"))
    owner = ctx.owner(p) if p.get("account") else None
    items = []
    for tmpl in sorted(model.templates.values(), key=lambda t: (t.get("seq", 0), t["name"])):
        if tmpl.get("removed") or (tmpl["format"] == "ISO") != iso:
            continue
        if owner is not None and tmpl["accountid"] != owner["id"]:
            continue
        if not _matches_filter(ctx, tmpl, flt):
            continue
        if p.get("id") and tmpl["id"] != p["id"]:
            continue
        if p.get("name") and tmpl["name"] != p["name"]:
            continue
        if p.get("hypervisor") and tmpl["hypervisor"].lower() != p["hypervisor"].lower() \
                and not iso:
            continue
        if iso:
            if p.get("ispublic") is not None and tmpl["ispublic"] != p["ispublic"]:
                continue
            if p.get("isready") is not None and tmpl["isready"] != p["isready"]:
                continue
            if p.get("bootable") is not None and tmpl["bootable"] != p["bootable"]:
                continue
        if not match_tags(tmpl["id"]):
            continue
        zones = tmpl["zones"] or [None]
        for zid in zones:
            if p.get("zoneid") and zid != p["zoneid"]:
                continue
            items.append(template_view(model, tmpl, zid, ctx))
    return ctx.page("iso" if iso else "template", items, p)


_LIST_PARAMS = dict(hypervisor="str", id="uuid:templates", name="str", tags="map",
                    zoneid="uuid:zones")


@command("listTemplates", dict(templatefilter="str!", **_LIST_PARAMS), listing=True)
def list_templates(ctx, p):
    return _list(ctx, p, False, p["templatefilter"].lower())


@command("listIsos", dict(isofilter="str", bootable="bool", ispublic="bool", isready="bool",
                          **_LIST_PARAMS), listing=True)
def list_isos(ctx, p):
    return _list(ctx, p, True, (p.get("isofilter") or "selfexecutable").lower())


def _new_template(ctx, acct, p, zones, **kw):
    model = ctx.model
    seq = model.next_seq("template") + 200
    tmpl = OrderedDict(
        id=new_id(), name=p["name"], displaytext=p["displaytext"],
        ispublic=bool(p.get("ispublic", False)),
        isfeatured=bool(p.get("isfeatured", False)) and ctx.is_admin, isready=False,
        passwordenabled=bool(p.get("passwordenabled", False)), format="VHD", bootable=True,
        ostypeid=p["ostypeid"], accountid=acct["id"], domainid=acct["domainid"], zones=zones,
        size=0, templatetype="USER", hypervisor="XenServer", isextractable=False,
        checksum=p.get("checksum") or "", created=fmt_date(now_ts()), crossZones=False,
        sshkeyenabled=bool(p.get("sshkeyenabled", False)), isdynamicallyscalable=False,
        status=None, permissions=[], templatetag=p.get("templatetag"), sourcetemplateid=None,
        removed=False, seq=seq, ready_at=None)
    tmpl.update(kw)
    model.templates[tmpl["id"]] = tmpl
    model.touch()
    return tmpl


@command("registerTemplate", dict(
    displaytext="str!", format="str!", hypervisor="str!", name="str!", ostypeid="uuid:ostypes!",
    url="str!", zoneid="str!", account="str", bits="int", checksum="str", details="map",
    domainid="uuid:domains", isextractable="bool", isfeatured="bool", ispublic="bool",
    passwordenabled="bool", requireshvm="bool", sshkeyenabled="bool", templatetag="str",
    isdynamicallyscalable="bool", isrouting="bool", projectid="uuid:projects"))
def register_template(ctx, p):
    model = ctx.model
    acct = ctx.owner(p)
    fmt = p["format"].upper()
    if fmt == "ISO" or fmt not in FORMATS:
        raise errors.invalid("Image format is incorrect %s. Supported formats are %s"
                             % (p["format"], ", ".join(FORMATS)))
    hyper = [h for h in HYPERVISORS if h.lower() == p["hypervisor"].lower()]
    if not hyper:
        raise errors.invalid("Hypervisor Type: %s is invalid. " % p["hypervisor"])
    url = p["url"]
    if not (url.lower().startswith("http://") or url.lower().startswith("https://")):
        raise errors.invalid("Unsupported scheme for url: %s" % url)
    if p["zoneid"] == "-1":
        zones = sorted(model.zones)
    elif p["zoneid"] in model.zones:
        zones = [p["zoneid"]]
    else:
        raise errors.invalid("Unable to execute API command registertemplate due to invalid "
                             "value. Invalid parameter zoneid value=%s due to incorrect long "
                             "value format, or entity does not exist or due to incorrect "
                             "parameter annotation for the field in api cmd class." % p["zoneid"])
    check_limit(ctx, acct, 4)
    tmpl = _new_template(ctx, acct, p, zones, format=fmt, hypervisor=hyper[0],
                         size=2 * 1024 ** 3, status="0% Downloaded",
                         crossZones=p["zoneid"] == "-1",
                         ready_at=now_ts() + ctx.jobs.delay, url=url,
                         isextractable=bool(p.get("isextractable", False)))
    items = [template_view(model, tmpl, z, ctx) for z in zones]
    return ListResult("template", items)


@periodic
def finish_downloads(sim, now):
    for tmpl in sim.model.templates.values():
        if tmpl.get("ready_at") and now >= tmpl["ready_at"] and not tmpl["isready"]:
            tmpl["isready"] = True
            tmpl["status"] = "Download Complete"
            tmpl["ready_at"] = None
            sim.model.touch()


@command("createTemplate", dict(
    displaytext="str!", name="str!", ostypeid="uuid:ostypes!", bits="int", details="map",
    isfeatured="bool", ispublic="bool", passwordenabled="bool", requireshvm="bool",
    snapshotid="uuid:snapshots", volumeid="uuid:volumes", virtualmachineid="uuid:vms",
    templatetag="str", url="str", isdynamicallyscalable="bool"), is_async=True)
def create_template(ctx, p):
    model = ctx.model
    if not p.get("volumeid") and not p.get("snapshotid"):
        raise errors.invalid("Failed to create private template record, need to specify "
                             "snapshotId or volumeId")
    if p.get("volumeid") and p.get("snapshotid"):
        raise errors.invalid("Failed to create private template record, please specify only one "
                             "of volume ID (%s) and snapshot ID (%s)" % (p["volumeid"],
                                                                       p["snapshotid"]))
    source_template = None
    if p.get("volumeid"):
        vol = model.volumes[p["volumeid"]]
        ctx.check_access(vol, "Vol[%s]" % vol["id"])
        if vol["type"] != "ROOT":
            raise errors.invalid("Failed to create private template record, volume id=%s is not "
                                 "a ROOT volume" % vol["id"])
        vm = model.vms.get(vol.get("virtualmachineid"))
        if vm is not None and vm["state"] != "Stopped":
            raise errors.invalid("VM %s must be stopped to create a template from its root "
                                 "volume; it is %s" % (vm["instancename"], vm["state"]))
        if vol["state"] != "Ready":
            raise errors.invalid("Volume %s is not in Ready state; it is %s"
                                 % (vol["id"], vol["state"]))
        zoneid, size = vol["zoneid"], vol["size"]
        if vm is not None:
            source_template = vm["templateid"]
    else:
        snap = model.snapshots[p["snapshotid"]]
        ctx.check_access(snap, "Snapshot[%s]" % snap["id"])
        if snap["state"] != "BackedUp":
            raise errors.invalid("Snapshot id=%s is not in BackedUp state yet and can't be used "
                                 "for template creation" % snap["id"])
        zoneid, size = snap["zoneid"], snap["size"]
        source_template = snap.get("templateid")
    acct = ctx.account
    check_limit(ctx, acct, 4)
    tmpl = _new_template(ctx, acct, p, [], size=size, sourcetemplateid=source_template,
                         status="Creating")
    jobid = ctx.submit("createTemplate", "Template", tmpl["id"],
                       {"id": tmpl["id"], "zoneid": zoneid})
    return AsyncResult(jobid, tmpl["id"])


@job_kind("createTemplate", PKG + "template.CreateTemplateCmd")
def _finish_create_template(ctx, job):
    tmpl = ctx.model.templates.get(job["args"]["id"])
    if tmpl is None:
        raise errors.internal("Failed to create template")
    tmpl["zones"] = [job["args"]["zoneid"]]
    tmpl["isready"] = True
    tmpl["status"] = "Download Complete"
    ctx.model.touch()
    return {"template": template_view(ctx.model, tmpl, job["args"]["zoneid"], ctx)}


def _own_template(ctx, tid, what="template"):
    tmpl = ctx.model.templates[tid]
    if tmpl.get("removed"):
        raise errors.invalid("Unable to find %s with id %s" % (what, tid))
    ctx.check_access(tmpl, template_label(tmpl))
    return tmpl


@command("deleteTemplate", dict(id="uuid:templates!", zoneid="uuid:zones"), is_async=True)
def delete_template(ctx, p):
    tmpl = _own_template(ctx, p["id"])
    if tmpl["templatetype"] in ("SYSTEM", "BUILTIN") and not ctx.is_admin:
        raise errors.denied("%s does not have permission to operate with resource %s"
                            % (ctx.caller_label(), template_label(tmpl)))
    if tmpl["format"] == "ISO":
        raise errors.invalid("Please specify a valid template.")
    if p.get("zoneid") and p["zoneid"] not in tmpl["zones"]:
        raise errors.invalid("Template %s is not available in zone %s" % (tmpl["id"],
                                                                         p["zoneid"]))
    jobid = ctx.submit("deleteTemplate", "Template", tmpl["id"],
                       {"id": tmpl["id"], "zoneid": p.get("zoneid")})
    return AsyncResult(jobid)


@job_kind("deleteTemplate", PKG + "template.DeleteTemplateCmd")
def _finish_delete_template(ctx, job):
    model = ctx.model
    tmpl = model.templates.get(job["args"]["id"])
    if tmpl is not None:
        zoneid = job["args"].get("zoneid")
        tmpl["zones"] = [z for z in tmpl["zones"] if zoneid and z != zoneid]
        if not tmpl["zones"]:
            tmpl["removed"] = True
            remove_tags_of(model, tmpl["id"])
        model.touch()
    return {"success": True}


@command("updateTemplate", dict(id="uuid:templates!", bootable="bool", displaytext="str",
                                format="str", name="str", ostypeid="uuid:ostypes",
                                passwordenabled="bool", sortkey="int",
                                isdynamicallyscalable="bool", isrouting="bool"))
def update_template(ctx, p):
    tmpl = _own_template(ctx, p["id"])
    for key in ("name", "displaytext", "ostypeid"):
        if p.get(key):
            tmpl[key] = p[key]
    for key in ("bootable", "passwordenabled", "isdynamicallyscalable"):
        if p.get(key) is not None:
            tmpl[key] = p[key]
    if p.get("format"):
        fmt = p["format"].upper()
        if fmt not in FORMATS:
            raise errors.invalid("Image format: %s is incorrect. Supported formats are %s"
                                 % (p["format"], ", ".join(FORMATS)))
        tmpl["format"] = fmt
    ctx.model.touch()
    zid = tmpl["zones"][0] if tmpl["zones"] else None
    return ObjectResult("template", template_view(ctx.model, tmpl, zid, ctx))


@command("listTemplatePermissions", dict(id="uuid:templates!"))
def list_template_permissions(ctx, p):
    model = ctx.model
    tmpl = model.templates[p["id"]]
    if not tmpl["ispublic"]:
        ctx.check_access(tmpl, template_label(tmpl))
    obj = OrderedDict()
    obj["id"] = tmpl["id"]
    obj["ispublic"] = tmpl["ispublic"]
    obj["domainid"] = tmpl["domainid"]
    obj["account"] = [model.accounts[a]["name"] for a in tmpl.get("permissions", [])
                      if a in model.accounts]
    return ObjectResult("templatepermission", obj)


@command("updateTemplatePermissions", dict(id="uuid:templates!", accounts="list",
                                           isextractable="bool", isfeatured="bool",
                                           ispublic="bool", op="str", projectids="list"))
def update_template_permissions(ctx, p):
    model = ctx.model
    tmpl = _own_template(ctx, p["id"])
    if tmpl["templatetype"] in ("SYSTEM", "BUILTIN") and not ctx.is_admin:
        raise errors.denied("%s does not have permission to operate with resource %s"
                            % (ctx.caller_label(), template_label(tmpl)))
    if p.get("ispublic") is not None:
        tmpl["ispublic"] = p["ispublic"]
    if p.get("isfeatured") is not None:
        if p["isfeatured"] and not ctx.is_admin:
            raise errors.denied("Only admins can mark templates as featured")
        tmpl["isfeatured"] = p["isfeatured"]
    if p.get("isextractable") is not None:
        tmpl["isextractable"] = p["isextractable"]
    op = p.get("op")
    accounts = p.get("accounts")
    if accounts or op:
        if op is None:
            raise errors.invalid("Please specify a valid operation: add, remove or reset")
        op = op.lower()
        if op not in ("add", "remove", "reset"):
            raise errors.invalid("Invalid operation on accounts, the operation must be either "
                                 "'add' or 'remove' or 'reset' in order to modify launch "
                                 "permissions.  Given operation is: '%s'" % p["op"])
        if op == "reset":
            tmpl["permissions"] = []
        else:
            if not accounts:
                raise errors.invalid("Please specify accounts for the %s operation" % op)
            ids = []
            for name in accounts:
                acct = model.account_by_name(name, tmpl["domainid"])
                if acct is None:
                    raise errors.invalid("Unable to find account %s in domain id=%s"
                                         % (name, tmpl["domainid"]))
                ids.append(acct["id"])
            perms = tmpl.setdefault("permissions", [])
            for aid in ids:
                if op == "add" and aid not in perms and aid != tmpl["accountid"]:
                    perms.append(aid)
                elif op == "remove" and aid in perms:
                    perms.remove(aid)
    model.touch()
    return SuccessResult()
