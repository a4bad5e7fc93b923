"""Images: CloudStack templates shown as AMIs, and DescribeImages."""

import math

from cloudbridge import errors
from cloudbridge.ec2 import ids
from cloudbridge.ec2.core import action
from cloudbridge.ec2.filters import TAGS, apply_filters, validate_filters
from cloudbridge.ec2.tags import tag_dict, tag_set

ROOT_DEVICE_NAME = "/dev/sda1"
GIB = 1024 ** 3


def architecture_of(template):
    """Guess the architecture from the template's text, as CloudStack keeps none."""
    text = " ".join(str(template.get(k, "")) for k in ("displaytext", "name", "ostypename"))
    if "i386" in text or "i686" in text or "32-bit" in text or "32 bit" in text:
        return "i386"
    return "x86_64"


IMAGE_FILTERS = {
    "image-id": lambda image: image["imageId"],
    "name": lambda image: image["name"],
    "state": lambda image: image["imageState"],
    "owner-id": lambda image: image["imageOwnerId"],
    "architecture": lambda image: image["architecture"],
    "image-type": lambda image: image["imageType"],
    "is-public": lambda image: image["isPublic"],
    "hypervisor": lambda image: image["hypervisor"],
    "root-device-type": lambda image: image["rootDeviceType"],
    "root-device-name": lambda image: image["rootDeviceName"],
    "description": lambda image: image.get("description"),
    "platform": lambda image: image.get("platform"),
    TAGS: lambda image: image["_tags"],
}

# The ExecutableBy values DescribeImages can evaluate from one listing:
# whether another account may launch a private template needs a permission
# lookup per template.
EXECUTABLE_BY_VALUES = ("all", "self")


def list_templates(ctx, template_id=None, template_filter="executable"):
    templates = ctx.cloudstack.list("listTemplates", "template",
                                    templatefilter=template_filter, id=template_id)
    # CloudStack lists a template once per zone: keep one entry per id.
    unique = {}
    for template in templates:
        unique.setdefault(template["id"], template)
    return list(unique.values())


def lookup_template(ctx, template_id, template_filter):
    """Return the template with this CloudStack id under a filter, or None."""
    try:
        found = list_templates(ctx, template_id=template_id, template_filter=template_filter)
    except (errors.InvalidParameterValue, errors.NotFound):
        # CloudStack rejects an id that names no template with error 431.
        return None
    return found[0] if found else None


def find_template(ctx, image_id):
    """Return the CloudStack template behind an AMI id, or raise InvalidAMIID.NotFound."""
    template_id = ids.resolve_one(ctx, ids.IMAGE, image_id, errors.InvalidAMIIDNotFound)
    found = lookup_template(ctx, template_id, "executable")
    if found is None:
        raise errors.InvalidAMIIDNotFound("The image id '[%s]' does not exist" % image_id)
    return found


def find_visible_template(ctx, image_id, own_only=False):
    """Return the template behind an AMI id that the caller owns or can launch.

    Raises InvalidAMIID.NotFound for an id the caller cannot see.  With
    own_only, an image the caller can launch but does not own raises
    UnauthorizedOperation.
    """
    template_id = ids.resolve_one(ctx, ids.IMAGE, image_id, errors.InvalidAMIIDNotFound)
    own = lookup_template(ctx, template_id, "self")
    if own is not None:
        return own
    launchable = lookup_template(ctx, template_id, "executable")
    if launchable is not None and own_only:
        raise errors.PermissionDenied(
            "The image '%s' belongs to another account; only its owner can change it."
            % image_id)
    if launchable is None:
        raise errors.InvalidAMIIDNotFound("The image id '[%s]' does not exist" % image_id)
    return launchable


def visible_templates(ctx):
    """Return the templates the caller can see, the ids of its own ones and
    the ids of those it can launch.

    The caller's own templates are listed separately because CloudStack's
    `executable` filter leaves out templates that are not ready yet, such
    as one that RegisterImage is still downloading.
    """
    own = list_templates(ctx, template_filter="self")
    launchable = list_templates(ctx, template_filter="executable")
    by_id = {t["id"]: t for t in own}
    for template in launchable:
        by_id.setdefault(template["id"], template)
    return list(by_id.values()), {t["id"] for t in own}, {t["id"] for t in launchable}


