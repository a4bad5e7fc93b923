"""CreateTags, DeleteTags and DescribeTags on CloudStack's resource tags (CloudStack 4.0+).

EC2 ids of instances, images, volumes, snapshots and security groups are
taggable.  Each action checks every resource and reads the existing tags
first, then runs one CloudStack job per resource type.  When a job fails,
the jobs that succeeded are undone, so a failed call changes no tag.
"""

import logging
import re

from cloudbridge import errors
from cloudbridge.ec2 import ids
from cloudbridge.ec2.core import action
from cloudbridge.ec2.filters import apply_filters, validate_filters
from cloudbridge.ec2.tags import KIND_BY_CLOUDSTACK_TYPE, TAGGABLE, cloudstack_tag_params, kind_of

LOG = logging.getLogger(__name__)

# EC2's limits on tag keys and values, in characters.
MAX_KEY_LENGTH = 127
MAX_VALUE_LENGTH = 255
RESERVED_KEY_PREFIX = "aws:"
ROOT_ADMIN = "1"  # accounttype of a CloudStack root administrator
_PERMISSION_DENIED = re.compile(r"does not have permission", re.IGNORECASE)

NOT_FOUND = {
    "i": errors.InvalidInstanceIDNotFound,
    "ami": errors.InvalidAMIIDNotFound,
    "vol": errors.InvalidVolumeNotFound,
    "snap": errors.InvalidSnapshotNotFound,
    "sg": errors.InvalidGroupNotFound,
}

TAG_FILTERS = {
    "key": lambda tag: tag["key"],
    "value": lambda tag: tag["value"],
    "resource-id": lambda tag: tag["resourceId"],
    "resource-type": lambda tag: tag["resourceType"],
}


def caller_may_tag(ctx, templates):
    """Raise UnauthorizedOperation unless the caller may tag every one of these templates.

    Users see public templates of other accounts, but CloudStack lets only a
    root administrator tag them.  It would reject them inside the job, after
    the jobs of other resource types had run.
    """
    accounts = ctx.cloudstack.list("listAccounts", "account")
    if not accounts or str(accounts[0].get("accounttype")) == ROOT_ADMIN:
        return
    own = (accounts[0].get("name"), accounts[0].get("domainid"))
    foreign = [t for t in templates if (t.get("account"), t.get("domainid")) != own]
    if foreign:
        raise errors.PermissionDenied(
            "You may tag only images of your own account; '%s' belongs to %s."
            % (foreign[0].get("name"), foreign[0].get("account")))


def existing_ids(ctx, kind, cs_ids):
    """Return which of these CloudStack ids are the caller's resources of one kind.

    One listing serves any number of ids.
    """
    cloudstack = ctx.cloudstack
    if kind == "i":
        found = cloudstack.list("listVirtualMachines", "virtualmachine", listall=True)
    elif kind == "ami":
        found = cloudstack.list("listTemplates", "template", templatefilter="executable")
        caller_may_tag(ctx, [t for t in found if t["id"] in cs_ids])
    elif kind == "vol":
        found = cloudstack.list("listVolumes", "volume", listall=True)
    elif kind == "snap":
        found = cloudstack.list("listSnapshots", "snapshot", listall=True)
    else:
        found = cloudstack.list("listSecurityGroups", "securitygroup", listall=True)
    return {item["id"] for item in found}


def requested_resources(ctx):
    """Return {kind: {given id: CloudStack id}} for ResourceId.N, checking each exists."""
    given = ctx.params.strings("ResourceId")
    if not given:
        raise errors.MissingParameter("The request must contain the parameter ResourceId")
    by_kind = {}
    for value in dict.fromkeys(given):
        kind = kind_of(value)
        if kind is None:
            raise errors.InvalidID(
                "The ID '%s' is not valid: give the EC2 id of an instance, image, volume, "
                "snapshot or security group (i-, ami-, vol-, snap- or sg-)." % value)
        by_kind.setdefault(kind, []).append(value)
    resources = {}
    for kind, values in by_kind.items():
        resolved = ids.resolve(ctx, kind, values, NOT_FOUND[kind])
        present = existing_ids(ctx, kind, set(resolved.values()))
        missing = [v for v, cs_id in resolved.items() if cs_id not in present]
        if missing:
            raise NOT_FOUND[kind]("The ID '%s' does not exist" % ", ".join(missing))
        resources[kind] = resolved
    return resources


def list_tags(ctx):
    return ctx.cloudstack.list("listTags", "tag", listall=True)


def tags_of(ctx, resources):
    """Return {(kind, CloudStack id): {key: value}} of the existing tags of these resources."""
    targets = {(kind, cs_id) for kind, resolved in resources.items()
               for cs_id in resolved.values()}
    found = {}
    for tag in list_tags(ctx):
        kind = KIND_BY_CLOUDSTACK_TYPE.get(str(tag.get("resourcetype", "")).lower())
        target = (kind, tag.get("resourceid"))
        if target in targets:
            found.setdefault(target, {})[tag.get("key")] = tag.get("value", "")
    return found


def group_by_pairs(tags_by_resource):
    """Group {(kind, id): [(key, value)]} into [(kind, ids, pairs)], one per kind and pair set.

    Deleting or creating every pair of a group on every resource of the group
    touches exactly the listed tags, because a resource has one value per key.
    """
    groups = {}
    for (kind, cs_id), pairs in tags_by_resource.items():
        if pairs:
            groups.setdefault((kind, tuple(sorted(pairs))), []).append(cs_id)
    return [(kind, sorted(cs_ids), list(pairs)) for (kind, pairs), cs_ids in groups.items()]


