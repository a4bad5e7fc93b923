"""Security groups: CreateSecurityGroup, DeleteSecurityGroup, DescribeSecurityGroups.

CloudStack keeps security groups per account, so a caller sees only the
groups of its own account and the EC2 ownerId is the CloudStack account
name.  In Version 2010-11-15 groups are known by name only; later versions
add the `sg-` id.  The ingress rules are in security_group_rules.py.
"""

import logging

from cloudbridge import errors
from cloudbridge.cloudstack.errors import CloudStackError, translate
from cloudbridge.ec2 import ids
from cloudbridge.ec2.core import action
from cloudbridge.ec2.filters import TAGS, apply_filters, validate_filters
from cloudbridge.ec2.tags import tag_dict, tag_set

LOG = logging.getLogger(__name__)

DEFAULT_GROUP = "default"
MAX_NAME_LENGTH = 255
# CloudStack's errorcode for RESOURCE_IN_USE_ERROR.
RESOURCE_IN_USE = 536
# EC2's display of a CloudStack rule on every protocol ("all").
ALL_PROTOCOLS = "-1"


def list_groups(ctx, name=None):
    """Return the caller's own security groups (CloudStack lists no others without listall)."""
    return ctx.cloudstack.list("listSecurityGroups", "securitygroup", securitygroupname=name)


def find_group(ctx, groups, name=None, group_id=None):
    """Return the group with this name or EC2/CloudStack id, or raise InvalidGroup.NotFound."""
    if group_id:
        cloudstack_id = ids.resolve_one(ctx, ids.SECURITY_GROUP, group_id,
                                        errors.InvalidGroupNotFound)
        found = [g for g in groups if g["id"] == cloudstack_id]
        given = group_id
    else:
        found = [g for g in groups if g.get("name") == name]
        given = name
    if not found:
        raise errors.InvalidGroupNotFound("The security group '%s' does not exist" % given)
    return found[0]


def target_group(ctx, groups):
    """Return the group named by GroupName or GroupId in the request."""
    name = ctx.params.get("GroupName")
    group_id = ctx.params.get("GroupId")
    if not name and not group_id:
        raise errors.MissingParameter("The request must contain the parameter GroupName "
                                      "or GroupId")
    return find_group(ctx, groups, name=name, group_id=group_id)


def rule_ports(rule):
    """Return (EC2 protocol, fromPort, toPort) of a CloudStack ingress rule.

    For icmp EC2 puts the ICMP type and code where the ports are.
    """
    protocol = str(rule.get("protocol", "")).lower()
    if protocol == "icmp":
        return protocol, int(rule.get("icmptype", -1)), int(rule.get("icmpcode", -1))
    if protocol in ("tcp", "udp"):
        return protocol, int(rule.get("startport", 0)), int(rule.get("endport", 0))
    if protocol == "all":
        return ALL_PROTOCOLS, -1, -1
    return protocol, -1, -1


class GroupView:
    """Renders CloudStack security groups as EC2 items for one request.

    `groups` are all of the caller's groups, so that rules naming any of them
    as their source can show its id.
    """

    def __init__(self, ctx, groups):
        self.ctx = ctx
        self.group_ids = ids.to_ec2(ctx, ids.SECURITY_GROUP, [g["id"] for g in groups])
        # Rules name their source group by account and name; ids are known for own groups.
        self.ids_by_name = {(g.get("account"), g.get("name")): self.group_ids[g["id"]]
                            for g in groups}

    def source_group(self, rule):
        pair = {"userId": rule.get("account", ""), "groupName": rule.get("securitygroupname")}
        if not self.ctx.uses_base_version:
            pair = {"userId": pair["userId"],
                    "groupId": self.ids_by_name.get((rule.get("account"),
                                                     rule.get("securitygroupname"))),
                    "groupName": pair["groupName"]}
        return pair

    def permissions(self, group):
        """Merge CloudStack rules (one source each) into EC2 permissions per protocol and ports."""
        merged = {}
        for rule in group.get("ingressrule") or []:
            protocol, from_port, to_port = rule_ports(rule)
            permission = merged.setdefault((protocol, from_port, to_port), {
                "ipProtocol": protocol, "fromPort": from_port, "toPort": to_port,
                "groups": [], "ipRanges": []})
            if rule.get("securitygroupname"):
                permission["groups"].append(self.source_group(rule))
            elif rule.get("cidr"):
                permission["ipRanges"].append({"cidrIp": rule["cidr"]})
        return list(merged.values())

    def item(self, group):
        if self.ctx.uses_base_version:
            return {
                "ownerId": group.get("account", ""),
                "groupName": group.get("name"),
                "groupDescription": group.get("description") or "",
                "ipPermissions": self.permissions(group),
            }
        return {
            "ownerId": group.get("account", ""),
            "groupId": self.group_ids[group["id"]],
            "groupName": group.get("name"),
            "groupDescription": group.get("description") or "",
            "ipPermissions": self.permissions(group),
            "tagSet": tag_set(group),
        }


