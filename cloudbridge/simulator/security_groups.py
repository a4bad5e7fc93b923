"""Security groups (Basic zone): list, create, delete, authorize and revoke
ingress rules. Every account has a ``default`` group that can't be
deleted."""

import ipaddress
from collections import OrderedDict

from cloudbridge.simulator import errors
from cloudbridge.simulator.api import AsyncResult, ObjectResult, SuccessResult, command
from cloudbridge.simulator.jobs import job_kind
from cloudbridge.simulator.state import new_id
from cloudbridge.simulator.tags import remove_tags_of, tag_filter
from cloudbridge.simulator.views import rule_view, security_group_view

PKG = "org.apache.cloudstack.api.command.user."
PROTOCOLS = ("tcp", "udp", "icmp", "all")


def group_label(group):
    return "SecurityGroup[%s-%s]" % (group["id"], group["name"])


def find_group(model, acct, name):
    for group in model.security_groups.values():
        if group["accountid"] == acct["id"] and group["name"] == name:
            return group
    return None


def _in_use(model, group):
    return any(group["id"] in vm.get("securitygroupids", []) and vm["state"] != "Expunging"
               for vm in model.vms.values())


@command("listSecurityGroups", dict(id="uuid:security_groups", securitygroupname="str",
                                    tags="map", virtualmachineid="uuid:vms"), listing=True)
def list_security_groups(ctx, p):
    model = ctx.model
    pred = ctx.scope(p)
    match_tags = tag_filter(model, "SecurityGroup", p.get("tags"))
    vm = model.vms.get(p.get("virtualmachineid"))
    items = []
    for group in sorted(model.security_groups.values(),
                        key=lambda g: (g["name"] != "default", g.get("seq", 0), g["name"])):
        if not pred(group):
            continue
        if p.get("id") and group["id"] != p["id"]:
            continue
        if p.get("securitygroupname") and group["name"] != p["securitygroupname"]:
            continue
        if vm is not None and group["id"] not in vm.get("securitygroupids", []):
            continue
        if not match_tags(group["id"]):
            continue
        items.append(security_group_view(model, group, ctx))
    return ctx.page("securitygroup", items, p)


@command("createSecurityGroup", dict(name="str!", account="str", description="str",
                                     domainid="uuid:domains", projectid="uuid:projects"))
def create_security_group(ctx, p):
    model = ctx.model
    acct = ctx.owner(p)
    if find_group(model, acct, p["name"]) is not None:
        raise errors.invalid("Unable to create security group, a group with name %s already "
                             "exisits." % p["name"])
    group = OrderedDict(id=new_id(), name=p["name"], description=p.get("description"),
                        accountid=acct["id"], domainid=acct["domainid"], ingressrule=[],
                        egressrule=[], seq=model.next_seq("securitygroup"))
    model.security_groups[group["id"]] = group
    model.touch()
    view = security_group_view(model, group)
    # createSecurityGroup answers without the (empty) rule and tag lists
    for key in ("ingressrule", "egressrule", "tags"):
        view.pop(key, None)
    return ObjectResult("securitygroup", view)


@command("deleteSecurityGroup", dict(id="uuid:security_groups", name="str", account="str",
                                     domainid="uuid:domains", projectid="uuid:projects"))
def delete_security_group(ctx, p):
    model = ctx.model
    if p.get("id"):
        group = model.security_groups[p["id"]]
        ctx.check_access(group, group_label(group))
    elif p.get("name"):
        acct = ctx.owner(p)
        group = find_group(model, acct, p["name"])
        if group is None:
            raise errors.invalid("Unable to find security group by name %s for the account id=%s"
                                 % (p["name"], acct["id"]))
    else:
        raise errors.invalid("Either id or name parameter is requred by deleteSecurityGroup "
                             "command")
    if group["name"] == "default":
        raise errors.invalid("The network group default is default group and can't be deleted")
    if _in_use(model, group):
        raise errors.in_use("Cannot delete group when it's in use by virtual machines")
    remove_tags_of(model, group["id"])
    del model.security_groups[group["id"]]
    model.touch()
    return SuccessResult()


@command("authorizeSecurityGroupIngress", dict(
    securitygroupid="uuid:security_groups", securitygroupname="str", protocol="str",
    startport="int", endport="int", icmptype="int", icmpcode="int", cidrlist="list",
    usersecuritygrouplist="map", account="str", domainid="uuid:domains",
    projectid="uuid:projects"), is_async=True)
def authorize_security_group_ingress(ctx, p):
    model = ctx.model
    if p.get("securitygroupid") and p.get("securitygroupname"):
        raise errors.invalid("securitygroupid and securitygroupname parameters are mutually "
                             "exclusive")
    if p.get("securitygroupid"):
        group = model.security_groups[p["securitygroupid"]]
        ctx.check_access(group, group_label(group))
    elif p.get("securitygroupname"):
        acct = ctx.owner(p)
        group = find_group(model, acct, p["securitygroupname"])
        if group is None:
            raise errors.invalid("Unable to find security group %s for account id=%s"
                                 % (p["securitygroupname"], acct["id"]))
    else:
        raise errors.invalid("Either securityGroupId or securityGroupName is required by "
                             "authorizeSecurityGroupIngress command")
    args = {"groupid": group["id"]}
    for key in ("protocol", "startport", "endport", "icmptype", "icmpcode", "cidrlist"):
        args[key] = p.get(key)
    args["groups"] = [{"account": g.get("account"), "group": g.get("group")}
                      for g in p.get("usersecuritygrouplist", [])]
    jobid = ctx.submit("authorizeSecurityGroupIngress", "SecurityGroup", group["id"], args)
    return AsyncResult(jobid)