def run_tag_jobs(ctx, command, groups):
    """Run one createTags or deleteTags job per group; return (succeeded groups, first error)."""
    jobs = {}
    failure = None
    for group in groups:
        kind, cs_ids, pairs = group
        try:
            started = ctx.cloudstack.submit(command, resourcetype=TAGGABLE[kind][1],
                                            resourceids=",".join(cs_ids),
                                            **cloudstack_tag_params(pairs))
        except errors.EC2Error as exc:
            failure = failure or exc
            continue
        jobs[started["jobid"]] = group
    outcomes = ctx.cloudstack.wait_for_jobs({job: command for job in jobs}) if jobs else {}
    succeeded = []
    for job_id, group in jobs.items():
        outcome = outcomes[job_id]
        if isinstance(outcome, Exception):
            failure = failure or outcome
        else:
            succeeded.append(group)
    # CloudStack reports a permission error inside a job as a plain failure (530).
    if failure is not None and _PERMISSION_DENIED.search(failure.message or ""):
        failure = errors.PermissionDenied(
            "You may tag only resources of your own account: %s" % failure.message)
    return succeeded, failure


def undo(ctx, command, groups):
    """Undo tag jobs of a failed call, logging what cannot be undone."""
    if not groups:
        return
    _, failure = run_tag_jobs(ctx, command, groups)
    if failure is not None:
        LOG.error("could not undo the tag changes of a failed call with %s on %s: %s",
                  command, groups, failure)


def change_tags(ctx, deletions, creations):
    """Delete, then create tags; on failure, undo the jobs that succeeded and raise."""
    deleted, failure = run_tag_jobs(ctx, "deleteTags", deletions)
    if failure is None:
        created, failure = run_tag_jobs(ctx, "createTags", creations)
        if failure is not None:
            undo(ctx, "deleteTags", created)
    if failure is not None:
        undo(ctx, "createTags", deleted)
        raise failure


def requested_tags(ctx, missing_value):
    """Return Tag.N as [(key, value)], with `missing_value` where Tag.N.Value is absent."""
    return tag_pairs(ctx.params.structures("Tag"), missing_value)


def tag_pairs(members, missing_value):
    """Return Tag.N members as checked [(key, value)] pairs."""
    pairs = []
    for member in members:
        key = member.get("Key")
        value = member.get("Value")
        if not isinstance(key, str) or not key:
            raise errors.MissingParameter("Each Tag.N must have a Key")
        if not isinstance(value, str):
            value = missing_value
        if len(key) > MAX_KEY_LENGTH or len(value or "") > MAX_VALUE_LENGTH:
            raise errors.InvalidParameterValue(
                "Tag keys are limited to %d characters and values to %d; the tag '%s' "
                "is longer." % (MAX_KEY_LENGTH, MAX_VALUE_LENGTH, key[:MAX_KEY_LENGTH]))
        pairs.append((key, value))
    return pairs


def check_not_reserved(pairs):
    reserved = [k for k, _ in pairs if k.lower().startswith(RESERVED_KEY_PREFIX)]
    if reserved:
        raise errors.InvalidParameterValue(
            "Tag keys starting with '%s' are reserved: %s" % (RESERVED_KEY_PREFIX,
                                                              ", ".join(reserved)))


@action("CreateTags")
def create_tags(ctx):
    pairs = requested_tags(ctx, "")
    if not pairs:
        raise errors.MissingParameter("The request must contain the parameter Tag")
    check_not_reserved(pairs)
    requested = dict(pairs)  # a key given twice takes its last value
    resources = requested_resources(ctx)
    existing = tags_of(ctx, resources)

    # CloudStack rejects a key that a resource already has, while EC2
    # overwrites its value, so such tags are deleted first.  Unchanged tags
    # are left alone.
    deletions, creations = {}, {}
    for kind, resolved in resources.items():
        for cs_id in resolved.values():
            current = existing.get((kind, cs_id), {})
            deletions[(kind, cs_id)] = [(k, current[k]) for k in requested
                                        if k in current and current[k] != requested[k]]
            creations[(kind, cs_id)] = [(k, v) for k, v in requested.items()
                                        if k not in current or current[k] != v]
    change_tags(ctx, group_by_pairs(deletions), group_by_pairs(creations))
    return {"return": True}


@action("DeleteTags")
def delete_tags(ctx):
    # A Tag.N without Value deletes the key whatever its value.
    specs = requested_tags(ctx, None)
    resources = requested_resources(ctx)
    existing = tags_of(ctx, resources)

    def doomed(key, value):
        if not specs:
            return True  # no Tag.N: every tag of the resources
        return any(key == k and (v is None or v == value) for k, v in specs)

    deletions = {target: [(k, v) for k, v in tags.items() if doomed(k, v)]
                 for target, tags in existing.items()}
    change_tags(ctx, group_by_pairs(deletions), [])
    return {"return": True}


@action("DescribeTags")
def describe_tags(ctx):
    filters = ctx.params.filters()
    validate_filters(filters, TAG_FILTERS, "DescribeTags")

    tags = []
    for tag in list_tags(ctx):
        kind = KIND_BY_CLOUDSTACK_TYPE.get(str(tag.get("resourcetype", "")).lower())
        if kind is not None and tag.get("resourceid"):
            tags.append((kind, tag))
    ec2_ids = {}
    for kind in {kind for kind, _ in tags}:
        ec2_ids[kind] = ids.to_ec2(ctx, kind, [t["resourceid"] for k, t in tags if k == kind])
    items = [{
        "resourceId": ec2_ids[kind][tag["resourceid"]],
        "resourceType": TAGGABLE[kind][0],
        "key": tag.get("key"),
        "value": tag.get("value", ""),
    } for kind, tag in tags]
    items = apply_filters(items, filters, TAG_FILTERS, "DescribeTags")
    return {"tagSet": items}
