"""Image attributes: launch permissions and descriptions of CloudStack templates.

An EC2 launch permission for a user is a CloudStack template permission for
an account (UserId carries the CloudStack account name), and the `all`
group is the template's `ispublic` flag.
"""

import logging

from cloudbridge import errors
from cloudbridge.ec2 import ids
from cloudbridge.ec2.core import action
from cloudbridge.ec2.images import find_visible_template, root_device_mapping

LOG = logging.getLogger(__name__)

PUBLIC_GROUP = "all"
DESCRIBABLE = ("launchPermission", "productCodes", "kernel", "ramdisk",
               "blockDeviceMapping", "description")
MODIFIABLE = ("launchPermission", "description")
RESETTABLE = ("launchPermission",)


def checked_attribute(ctx, supported):
    attribute = ctx.params.require("Attribute")
    if attribute not in supported:
        raise errors.InvalidParameterValue(
            "The attribute '%s' is not supported by %s; use one of %s."
            % (attribute, ctx.action, ", ".join(supported)))
    return attribute


def template_permissions(ctx, template_id):
    """Return (account names, is public) of a template's launch permissions."""
    found = ctx.cloudstack.request("listTemplatePermissions", id=template_id)
    permission = found.get("templatepermission") or {}
    if isinstance(permission, list):
        permission = permission[0] if permission else {}
    accounts = permission.get("account") or []
    if isinstance(accounts, str):
        accounts = [accounts]
    return list(accounts), bool(permission.get("ispublic"))


def launch_permission_items(accounts, public):
    items = [{"group": PUBLIC_GROUP}] if public else []
    items.extend({"userId": account} for account in accounts)
    return items


@action("DescribeImageAttribute")
def describe_image_attribute(ctx):
    image_id = ctx.params.require("ImageId")
    attribute = checked_attribute(ctx, DESCRIBABLE)
    template = find_visible_template(ctx, image_id)

    if attribute == "launchPermission":
        value = launch_permission_items(*template_permissions(ctx, template["id"]))
    elif attribute == "productCodes":
        value = []
    elif attribute == "blockDeviceMapping":
        value = root_device_mapping(template)
    elif attribute == "description":
        value = {"value": template.get("displaytext")}
    else:
        value = {}  # kernel and ramdisk: CloudStack templates have no separate ones
    return {"imageId": ids.to_ec2(ctx, ids.IMAGE, [template["id"]])[template["id"]],
            attribute: value}


# ModifyImageAttribute

class PermissionChange:
    """The accounts and the public flag that one operation adds or removes."""

    def __init__(self):
        self.accounts = []
        self.public = False

    def __bool__(self):
        return bool(self.accounts) or self.public

    def take(self, user_ids, groups):
        for group in groups:
            if group != PUBLIC_GROUP:
                raise errors.InvalidAMIAttributeItemValue(
                    "The launch permission group '%s' is invalid; the only group is 'all'."
                    % group)
            self.public = True
        for user_id in user_ids:
            if not user_id:
                raise errors.InvalidAMIAttributeItemValue(
                    "A launch permission UserId is empty; give a CloudStack account name.")
            if user_id not in self.accounts:
                self.accounts.append(user_id)


def launch_permission_changes(ctx):
    """Read the launch permission changes of either request form.

    The 2010-11-15 form is Attribute=launchPermission, OperationType=add|remove,
    UserId.N and UserGroup.N. Later versions send LaunchPermission.Add.N and
    LaunchPermission.Remove.N with UserId or Group.
    """
    params = ctx.params
    additions, removals = PermissionChange(), PermissionChange()
    user_ids, groups = params.strings("UserId"), params.strings("UserGroup")
    if user_ids or groups or params.get("OperationType"):
        operation = params.require("OperationType")
        if operation not in ("add", "remove"):
            raise errors.InvalidParameterValue(
                "OperationType '%s' is invalid; use add or remove." % operation)
        (additions if operation == "add" else removals).take(user_ids, groups)
    structured = params.structure("LaunchPermission")
    for key, change in (("Add", additions), ("Remove", removals)):
        members = structured.get(key) or []
        if not isinstance(members, list):
            raise errors.InvalidParameterValue(
                "LaunchPermission.%s must be a numbered list (LaunchPermission.%s.1.UserId)."
                % (key, key))
        change.take([m.get("UserId") for m in members if "UserId" in m],
                    [m.get("Group") for m in members if "Group" in m])
    return additions, removals


