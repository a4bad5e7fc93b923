"""Images: CloudStack templates shown as AMIs."""

from cloudbridge import errors
from cloudbridge.ec2 import ids
from cloudbridge.ec2.core import action
from cloudbridge.ec2.filters import TAGS, apply_filters, validate_filters
from cloudbridge.ec2.tags import tag_dict, tag_set

ROOT_DEVICE_NAME = "/dev/sda1"


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


def list_templates(ctx, template_id=None, template_filter="executable"):
    templates = ctx.cloudstack.list("listTemplates", "template",
                                    templatefilter=template_filter, id=template_id)
    # CloudStack lists a template once per zone: keep one entry per id.
    unique = {}
    for template in templates:
        unique.setdefault(template["id"], template)
    return list(unique.values())


def find_template(ctx, image_id):
    """Return the CloudStack template behind an AMI id, or raise InvalidAMIID.NotFound."""
    template_id = ids.resolve_one(ctx, ids.IMAGE, image_id, errors.InvalidAMIIDNotFound)
    try:
        found = list_templates(ctx, template_id=template_id)
    except errors.InvalidParameterValue:
        found = []
    if not found:
        raise errors.InvalidAMIIDNotFound("The image id '[%s]' does not exist" % image_id)
    return found[0]


def image_item(ctx, template, image_id):
    platform = "windows" if "windows" in str(template.get("ostypename", "")).lower() else None
    return {
        "imageId": image_id,
        "imageLocation": "%s/%s" % (template.get("account", ""), template.get("name", "")),
        "imageState": "available" if template.get("isready") else "pending",
        "imageOwnerId": template.get("account", ""),
        "isPublic": bool(template.get("ispublic")),
        "architecture": architecture_of(template),
        "imageType": "machine",
        "platform": platform,
        "name": template.get("name"),
        "description": template.get("displaytext"),
        "rootDeviceType": "ebs",
        "rootDeviceName": ROOT_DEVICE_NAME,
        "blockDeviceMapping": [],
        "virtualizationType": "hvm",
        "tagSet": tag_set(template),
        "hypervisor": str(template.get("hypervisor", "")).lower() or None,
        "_tags": tag_dict(template),
    }


def public_view(item):
    return {k: v for k, v in item.items() if not k.startswith("_")}


@action("DescribeImages")
def describe_images(ctx):
    image_ids = ctx.params.strings("ImageId")
    owners = ctx.params.strings("Owner")
    executable_by = ctx.params.strings("ExecutableBy")
    filters = ctx.params.filters()
    validate_filters(filters, IMAGE_FILTERS, "DescribeImages")

    wanted = ids.resolve(ctx, ids.IMAGE, image_ids, errors.InvalidAMIIDNotFound)
    template_filter = "self" if owners and set(owners) <= {"self"} else "executable"
    templates = list_templates(ctx, template_filter=template_filter)
    if wanted:
        by_id = {t["id"]: t for t in templates}
        missing = [given for given, cs_id in wanted.items() if cs_id not in by_id]
        if missing:
            raise errors.InvalidAMIIDNotFound(
                "The image id '[%s]' does not exist" % ", ".join(missing))
        templates = [by_id[cs_id] for cs_id in wanted.values()]

    image_ids_by_template = ids.to_ec2(ctx, ids.IMAGE, [t["id"] for t in templates])
    items = [image_item(ctx, t, image_ids_by_template[t["id"]]) for t in templates]
    other_owners = [o for o in owners if o not in ("self", "all")]
    if other_owners:
        items = [i for i in items if i["imageOwnerId"] in other_owners]
    if "all" in executable_by:
        items = [i for i in items if i["isPublic"]]
    items = apply_filters(items, filters, IMAGE_FILTERS, "DescribeImages")
    return {"imagesSet": [public_view(i) for i in items]}
