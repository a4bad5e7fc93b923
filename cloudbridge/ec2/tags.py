"""Resource tags as CloudStack keeps them (a `tags` list on each object)."""

from cloudbridge.ec2 import ids


def tag_dict(cloudstack_object):
    return {t.get("key"): t.get("value", "") for t in cloudstack_object.get("tags") or []}


def tag_set(cloudstack_object):
    """The EC2 tagSet of a CloudStack object."""
    return [{"key": t.get("key"), "value": t.get("value", "")}
            for t in cloudstack_object.get("tags") or []]


# The taggable EC2 resources: EC2 id kind -> (EC2 resource type, CloudStack
# resource type).  CloudStack tags other types too (ISO, Network,
# PublicIpAddress ...), which have no EC2 id and are not shown.
TAGGABLE = {
    "i": ("instance", "UserVm"),
    "ami": ("image", "Template"),
    "vol": ("volume", "Volume"),
    "snap": ("snapshot", "Snapshot"),
    "sg": ("security-group", "SecurityGroup"),
}
KIND_BY_CLOUDSTACK_TYPE = {cs_type.lower(): kind for kind, (_, cs_type) in TAGGABLE.items()}


def kind_of(ec2_id):
    """Return the EC2 id kind ("i", "ami" ...) of a taggable resource id, or None."""
    prefix = (ec2_id or "").split("-", 1)[0]
    return prefix if prefix in TAGGABLE and ids.is_ec2_id(prefix, ec2_id) else None


def cloudstack_tag_params(pairs):
    """CloudStack's `tags[i].key` / `tags[i].value` parameters for (key, value) pairs.

    A value of None leaves `tags[i].value` out, which deleteTags takes as
    "any value".
    """
    params = {}
    for index, (key, value) in enumerate(pairs):
        params["tags[%d].key" % index] = key
        if value is not None:
            params["tags[%d].value" % index] = value
    return params
