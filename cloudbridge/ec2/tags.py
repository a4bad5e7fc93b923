"""Resource tags as CloudStack keeps them (a `tags` list on each object)."""


def tag_dict(cloudstack_object):
    return {t.get("key"): t.get("value", "") for t in cloudstack_object.get("tags") or []}


def tag_set(cloudstack_object):
    """The EC2 tagSet of a CloudStack object."""
    return [{"key": t.get("key"), "value": t.get("value", "")}
            for t in cloudstack_object.get("tags") or []]