def _permission_values(field):
    return lambda row: [p[field] for p in row["permissions"]]


# The DescribeSecurityGroups filter table, over rows of
# {"group": CloudStack group, "id": EC2 id, "permissions": EC2 permissions}.
GROUP_FILTERS = {
    "description": lambda row: row["group"].get("description") or "",
    "group-id": lambda row: row["id"],
    "group-name": lambda row: row["group"].get("name"),
    "owner-id": lambda row: row["group"].get("account", ""),
    "ip-permission.cidr": lambda row: [r["cidrIp"] for p in row["permissions"]
                                       for r in p["ipRanges"]],
    "ip-permission.from-port": _permission_values("fromPort"),
    "ip-permission.to-port": _permission_values("toPort"),
    "ip-permission.protocol": _permission_values("ipProtocol"),
    "ip-permission.group-name": lambda row: [g["groupName"] for p in row["permissions"]
                                             for g in p["groups"]],
    "ip-permission.user-id": lambda row: [g["userId"] for p in row["permissions"]
                                          for g in p["groups"]],
    TAGS: lambda row: tag_dict(row["group"]),
}


@action("DescribeSecurityGroups")
def describe_security_groups(ctx):
    names = ctx.params.strings("GroupName")
    group_ids = ctx.params.strings("GroupId")
    filters = ctx.params.filters()
    validate_filters(filters, GROUP_FILTERS, "DescribeSecurityGroups")
    requested_ids = ids.resolve(ctx, ids.SECURITY_GROUP, group_ids, errors.InvalidGroupNotFound)

    all_groups = groups = list_groups(ctx)
    if names or requested_ids:
        by_name = {g.get("name"): g for g in groups}
        by_id = {g["id"]: g for g in groups}
        missing = [n for n in names if n not in by_name]
        missing += [given for given, cs_id in requested_ids.items() if cs_id not in by_id]
        if missing:
            raise errors.InvalidGroupNotFound(
                "The security group '%s' does not exist" % ", ".join(missing))
        chosen = {by_name[n]["id"] for n in names} | set(requested_ids.values())
        groups = [g for g in groups if g["id"] in chosen]

    view = GroupView(ctx, all_groups)
    rows = [{"group": g, "id": view.group_ids[g["id"]], "item": view.item(g)} for g in groups]
    for row in rows:
        row["permissions"] = row["item"]["ipPermissions"]
    rows = apply_filters(rows, filters, GROUP_FILTERS, "DescribeSecurityGroups")
    return {"securityGroupInfo": [row["item"] for row in rows]}


@action("CreateSecurityGroup")
def create_security_group(ctx):
    name = ctx.params.require("GroupName")
    description = ctx.params.require("GroupDescription")
    if ctx.params.get("VpcId"):
        raise errors.UnsupportedOperation(
            "CloudStack has no VPC security groups; create the group without VpcId.")
    if len(name) > MAX_NAME_LENGTH or len(description) > MAX_NAME_LENGTH:
        raise errors.InvalidParameterValue(
            "GroupName and GroupDescription are limited to %d characters." % MAX_NAME_LENGTH)
    if name.lower().startswith("sg-"):
        raise errors.InvalidParameterValue(
            "Invalid security group name '%s': a name cannot start with sg-." % name)
    if name == DEFAULT_GROUP:
        raise errors.InvalidGroupReserved(
            "The security group name '%s' is reserved." % DEFAULT_GROUP)
    if list_groups(ctx, name=name):
        raise errors.InvalidGroupDuplicate("The security group '%s' already exists" % name)

    created = ctx.cloudstack.request("createSecurityGroup", name=name,
                                     description=description)["securitygroup"]
    LOG.info("created security group %s (%s)", name, created.get("id"))
    if ctx.uses_base_version:
        return {"return": True}
    group_id = ids.to_ec2(ctx, ids.SECURITY_GROUP, [created["id"]])[created["id"]]
    return {"return": True, "groupId": group_id}


@action("DeleteSecurityGroup")
def delete_security_group(ctx):
    group = target_group(ctx, list_groups(ctx))
    if group.get("name") == DEFAULT_GROUP:
        raise errors.InvalidGroupReserved(
            "The security group '%s' is the account's default group and cannot be deleted."
            % DEFAULT_GROUP)
    try:
        ctx.cloudstack.request_raw("deleteSecurityGroup", id=group["id"])
    except CloudStackError as exc:
        if exc.errorcode == RESOURCE_IN_USE:
            raise errors.InvalidGroupInUse(
                "The security group '%s' is in use by instances (terminated instances keep "
                "it until CloudStack expunges them)." % group.get("name")) from exc
        raise translate(exc) from exc
    LOG.info("deleted security group %s (%s)", group.get("name"), group["id"])
    return {"return": True}