def update_permissions(ctx, template_id, operation, change):
    """Apply one PermissionChange with a single updateTemplatePermissions call."""
    params = {"id": template_id}
    if change.accounts:
        params.update(op=operation, accounts=",".join(change.accounts))
    if change.public:
        params["ispublic"] = operation == "add"
    ctx.cloudstack.request("updateTemplatePermissions", **params)


def restore_permissions(ctx, template_id, accounts, public):
    try:
        ctx.cloudstack.request("updateTemplatePermissions", id=template_id, op="reset",
                               ispublic=public)
        if accounts:
            ctx.cloudstack.request("updateTemplatePermissions", id=template_id, op="add",
                                   accounts=",".join(accounts))
    except errors.EC2Error as exc:
        LOG.error("could not restore the launch permissions of template %s: %s",
                  template_id, exc)


def modify_launch_permission(ctx, template, additions, removals):
    if additions and removals:
        # Two CloudStack calls: the second one failing must not leave the first applied.
        before = template_permissions(ctx, template["id"])
        update_permissions(ctx, template["id"], "remove", removals)
        try:
            update_permissions(ctx, template["id"], "add", additions)
        except errors.EC2Error:
            restore_permissions(ctx, template["id"], *before)
            raise
    elif additions:
        update_permissions(ctx, template["id"], "add", additions)
    else:
        update_permissions(ctx, template["id"], "remove", removals)


def description_change(ctx):
    """Return the new description (Description.Value, or Attribute=description&Value=)."""
    value = ctx.params.structure("Description").get("Value")
    if value is None and ctx.params.get("Attribute") == "description":
        value = ctx.params.get("Value")
    return value


@action("ModifyImageAttribute")
def modify_image_attribute(ctx):
    image_id = ctx.params.require("ImageId")
    attribute = ctx.params.get("Attribute")
    if attribute == "productCodes" or ctx.params.strings("ProductCode"):
        raise errors.UnsupportedOperation("CloudStack templates have no product codes.")
    if attribute is not None:
        checked_attribute(ctx, MODIFIABLE)
    additions, removals = launch_permission_changes(ctx)
    description = description_change(ctx)
    if (additions or removals) and description is not None:
        raise errors.InvalidParameterCombination(
            "ModifyImageAttribute changes one attribute at a time: send the launch "
            "permission and the description in separate requests.")
    if not (additions or removals) and description is None:
        raise errors.MissingParameter(
            "The request must contain a launch permission to add or remove (UserId or "
            "UserGroup with OperationType, or LaunchPermission) or a Description.")

    template = find_visible_template(ctx, image_id, own_only=True)
    if description is not None:
        if not description.strip():
            raise errors.InvalidParameterValue(
                "The description is empty; CloudStack keeps a non-empty description.")
        ctx.cloudstack.request("updateTemplate", id=template["id"], displaytext=description)
    else:
        modify_launch_permission(ctx, template, additions, removals)
    return {"return": True}


@action("ResetImageAttribute")
def reset_image_attribute(ctx):
    image_id = ctx.params.require("ImageId")
    checked_attribute(ctx, RESETTABLE)
    template = find_visible_template(ctx, image_id, own_only=True)
    # op=reset drops every account permission, and ispublic=false removes the `all` group.
    ctx.cloudstack.request("updateTemplatePermissions", id=template["id"], op="reset",
                           ispublic=False)
    return {"return": True}