def root_device_mapping(template):
    """Return a template's block device mapping: its root disk, sized in GiB when known."""
    size = template.get("size")
    ebs = {"volumeSize": int(math.ceil(size / GIB)) if size else None,
           "deleteOnTermination": True}
    return [{"deviceName": ROOT_DEVICE_NAME, "ebs": ebs}]


def image_state(template):
    if template.get("isready"):
        return "available"
    # CloudStack reports a failed download or creation only in the status text.
    status = str(template.get("status") or "").lower()
    if "fail" in status or "error" in status:
        return "failed"
    return "pending"


def image_item(ctx, template, image_id):
    platform = "windows" if "windows" in str(template.get("ostypename", "")).lower() else None
    return {
        "imageId": image_id,
        "imageLocation": "%s/%s" % (template.get("account", ""), template.get("name", "")),
        "imageState": image_state(template),
        "imageOwnerId": template.get("account", ""),
        "isPublic": bool(template.get("ispublic")),
        "architecture": architecture_of(template),
        "imageType": "machine",
        "platform": platform,
        "name": template.get("name"),
        "description": template.get("displaytext"),
        "rootDeviceType": "ebs",
        "rootDeviceName": ROOT_DEVICE_NAME,
        "blockDeviceMapping": root_device_mapping(template),
        "virtualizationType": "hvm",
        "tagSet": tag_set(template),
        "hypervisor": str(template.get("hypervisor", "")).lower() or None,
        "_tags": tag_dict(template),
    }


def public_view(item):
    return {k: v for k, v in item.items() if not k.startswith("_")}


def keep_owned_by(templates, owners, own_ids):
    """Keep the templates of any of the owners: `self` or CloudStack account names."""
    accounts = {o for o in owners if o != "self"}
    return [t for t in templates
            if ("self" in owners and t["id"] in own_ids) or t.get("account") in accounts]


def check_executable_by(executable_by):
    unknown = [e for e in executable_by if e not in EXECUTABLE_BY_VALUES]
    if unknown:
        raise errors.InvalidParameterValue(
            "ExecutableBy '%s' is not supported: use 'all' (public images) or 'self' "
            "(images you can launch)." % ", ".join(unknown))


def keep_executable_by(templates, executable_by, launchable_ids):
    return [t for t in templates
            if ("all" in executable_by and t.get("ispublic"))
            or ("self" in executable_by and t["id"] in launchable_ids)]


@action("DescribeImages")
def describe_images(ctx):
    image_ids = ctx.params.strings("ImageId")
    owners = ctx.params.strings("Owner")
    executable_by = ctx.params.strings("ExecutableBy")
    filters = ctx.params.filters()
    validate_filters(filters, IMAGE_FILTERS, "DescribeImages")
    check_executable_by(executable_by)

    wanted = ids.resolve(ctx, ids.IMAGE, image_ids, errors.InvalidAMIIDNotFound)
    templates, own_ids, launchable_ids = visible_templates(ctx)
    if wanted:
        by_id = {t["id"]: t for t in templates}
        missing = [given for given, cs_id in wanted.items() if cs_id not in by_id]
        if missing:
            raise errors.InvalidAMIIDNotFound(
                "The image id '[%s]' does not exist" % ", ".join(missing))
        templates = [by_id[cs_id] for cs_id in dict.fromkeys(wanted.values())]
    if owners:
        templates = keep_owned_by(templates, owners, own_ids)
    if executable_by:
        templates = keep_executable_by(templates, executable_by, launchable_ids)

    image_ids_by_template = ids.to_ec2(ctx, ids.IMAGE, [t["id"] for t in templates])
    items = [image_item(ctx, t, image_ids_by_template[t["id"]]) for t in templates]
    items = apply_filters(items, filters, IMAGE_FILTERS, "DescribeImages")
    return {"imagesSet": [public_view(i) for i in items]}
