"""AuthorizeSecurityGroupIngress and RevokeSecurityGroupIngress.

An EC2 permission (protocol, ports, several CIDRs and source groups)
becomes one CloudStack authorizeSecurityGroupIngress, which keeps one rule
per CIDR or source group.  Revoking finds those rule ids and revokes each.
Both actions check every permission before changing anything, and undo
their own changes when a CloudStack job fails, so a failed request leaves
the group as it was.
"""

import ipaddress
import logging
from dataclasses import dataclass, field

from cloudbridge import errors
from cloudbridge.cloudstack.client import JobTimeout
from cloudbridge.ec2 import ids
from cloudbridge.ec2.core import action
from cloudbridge.ec2.security_groups import list_groups, rule_ports, target_group
from cloudbridge.protocol.params import Structure

LOG = logging.getLogger(__name__)

PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp"}
MAX_PORT = 65535
MAX_ICMP = 255
# The ports that EC2 granted when the 2010-11-15 flat form named only a source group.
WHOLE_GROUP_GRANT = (("tcp", 0, MAX_PORT), ("udp", 0, MAX_PORT), ("icmp", -1, -1))


@dataclass
class Permission:
    """One requested permission: a protocol and port range with its sources."""

    protocol: str
    from_port: int
    to_port: int
    cidrs: list = field(default_factory=list)
    groups: list = field(default_factory=list)   # (account, group name) pairs

    def rule_keys(self):
        """Return the identity key of each CloudStack rule this permission expands to."""
        keys = [(self.protocol, self.from_port, self.to_port, "cidr", cidr)
                for cidr in self.cidrs]
        keys += [(self.protocol, self.from_port, self.to_port, "group", account, name)
                 for account, name in self.groups]
        return keys

    def describe(self):
        return "%s %s-%s" % (self.protocol, self.from_port, self.to_port)


def normal_cidr(value):
    """Return an IPv4 CIDR in canonical form, or raise InvalidPermission.Malformed."""
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        network = None
    if network is None or network.version != 4 or "/" not in value:
        raise errors.InvalidPermissionMalformed(
            "Invalid CIDR '%s': expected an IPv4 block such as 192.0.2.0/24." % value)
    return str(network)


def cloudstack_rule_key(rule):
    protocol, from_port, to_port = rule_ports(rule)
    if rule.get("securitygroupname"):
        return (protocol, from_port, to_port, "group", rule.get("account"),
                rule["securitygroupname"])
    cidr = rule.get("cidr", "")
    try:
        cidr = normal_cidr(cidr)
    except errors.InvalidPermissionMalformed:
        pass  # an IPv6 rule made outside CloudBridge: only an exact match can name it
    return (protocol, from_port, to_port, "cidr", cidr)