def _rules_from(model, group, args):
    """Validate the rule parameters like SecurityGroupManagerImpl and return
    the rule dicts (without ids)."""
    protocol = (args.get("protocol") or "").lower() or None
    start, end = args.get("startport"), args.get("endport")
    icmptype, icmpcode = args.get("icmptype"), args.get("icmpcode")
    if protocol is None or (protocol not in PROTOCOLS and not protocol.isdigit()):
        raise errors.invalid("Invalid protocol %s" % protocol)
    base = OrderedDict(protocol=protocol)
    if protocol == "icmp":
        if icmptype is None or icmpcode is None:
            raise errors.invalid("Invalid ICMP type/code specified, icmpType = %s, icmpCode = %s"
                                 % (icmptype, icmpcode))
        if icmptype == -1 and icmpcode != -1:
            raise errors.invalid("Invalid icmp type range")
        if icmpcode > 255:
            raise errors.invalid("Invalid icmp code ")
        base["icmptype"], base["icmpcode"] = icmptype, icmpcode
    elif protocol == "all":
        if start is not None or end is not None:
            raise errors.invalid("Cannot specify startPort or endPort without specifying "
                                 "protocol")
    else:
        if start is None or end is None:
            raise errors.invalid("Invalid port range specified, startPort = %s, endPort = %s"
                                 % (start, end))
        if start == 0 and end == 0:
            end = 65535
        if start > end:
            raise errors.invalid("Invalid port range %d:%d" % (start, end))
        if start > 65535 or end > 65535 or start < -1 or end < -1:
            raise errors.invalid("Invalid port numbers %d:%d" % (start, end))
        if start < 0 or end < 0:
            raise errors.invalid("Invalid port range %d:%d" % (start, end))
        base["startport"], base["endport"] = start, end
    cidrs = args.get("cidrlist") or []
    groups = args.get("groups") or []
    if not cidrs and not groups:
        raise errors.invalid("At least one cidr or at least one security group needs to be "
                             "specified")
    rules = []
    for cidr in cidrs:
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise errors.invalid("Invalid cidr %s" % cidr)
        if "/" not in cidr or net.version != 4:
            raise errors.invalid("Invalid cidr %s" % cidr)
        rule = OrderedDict(base)
        rule["cidr"] = cidr
        rules.append(rule)
    for entry in groups:
        if not entry.get("group") or not entry.get("account"):
            raise errors.invalid("Invalid user group specified, fields 'group' and 'account' "
                                 "cannot be null, please specify groups in the form:  "
                                 "userGroupList[0].group=XXX&userGroupList[0].account=YYY")
        acct = model.account_by_name(entry["account"], group["domainid"])
        if acct is None:
            raise errors.invalid("Nonexistent account: %s when trying to authorize security "
                                 "group rule  for %s:%s:%s:%s"
                                 % (entry["account"], group["id"], protocol, start, end))
        if find_group(model, acct, entry["group"]) is None:
            raise errors.invalid("Nonexistent group %s for account %s/%s is given, unable to "
                                 "authorize security group rule." % (entry["group"],
                                                                     entry["account"],
                                                                     group["domainid"]))
        rule = OrderedDict(base)
        rule["securitygroupname"] = entry["group"]
        rule["account"] = entry["account"]
        rules.append(rule)
    return rules


def _same(a, b):
    keys = ("protocol", "startport", "endport", "icmptype", "icmpcode", "cidr",
            "securitygroupname", "account")
    return all(a.get(k) == b.get(k) for k in keys)


@job_kind("authorizeSecurityGroupIngress", PKG + "securitygroup.AuthorizeSecurityGroupIngressCmd")
def _finish_authorize(ctx, job):
    model = ctx.model
    group = model.security_groups.get(job["args"]["groupid"])
    if group is None:
        raise errors.invalid("Unable to find security group by id %s" % job["args"]["groupid"])
    added = []
    for rule in _rules_from(model, group, job["args"]):
        if any(_same(rule, r) for r in group["ingressrule"] + added):
            continue
        rule["ruleid"] = new_id()
        added.append(rule)
    if not added:
        raise errors.internal("Failed to authorize security group ingress rule(s)")
    group["ingressrule"].extend(added)
    model.touch()
    view = security_group_view(model, group, ctx)
    view["ingressrule"] = [rule_view(r) for r in added]
    return {"securitygroup": view}


@command("revokeSecurityGroupIngress", dict(id="uuid:sg_rules!"), is_async=True,
         response="revokesecuritygroupingress")
def revoke_security_group_ingress(ctx, p):
    model = ctx.model
    for group in model.security_groups.values():
        for rule in group["ingressrule"] + group["egressrule"]:
            if rule["ruleid"] == p["id"]:
                ctx.check_access(group, group_label(group))
                jobid = ctx.submit("revokeSecurityGroupIngress", "SecurityGroup", group["id"],
                                   {"id": p["id"]})
                return AsyncResult(jobid)
    raise errors.invalid("Unable to find security group rule with id %s" % p["id"])


@job_kind("revokeSecurityGroupIngress", PKG + "securitygroup.RevokeSecurityGroupIngressCmd")
def _finish_revoke(ctx, job):
    model = ctx.model
    for group in model.security_groups.values():
        for rule in list(group["ingressrule"]):
            if rule["ruleid"] == job["args"]["id"]:
                group["ingressrule"].remove(rule)
                model.touch()
                return {"success": True}
    raise errors.internal("Failed to revoke security group ingress rule")
