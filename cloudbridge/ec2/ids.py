"""EC2 ids in front of CloudStack ids.

Users see EC2-shaped ids (`i-`, `ami-`, `r-`, `vol-`, `snap-` followed by 17
hex digits); the store maps them to CloudStack ids and derives each new one
from the CloudStack id, so every server gives a resource the same EC2 id.
A raw CloudStack id (a UUID, or a number on CloudStack 2.2) is accepted as
input too.
"""

import re

INSTANCE, IMAGE, RESERVATION, VOLUME, SNAPSHOT, SECURITY_GROUP = (
    "i", "ami", "r", "vol", "snap", "sg")

_EC2_ID = re.compile(r"^([a-z]+)-[0-9a-f]{8,17}$")
_CLOUDSTACK_ID = re.compile(
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d+)$")


def is_ec2_id(kind, value):
    match = _EC2_ID.match(value or "")
    return bool(match) and match.group(1) == kind


def is_cloudstack_id(value):
    return bool(_CLOUDSTACK_ID.match(value or ""))


def to_ec2(ctx, kind, cloudstack_ids):
    """Map CloudStack ids to EC2 ids, creating the missing mappings (one store round trip)."""
    wanted = sorted({i for i in cloudstack_ids if i})
    if not wanted:
        return {}
    return ctx.store.ec2_ids(kind, wanted)


def resolve(ctx, kind, values, not_found):
    """Map user-given ids (EC2 or raw CloudStack) to CloudStack ids.

    Returns {given id: CloudStack id}.  Raises `not_found` (an EC2 error
    class) naming every id that is neither a known EC2 id of this kind nor
    a CloudStack id.
    """
    values = list(dict.fromkeys(values))
    ec2_values = [v for v in values if is_ec2_id(kind, v)]
    known = ctx.store.cloudstack_ids(kind, ec2_values) if ec2_values else {}
    resolved, missing = {}, []
    for value in values:
        if value in known:
            resolved[value] = known[value]
        elif not is_ec2_id(kind, value) and is_cloudstack_id(value):
            resolved[value] = value
        else:
            missing.append(value)
    if missing:
        raise not_found("The ID '%s' does not exist" % ", ".join(missing))
    return resolved


def resolve_one(ctx, kind, value, not_found):
    return resolve(ctx, kind, [value], not_found)[value]