def _integer(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.InvalidParameterValue(
            "Value (%s) for parameter %s is invalid. Expected an integer." % (value, name))


def checked_ports(protocol, from_value, to_value, prefix):
    """Validate FromPort/ToPort (ICMP type/code for icmp) and return them as integers."""
    if from_value in (None, "") or to_value in (None, ""):
        raise errors.MissingParameter(
            "The request must contain %sFromPort and %sToPort for protocol %s "
            "(for icmp: the ICMP type and code, -1 for all)." % (prefix, prefix, protocol))
    from_port = _integer(from_value, prefix + "FromPort")
    to_port = _integer(to_value, prefix + "ToPort")
    if protocol == "icmp":
        if not (-1 <= from_port <= MAX_ICMP and -1 <= to_port <= MAX_ICMP):
            raise errors.InvalidParameterValue(
                "Invalid ICMP type %d or code %d: each must be -1 (all) or 0 to %d."
                % (from_port, to_port, MAX_ICMP))
        if from_port == -1 and to_port != -1:
            raise errors.InvalidParameterValue(
                "ICMP code %d needs an ICMP type; use type -1 only with code -1." % to_port)
        return from_port, to_port
    if not (0 <= from_port <= to_port <= MAX_PORT):
        raise errors.InvalidParameterValue(
            "Invalid port range %d-%d: ports must be 0 to %d, FromPort not above ToPort."
            % (from_port, to_port, MAX_PORT))
    return from_port, to_port


def checked_protocol(value, prefix):
    if value in (None, ""):
        raise errors.MissingParameter("The request must contain the parameter %sIpProtocol"
                                      % prefix)
    protocol = PROTOCOL_NUMBERS.get(value, value.lower())
    if protocol not in ("tcp", "udp", "icmp"):
        raise errors.InvalidParameterValue(
            "Invalid IP protocol '%s': CloudStack security group rules take tcp, udp or "
            "icmp (or 6, 17, 1)." % value)
    return protocol


class PermissionParser:
    """Reads the permissions of a request, in the IpPermissions.N form or the flat form."""

    def __init__(self, ctx, target, own_groups, check_sources):
        self.ctx = ctx
        self.target = target
        self.own_groups = own_groups
        # Authorize checks that own source groups exist; Revoke may name a deleted one.
        self.check_sources = check_sources

    def source_group(self, member, prefix):
        """Return (account, group name) of Groups.M: by GroupId, or GroupName and UserId.

        `member` is a params.Structure.
        """
        group_id = member.string("GroupId")
        if group_id:
            cloudstack_id = ids.resolve_one(self.ctx, ids.SECURITY_GROUP, group_id,
                                            errors.InvalidGroupNotFound)
            for group in self.own_groups:
                if group["id"] == cloudstack_id:
                    return group.get("account"), group.get("name")
            raise errors.InvalidGroupNotFound(
                "The security group '%s' does not exist" % group_id)
        name = member.string("GroupName")
        if not name:
            raise errors.MissingParameter(
                "Each %sGroups.M must contain GroupName or GroupId" % prefix)
        account = member.string("UserId") or self.target.get("account")
        if self.check_sources and account == self.target.get("account") and \
                not any(g.get("name") == name for g in self.own_groups):
            raise errors.InvalidGroupNotFound("The security group '%s' does not exist" % name)
        return account, name

    def permission(self, member, prefix):
        """Check one permission, a params.Structure, and return it as a Permission."""
        protocol = checked_protocol(member.string("IpProtocol"), prefix)
        from_port, to_port = checked_ports(protocol, member.string("FromPort"),
                                           member.string("ToPort"), prefix)
        cidrs = [normal_cidr(r.string("CidrIp", "")) for r in member.structures("IpRanges")]
        groups = [self.source_group(g, prefix) for g in member.structures("Groups")]
        if not cidrs and not groups:
            raise errors.MissingParameter(
                "%s must name at least one source: IpRanges.M.CidrIp or Groups.M.GroupName."
                % (prefix.rstrip(".") or "The permission"))
        return Permission(protocol, from_port, to_port,
                          list(dict.fromkeys(cidrs)), list(dict.fromkeys(groups)))

    def flat_permissions(self):
        """Read the 2010-11-15 flat form (IpProtocol, FromPort, ToPort, CidrIp and
        SourceSecurityGroupName/OwnerId)."""
        params = self.ctx.params
        source_name = params.get("SourceSecurityGroupName")
        if source_name and not params.get("IpProtocol"):
            # A group alone grants every port of every protocol, as EC2 did.
            member = {"GroupName": source_name,
                      "UserId": params.get("SourceSecurityGroupOwnerId")}
            source = self.source_group(Structure(member), "")
            return [Permission(protocol, low, high, groups=[source])
                    for protocol, low, high in WHOLE_GROUP_GRANT]
        protocol = checked_protocol(params.get("IpProtocol"), "")
        # boto 2 leaves out a port of 0, so a missing port is the end of the whole range.
        lowest, highest = (-1, -1) if protocol == "icmp" else (0, MAX_PORT)
        member = {"IpProtocol": protocol, "FromPort": params.get("FromPort") or lowest,
                  "ToPort": params.get("ToPort") or highest}
        if params.get("CidrIp"):
            member["IpRanges"] = [{"CidrIp": params.get("CidrIp")}]
        if source_name:
            member["Groups"] = [{"GroupName": source_name,
                                 "UserId": params.get("SourceSecurityGroupOwnerId")}]
        return [self.permission(Structure(member), "")]

    def permissions(self):
        members = self.ctx.params.structures("IpPermissions")
        flat = [name for name in ("IpProtocol", "CidrIp", "SourceSecurityGroupName")
                if self.ctx.params.get(name)]
        if members and flat:
            raise errors.InvalidParameterCombination(
                "Use either IpPermissions.N or the flat parameters (%s), not both."
                % ", ".join(flat))
        if not members:
            if not flat:
                raise errors.MissingParameter(
                    "The request must contain IpPermissions.N (or IpProtocol with CidrIp or "
                    "SourceSecurityGroupName).")
            return self.flat_permissions()
        return [self.permission(member, member.name + ".") for member in members]


def requested_rules(ctx, check_sources):
    """Return (target group, permissions) of an Authorize or Revoke request."""
    groups = list_groups(ctx)
    target = target_group(ctx, groups)
    return target, PermissionParser(ctx, target, groups, check_sources).permissions()


def authorize_params(group_name, permission):
    params = {"securitygroupname": group_name, "protocol": permission.protocol}
    if permission.protocol == "icmp":
        params["icmptype"] = permission.from_port
        params["icmpcode"] = permission.to_port
    else:
        params["startport"] = permission.from_port
        params["endport"] = permission.to_port
    if permission.cidrs:
        params["cidrlist"] = ",".join(permission.cidrs)
    for index, (account, name) in enumerate(permission.groups):
        params["usersecuritygrouplist[%d].account" % index] = account
        params["usersecuritygrouplist[%d].group" % index] = name
    return params


def run_jobs(ctx, command, calls):
    """Start one job per parameter set; return (results of the succeeded, first failure)."""
    jobs, failure = {}, None
    for params in calls:
        try:
            jobs[ctx.cloudstack.submit(command, **params)["jobid"]] = params
        except errors.EC2Error as exc:
            failure = exc
            break
    outcomes = ctx.cloudstack.wait_for_jobs({job: command for job in jobs}) if jobs else {}
    succeeded = []
    for job_id, params in jobs.items():
        outcome = outcomes[job_id]
        if isinstance(outcome, Exception):
            failure = failure or outcome
            if isinstance(outcome, JobTimeout):
                LOG.error("%s job %s did not finish; its rules may still change",
                          command, job_id)
        else:
            succeeded.append((params, outcome))
    return succeeded, failure


def revoke_rule_ids(ctx, rule_ids):
    return run_jobs(ctx, "revokeSecurityGroupIngress", [{"id": rule_id} for rule_id in rule_ids])


@action("AuthorizeSecurityGroupIngress")
def authorize_security_group_ingress(ctx):
    target, permissions = requested_rules(ctx, check_sources=True)
    existing = {cloudstack_rule_key(r) for r in target.get("ingressrule") or []}
    for permission in permissions:
        duplicates = [key for key in permission.rule_keys() if key in existing]
        if duplicates:
            raise errors.InvalidPermissionDuplicate(
                "The permission %s from %s already exists in security group '%s'."
                % (permission.describe(), duplicates[0][-1], target.get("name")))

    succeeded, failure = run_jobs(ctx, "authorizeSecurityGroupIngress",
                                  [authorize_params(target["name"], p) for p in permissions])
    if failure is not None:
        added = [rule["ruleid"] for _, result in succeeded
                 for rule in (result.get("securitygroup") or {}).get("ingressrule") or []]
        if added:
            LOG.info("revoking %d rules of a failed authorization in group %s",
                     len(added), target["id"])
            _, undo_failure = revoke_rule_ids(ctx, added)
            if undo_failure is not None:
                LOG.error("could not revoke rules %s of a failed authorization: %s",
                          added, undo_failure)
        # A source group of another account that does not exist fails inside
        # the job; the error table turns it into InvalidGroup.NotFound.
        raise failure
    return {"return": True}


def restore_rules(ctx, group_name, rules):
    """Authorize again the rules a failed revocation removed."""
    calls = []
    for rule in rules:
        protocol, from_port, to_port = rule_ports(rule)
        permission = Permission(protocol, from_port, to_port)
        if rule.get("securitygroupname"):
            permission.groups.append((rule.get("account"), rule["securitygroupname"]))
        else:
            permission.cidrs.append(rule.get("cidr"))
        calls.append(authorize_params(group_name, permission))
    _, failure = run_jobs(ctx, "authorizeSecurityGroupIngress", calls)
    if failure is not None:
        LOG.error("could not restore rules of group %s after a failed revocation: %s",
                  group_name, failure)


@action("RevokeSecurityGroupIngress")
def revoke_security_group_ingress(ctx):
    target, permissions = requested_rules(ctx, check_sources=False)
    rules_by_key = {}
    for rule in target.get("ingressrule") or []:
        rules_by_key.setdefault(cloudstack_rule_key(rule), []).append(rule)
    chosen = []
    for permission in permissions:
        for key in permission.rule_keys():
            if key not in rules_by_key:
                raise errors.InvalidPermissionNotFound(
                    "The permission %s from %s does not exist in security group '%s'."
                    % (permission.describe(), key[-1], target.get("name")))
            chosen.extend(rules_by_key.pop(key))

    succeeded, failure = revoke_rule_ids(ctx, [rule["ruleid"] for rule in chosen])
    if failure is not None:
        revoked = {params["id"] for params, _ in succeeded}
        restore_rules(ctx, target["name"], [r for r in chosen if r["ruleid"] in revoked])
        raise failure
    return {"return": True}
