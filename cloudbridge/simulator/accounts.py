"""Accounts, users and resource limits."""

from collections import OrderedDict

from cloudbridge.simulator import errors
from cloudbridge.simulator.api import command
from cloudbridge.simulator.views import user_view

# resource type -> (name, default max for a user account)
RESOURCE_TYPES = OrderedDict([
    (0, ("user_vm", 20)), (1, ("public_ip", 20)), (2, ("volume", 20)), (3, ("snapshot", 20)),
    (4, ("template", 20)), (5, ("project", 10)), (6, ("network", 20)), (7, ("vpc", 20)),
    (8, ("cpu", 40)), (9, ("memory", 40960)), (10, ("primary_storage", 200)),
    (11, ("secondary_storage", 400)),
])

LIVE_VM_STATES = ("Starting", "Running", "Stopping", "Stopped", "Migrating")


def limit(model, acct, rtype):
    """The account's maximum for a resource type (-1 = unlimited)."""
    if acct["accounttype"] in (1, 2):
        return -1
    return acct.get("limits", {}).get(str(rtype), RESOURCE_TYPES[rtype][1])


def usage(model, acct, rtype):
    aid = acct["id"]
    if rtype == 0:
        return sum(1 for v in model.vms.values()
                   if v["accountid"] == aid and v["state"] in LIVE_VM_STATES)
    if rtype == 1:
        return sum(1 for i in model.ips.values() if i.get("accountid") == aid)
    if rtype == 2:
        return sum(1 for v in model.volumes.values() if v["accountid"] == aid)
    if rtype == 3:
        return sum(1 for s in model.snapshots.values() if s["accountid"] == aid)
    if rtype == 4:
        return sum(1 for t in model.templates.values() if t["accountid"] == aid)
    if rtype == 6:
        return sum(1 for n in model.networks.values() if n.get("accountid") == aid)
    return 0


def check_limit(ctx, acct, rtype, amount=1):
    """ResourceAllocationException (535) when a new resource would exceed
    the account's limit."""
    cap = limit(ctx.model, acct, rtype)
    if cap == -1:
        return
    if usage(ctx.model, acct, rtype) + amount > cap:
        raise errors.allocation(
            "Maximum number of resources of type '%s' for account name=%s in domain id=%s has "
            "been exceeded." % (RESOURCE_TYPES[rtype][0], acct["name"], acct["domainid"]))


def _lim_fields(model, acct, obj, prefix, rtype):
    cap = limit(model, acct, rtype)
    used = usage(model, acct, rtype)
    obj[prefix + "limit"] = "Unlimited" if cap == -1 else str(cap)
    obj[prefix + "total"] = used
    obj[prefix + "available"] = "Unlimited" if cap == -1 else str(max(cap - used, 0))


def account_view(model, acct):
    domain = model.domains.get(acct["domainid"])
    obj = OrderedDict()
    obj["id"] = acct["id"]
    obj["name"] = acct["name"]
    obj["accounttype"] = acct["accounttype"]
    obj["domainid"] = acct["domainid"]
    obj["domain"] = domain["name"] if domain else None
    for prefix, rtype in (("vm", 0), ("ip", 1), ("volume", 2), ("snapshot", 3),
                          ("template", 4), ("network", 6)):
        _lim_fields(model, acct, obj, prefix, rtype)
    vms = [v for v in model.vms.values() if v["accountid"] == acct["id"]]
    obj["vmstopped"] = sum(1 for v in vms if v["state"] == "Stopped")
    obj["vmrunning"] = sum(1 for v in vms if v["state"] == "Running")
    obj["state"] = acct["state"]
    obj["isdefault"] = acct.get("isdefault", False)
    obj["user"] = [user_view(model, u, acct) for u in model.users.values()
                   if u["accountid"] == acct["id"]]
    return OrderedDict((k, v) for k, v in obj.items() if v is not None)


def _visible_accounts(ctx):
    if ctx.is_admin:
        return sorted(ctx.model.accounts.values(), key=lambda a: a["name"])
    return [ctx.account]


@command("listAccounts", dict(accounttype="long", id="uuid:accounts", iscleanuprequired="bool",
                              name="str", state="str"), listing=True)
def list_accounts(ctx, p):
    items = []
    for acct in _visible_accounts(ctx):
        if p.get("id") and acct["id"] != p["id"]:
            continue
        if p.get("name") and acct["name"] != p["name"]:
            continue
        if p.get("accounttype") is not None and acct["accounttype"] != p["accounttype"]:
            continue
        if p.get("state") and acct["state"].lower() != p["state"].lower():
            continue
        if p.get("domainid") and acct["domainid"] != p["domainid"]:
            continue
        items.append(account_view(ctx.model, acct))
    return ctx.page("account", items, p)


@command("listUsers", dict(accounttype="long", id="uuid:users", state="str", username="str"),
         listing=True)
def list_users(ctx, p):
    items = []
    accounts = {a["id"]: a for a in _visible_accounts(ctx)}
    for user in sorted(ctx.model.users.values(), key=lambda u: u["username"]):
        acct = accounts.get(user["accountid"])
        if acct is None:
            continue
        if p.get("account") and acct["name"] != p["account"]:
            continue
        if p.get("id") and user["id"] != p["id"]:
            continue
        if p.get("username") and user["username"] != p["username"]:
            continue
        if p.get("accounttype") is not None and acct["accounttype"] != p["accounttype"]:
            continue
        if p.get("state") and user["state"].lower() != p["state"].lower():
            continue
        items.append(user_view(ctx.model, user, acct))
    return ctx.page("user", items, p)


@command("listResourceLimits", dict(id="long", resourcetype="int"), listing=True)
def list_resource_limits(ctx, p):
    acct = ctx.owner(p) if p.get("account") else ctx.account
    domain = ctx.model.domains.get(acct["domainid"])
    items = []
    for rtype in RESOURCE_TYPES:
        if p.get("resourcetype") is not None and p["resourcetype"] != rtype:
            continue
        obj = OrderedDict()
        obj["account"] = acct["name"]
        obj["domainid"] = acct["domainid"]
        obj["domain"] = domain["name"] if domain else None
        obj["resourcetype"] = str(rtype)
        obj["max"] = limit(ctx.model, acct, rtype)
        items.append(obj)
    if p.get("resourcetype") is not None and not items:
        raise errors.invalid("Please specify a valid resource type.")
    return ctx.page("resourcelimit", items, p)
