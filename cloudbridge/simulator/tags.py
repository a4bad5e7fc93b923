"""Resource tags (4.0+): createTags, listTags, deleteTags."""

from collections import OrderedDict

from cloudbridge.simulator import errors
from cloudbridge.simulator.api import AsyncResult, command
from cloudbridge.simulator.jobs import job_kind
from cloudbridge.simulator.state import new_id
from cloudbridge.simulator.views import tag_view

PKG = "org.apache.cloudstack.api.command.user."

# canonical resource type -> (table, predicate on the entity)
RESOURCE_TYPES = OrderedDict([
    ("UserVm", ("vms", lambda e: e["state"] != "Expunging")),
    ("Template", ("templates", lambda e: e["format"] != "ISO")),
    ("ISO", ("templates", lambda e: e["format"] == "ISO")),
    ("Volume", ("volumes", lambda e: True)),
    ("Snapshot", ("snapshots", lambda e: True)),
    ("Network", ("networks", lambda e: True)),
    ("SecurityGroup", ("security_groups", lambda e: True)),
    ("PublicIpAddress", ("ips", lambda e: True)),
])


def canonical_type(value):
    for name in RESOURCE_TYPES:
        if name.lower() == (value or "").lower():
            return name
    raise errors.invalid("Invalid resource type %s" % value)


def find_resource(model, rtype, rid):
    table, pred = RESOURCE_TYPES[rtype]
    entity = model.table(table).get(rid)
    if entity is None or not pred(entity):
        return None
    return entity


def tag_filter(model, rtype, tags):
    """Predicate on a resource id: has every key/value of a ``tags`` map
    parameter (``tags[i].key`` / ``tags[i].value``)."""
    wanted = [(t.get("key"), t.get("value")) for t in (tags or []) if t.get("key") is not None]
    if not wanted:
        return lambda rid: True

    def match(rid):
        have = {(t["key"], t["value"]) for t in model.tags.values()
                if t["resourceid"] == rid and t["resourcetype"] == rtype}
        keys = {k for k, _ in have}
        for key, value in wanted:
            if value is None:
                if key not in keys:
                    return False
            elif (key, value) not in have:
                return False
        return True

    return match


def remove_tags_of(model, rid):
    for tid in [t for t, tag in model.tags.items() if tag["resourceid"] == rid]:
        del model.tags[tid]
        model.touch()


@command("createTags", dict(resourceids="list!", resourcetype="str!", tags="map!",
                            customer="str"), is_async=True)
def create_tags(ctx, p):
    rtype = canonical_type(p["resourcetype"])
    tags = []
    for entry in p["tags"]:
        key = entry.get("key")
        if not key:
            raise errors.invalid("Tag key can't be empty")
        tags.append((key, entry.get("value", "")))
    jobid = ctx.submit("createTags", None, None, {
        "resourcetype": rtype, "resourceids": p["resourceids"], "tags": tags,
        "customer": p.get("customer")})
    return AsyncResult(jobid)


@job_kind("createTags", PKG + "tag.CreateTagsCmd")
def _finish_create_tags(ctx, job):
    model = ctx.model
    args = job["args"]
    rtype = args["resourcetype"]
    entities = []
    for rid in args["resourceids"]:
        entity = find_resource(model, rtype, rid)
        if entity is None:
            raise errors.internal("Unable to find resource by id %s and type %s" % (rid, rtype))
        if entity.get("accountid") is None or (entity.get("accountid") != ctx.account["id"]
                                               and not ctx.is_admin):
            raise errors.denied("%s does not have permission to operate with resource %s"
                                % (ctx.caller_label(), rid))
        entities.append(entity)
    for entity in entities:
        for key, _ in args["tags"]:
            for tag in model.tags.values():
                if (tag["resourceid"] == entity["id"] and tag["resourcetype"] == rtype
                        and tag["key"] == key):
                    raise errors.internal("Unable to create tags: a tag with key %s already "
                                          "exists for resource %s" % (key, entity["id"]))
    for entity in entities:
        for key, value in args["tags"]:
            tid = new_id()
            model.tags[tid] = OrderedDict(
                id=tid, key=key, value=value, resourceid=entity["id"], resourcetype=rtype,
                accountid=entity["accountid"], domainid=entity.get("domainid"),
                customer=args.get("customer"))
    model.touch()
    return {"success": True}


@command("deleteTags", dict(resourceids="list!", resourcetype="str!", tags="map"),
         is_async=True)
def delete_tags(ctx, p):
    rtype = canonical_type(p["resourcetype"])
    tags = [(t.get("key"), t.get("value")) for t in p.get("tags", []) if t.get("key")]
    jobid = ctx.submit("deleteTags", None, None, {
        "resourcetype": rtype, "resourceids": p["resourceids"], "tags": tags})
    return AsyncResult(jobid)


@job_kind("deleteTags", PKG + "tag.DeleteTagsCmd")
def _finish_delete_tags(ctx, job):
    model = ctx.model
    args = job["args"]
    rtype = args["resourcetype"]
    doomed = []
    for rid in args["resourceids"]:
        entity = find_resource(model, rtype, rid)
        if entity is None:
            raise errors.internal("Unable to find resource by id %s and type %s" % (rid, rtype))
        for tid, tag in model.tags.items():
            if tag["resourceid"] != rid or tag["resourcetype"] != rtype:
                continue
            if args["tags"] and not any(tag["key"] == k and (v is None or tag["value"] == v)
                                        for k, v in args["tags"]):
                continue
            if tag["accountid"] != ctx.account["id"] and not ctx.is_admin:
                raise errors.denied("%s does not have permission to operate with resource %s"
                                    % (ctx.caller_label(), rid))
            doomed.append(tid)
    if not doomed:
        raise errors.invalid("Unable to find tags by parameters specified")
    for tid in doomed:
        del model.tags[tid]
    model.touch()
    return {"success": True}


@command("listTags", dict(customer="str", key="str", resourceid="str", resourcetype="str",
                          value="str"), listing=True)
def list_tags(ctx, p):
    model = ctx.model
    pred = ctx.scope(p)
    rtype = canonical_type(p["resourcetype"]) if p.get("resourcetype") else None
    items = []
    for tag in sorted(model.tags.values(), key=lambda t: (t["resourcetype"], t["resourceid"],
                                                          t["key"])):
        if not pred(tag):
            continue
        if rtype and tag["resourcetype"] != rtype:
            continue
        if p.get("resourceid") and tag["resourceid"] != p["resourceid"]:
            continue
        if p.get("key") and tag["key"] != p["key"]:
            continue
        if p.get("value") and tag["value"] != p["value"]:
            continue
        if p.get("customer") and tag.get("customer") != p["customer"]:
            continue
        items.append(tag_view(model, tag))
    return ctx.page("tag", items, p)
