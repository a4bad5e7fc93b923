"""RunInstances: one deployVirtualMachine per instance, idempotent by ClientToken."""

import base64
import binascii
import hashlib
import json
import logging
import time
import uuid

from cloudbridge import errors
from cloudbridge.cloudstack.client import JobTimeout
from cloudbridge.ec2 import ids
from cloudbridge.ec2.core import action
from cloudbridge.ec2.images import find_template
from cloudbridge.ec2.instances import list_vms, make_view
from cloudbridge.ec2.security_groups import list_groups
from cloudbridge.ec2.tag_actions import check_not_reserved, tag_pairs
from cloudbridge.ec2.tags import cloudstack_tag_params
from cloudbridge.ec2.zones import find_zone, is_basic
from cloudbridge.store import StoreError

LOG = logging.getLogger(__name__)

DEFAULT_INSTANCE_TYPE = "m1.small"
# EC2 accepts at most 16 KB of user data before base64 encoding.
MAX_USER_DATA_BYTES = 16 * 1024
# The store's name for the user data a VM was launched with.
USER_DATA = "userData"
# A claimed ClientToken whose launch has recorded no reservation after this
# long belongs to a server that died mid-launch; another request takes it over.
CLAIM_LEASE_SECONDS = 300
# The most VMs one RunInstances starts: CloudStack sets no limit for root
# administrators, and each VM is one deploy job.
MAX_LAUNCH_COUNT = 100
# EC2's limit on the length of a ClientToken.
MAX_CLIENT_TOKEN_LENGTH = 64
# Parameters that sign or address the request rather than describe the launch.
NOT_LAUNCH_PARAMETERS = {"AWSAccessKeyId", "Action", "Signature", "SignatureMethod",
                         "SignatureVersion", "Timestamp", "Expires", "Version",
                         "ClientToken", "X-Amz-Algorithm", "X-Amz-Credential",
                         "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature",
                         "X-Amz-Security-Token"}


def launch_digest(params_tree):
    launch = {k: v for k, v in params_tree.items() if k not in NOT_LAUNCH_PARAMETERS}
    return hashlib.sha256(json.dumps(launch, sort_keys=True).encode()).hexdigest()


def new_reservation_id():
    return "%s-%s" % (ids.RESERVATION, uuid.uuid4().hex[:17])


def checked_user_data(value):
    if not value:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise errors.InvalidParameterValue("Invalid BASE64 encoding of user data.")
    if len(raw) > MAX_USER_DATA_BYTES:
        raise errors.InvalidParameterValue(
            "User data is limited to %d bytes." % MAX_USER_DATA_BYTES)
    return value


def find_offering(ctx, instance_type):
    """Return the CloudStack service offering id mapped to an instance type."""
    offering_id = ctx.store.offering_map().get(instance_type)
    if offering_id is None:
        raise errors.InvalidParameterValue(
            "The instance type '%s' is not available: no CloudStack service offering "
            "is mapped to it (an administrator maps one with SetOfferMapping)." % instance_type)
    try:
        found = ctx.cloudstack.list("listServiceOfferings", "serviceoffering", id=offering_id)
    except errors.InvalidParameterValue:
        found = []
    if not found:
        LOG.warning("instance type %s is mapped to service offering %s, which CloudStack "
                    "does not list", instance_type, offering_id)
        raise errors.InvalidParameterValue(
            "The instance type '%s' is not available: its service offering no longer "
            "exists in CloudStack." % instance_type)
    return offering_id


def find_network(ctx, zone):
    """Return the guest network id for a VM in an Advanced zone, creating one if needed."""
    # Without listall, CloudStack lists only the caller's own networks, even
    # for an administrator.
    networks = ctx.cloudstack.list("listNetworks", "network", zoneid=zone["id"],
                                   canusefordeploy=True)
    isolated = [n for n in networks if str(n.get("type", "")).lower() == "isolated"]
    chosen = (isolated or networks or [None])[0]
    if chosen is not None:
        return chosen["id"]
    offerings = []
    for availability in ("Required", "Optional"):
        offerings = ctx.cloudstack.list("listNetworkOfferings", "networkoffering",
                                        zoneid=zone["id"], availability=availability,
                                        guestiptype="Isolated", state="Enabled")
        if offerings:
            break
    if not offerings:
        raise errors.InvalidParameterValue(
            "The zone %s has no network for this account and no network offering "
            "to create one." % zone["name"])
    account = ctx.cloudstack.list("listAccounts", "account")
    name = "%s-network" % (account[0]["name"] if account else "ec2")
    created = ctx.cloudstack.request("createNetwork", name=name, displaytext=name,
                                     zoneid=zone["id"], networkofferingid=offerings[0]["id"])
    return created["network"]["id"]


def instance_tags(ctx):
    """Return the tags of TagSpecification.N for ResourceType instance as [(key, value)]."""
    pairs = []
    for spec in ctx.params.structures("TagSpecification"):
        resource_type = spec.get("ResourceType")
        if resource_type != "instance":
            raise errors.InvalidParameterValue(
                "TagSpecification ResourceType '%s' is not supported; CloudBridge tags the "
                "instances of a launch (ResourceType instance)." % resource_type)
        members = spec.get("Tag") if isinstance(spec.get("Tag"), list) else []
        pairs.extend(tag_pairs(members, ""))
    check_not_reserved(pairs)
    return list(dict(pairs).items())  # a key given twice takes its last value


def tag_instances(ctx, vm_ids, pairs):
    """Tag the launched VMs; a failure fails the launch, as in EC2."""
    ctx.cloudstack.run_job("createTags", resourcetype="UserVm", resourceids=",".join(vm_ids),
                           **cloudstack_tag_params(pairs))


def check_template_zone(ctx, template, image_id, zone):
    """Raise InvalidParameterValue unless the template is ready in the zone."""
    # CloudStack lists a template once per zone it is in.
    entries = ctx.cloudstack.list("listTemplates", "template", templatefilter="executable",
                                  id=template["id"])
    ready = {e.get("zoneid"): e.get("zonename") for e in entries if e.get("isready")}
    if zone["id"] not in ready:
        where = ", ".join(sorted(n for n in ready.values() if n)) or "no zone yet"
        raise errors.InvalidParameterValue(
            "The image '%s' is not available in zone %s; it is ready in: %s."
            % (image_id, zone["name"], where))


def launch_parameters(ctx):
    """Validate the request and turn it into deployVirtualMachine parameters."""
    params = ctx.params
    image_id = params.require("ImageId")
    min_count = params.integer("MinCount", 1, minimum=1)
    max_count = params.integer("MaxCount", 1, minimum=1)
    if min_count > max_count:
        raise errors.InvalidParameterValue(
            "MinCount (%d) must not be greater than MaxCount (%d)." % (min_count, max_count))
    if min_count > MAX_LAUNCH_COUNT:
        raise errors.InstanceLimitExceeded(
            "One RunInstances launches at most %d instances; MinCount is %d."
            % (MAX_LAUNCH_COUNT, min_count))
    max_count = min(max_count, MAX_LAUNCH_COUNT)
    user_data = checked_user_data(params.get("UserData"))
    instance_type = params.get("InstanceType") or DEFAULT_INSTANCE_TYPE
    group_names = params.strings("SecurityGroup")
    group_ids = params.strings("SecurityGroupId")

    zone = find_zone(ctx, params.structure("Placement").string("AvailabilityZone"))
    template = find_template(ctx, image_id)
    check_template_zone(ctx, template, image_id, zone)
    deploy = {
        "zoneid": zone["id"],
        "templateid": template["id"],
        "serviceofferingid": find_offering(ctx, instance_type),
        "keypair": params.get("KeyName"),
        "userdata": user_data,
    }
    if params.get("KeyName"):
        keys = ctx.cloudstack.list("listSSHKeyPairs", "sshkeypair", name=params.get("KeyName"))
        if not any(k.get("name") == params.get("KeyName") for k in keys):
            raise errors.InvalidKeyPairNotFound(
                "The key pair '%s' does not exist" % params.get("KeyName"))
    if is_basic(zone) or zone.get("securitygroupsenabled"):
        if group_names:
            known = {g.get("name") for g in list_groups(ctx)}
            unknown = [name for name in group_names if name not in known]
            if unknown:
                raise errors.InvalidGroupNotFound(
                    "The security group '%s' does not exist" % ", ".join(unknown))
            deploy["securitygroupnames"] = ",".join(group_names)
        if group_ids:
            resolved = ids.resolve(ctx, ids.SECURITY_GROUP, group_ids, errors.InvalidGroupNotFound)
            deploy["securitygroupids"] = ",".join(resolved.values())
    elif group_names or group_ids:
        raise errors.InvalidParameterValue(
            "Security groups are not available in zone %s; launch without SecurityGroup."
            % zone["name"])
    if not is_basic(zone):
        deploy["networkids"] = find_network(ctx, zone)
    return deploy, min_count, max_count


def destroy_quietly(ctx, vm_ids):
    """Destroy VMs of a failed launch, so that it leaves nothing behind."""
    jobs = {}
    for vm_id in vm_ids:
        try:
            jobs[ctx.cloudstack.submit("destroyVirtualMachine", id=vm_id)["jobid"]] = vm_id
        except errors.EC2Error as exc:
            LOG.error("could not destroy VM %s of a failed launch: %s", vm_id, exc)
    for job_id, outcome in ctx.cloudstack.wait_for_jobs(
            {job: "destroyVirtualMachine" for job in jobs}).items():
        if isinstance(outcome, Exception):
            LOG.error("could not destroy VM %s of a failed launch: %s", jobs[job_id], outcome)


def submit_deploys(ctx, deploy, min_count, max_count):
    """Start up to max_count deployVirtualMachine jobs; return [(job id, VM id)].

    When CloudStack refuses a VM because the account reached its limit, the
    launch goes on with the VMs already accepted if they are at least
    min_count, as EC2 launches fewer than MaxCount within the quota.  Any
    other refusal destroys the VMs already accepted and raises.
    """
    submitted = []
    try:
        for _ in range(max_count):
            started = ctx.cloudstack.submit("deployVirtualMachine", **deploy)
            submitted.append((started["jobid"], started["id"]))
    except errors.EC2Error as exc:
        limited = exc.code == "InstanceLimitExceeded"
        if limited and len(submitted) >= min_count:
            LOG.info("instance limit reached after %d of %d VMs: %s",
                     len(submitted), max_count, exc.message)
        else:
            if submitted:
                destroy_quietly(ctx, [vm_id for _, vm_id in submitted])
            if limited:
                raise errors.InstanceLimitExceeded(
                    "Your instance limit allows fewer than the %d instances requested "
                    "(MinCount)." % min_count) from exc
            raise
    return submitted


def wait_for_deploys(ctx, submitted, min_count):
    """Wait for the deploy jobs; return the VM ids that launched or are still pending.

    Failed VMs are destroyed.  If fewer than min_count remain, all are
    destroyed and the first failure is raised.
    """
    outcomes = ctx.cloudstack.wait_for_jobs(
        {job_id: "deployVirtualMachine" for job_id, _ in submitted})
    launched, failed, first_failure = [], [], None
    for job_id, vm_id in submitted:
        outcome = outcomes[job_id]
        if isinstance(outcome, Exception) and not isinstance(outcome, JobTimeout):
            failed.append(vm_id)
            first_failure = first_failure or outcome
        else:
            launched.append(vm_id)
    if len(launched) < min_count:
        destroy_quietly(ctx, launched + failed)
        raise first_failure
    if failed:
        destroy_quietly(ctx, failed)
    return launched


def wait_for_other_launch(ctx, token, digest):
    """Return the reservation another request launched under the same ClientToken.

    Returns None when this request holds the token and must launch: it
    claimed a new token, the other launch failed and released it, or the
    other claim is older than CLAIM_LEASE_SECONDS without a reservation (its
    server died) and this request took it over.
    """
    deadline = time.monotonic() + ctx.config.async_job_timeout
    while True:
        record = ctx.store.claim_client_token(ctx.access_key, token, digest)
        if record is None:
            return None
        if record.request_digest != digest:
            raise errors.IdempotentParameterMismatch(
                "The client token '%s' was already used with different parameters." % token)
        if record.reservation_id:
            return record.reservation_id
        if ctx.store.take_over_client_token(ctx.access_key, token, digest, CLAIM_LEASE_SECONDS):
            LOG.warning("client token %s of %s had a stale claim; launching again",
                        token, ctx.access_key)
            return None
        if time.monotonic() >= deadline:
            raise errors.IncorrectState(
                "A launch with client token '%s' is still in progress; retry later." % token)
        time.sleep(ctx.config.async_poll_interval)


def record_launch(ctx, token, deploy, submitted):
    """Record the reservation of submitted VMs (and complete the token) before waiting.

    Recording first means that a request failing later, even with
    CloudStack or the store gone, is retried with the same token without
    launching twice, and that every server shows the reservation at once.
    """
    vm_ids = [vm_id for _, vm_id in submitted]
    reservation_id = new_reservation_id()
    ctx.store.add_reservation(reservation_id, ctx.access_key, vm_ids)
    # CloudStack does not return user data: keep it for DescribeInstanceAttribute.
    for vm_id in vm_ids:
        ctx.store.set_details(ids.INSTANCE, vm_id, {USER_DATA: deploy.get("userdata") or ""})
    if token:
        ctx.store.complete_client_token(ctx.access_key, token, reservation_id)
    return reservation_id


def release_quietly(ctx, token):
    try:
        ctx.store.release_client_token(ctx.access_key, token)
    except StoreError as exc:
        LOG.error("could not release client token %s of %s: %s", token, ctx.access_key, exc)


def reservation_response(ctx, reservation_id, vm_ids):
    by_id = {vm["id"]: vm for vm in list_vms(ctx)}
    vms = [by_id[vm_id] for vm_id in vm_ids if vm_id in by_id]
    view = make_view(ctx, vms)
    reservations = view.reservation_list()
    instances = reservations[0]["instancesSet"] if reservations else []
    groups = reservations[0]["groupSet"] if reservations else []
    return {
        "reservationId": reservation_id,
        "ownerId": vms[0].get("account", "") if vms else "",
        "groupSet": groups,
        "instancesSet": instances,
    }


@action("RunInstances")
def run_instances(ctx):
    token = ctx.params.get("ClientToken") or None
    if token is not None and len(token) > MAX_CLIENT_TOKEN_LENGTH:
        raise errors.InvalidParameterValue(
            "ClientToken must be at most %d characters long." % MAX_CLIENT_TOKEN_LENGTH)
    digest = launch_digest(ctx.params.tree)
    if token:
        existing = wait_for_other_launch(ctx, token, digest)
        if existing is not None:
            return reservation_response(ctx, existing, ctx.store.reservation_members(existing))

    submitted = []
    try:
        tags = instance_tags(ctx)
        deploy, min_count, max_count = launch_parameters(ctx)
        submitted = submit_deploys(ctx, deploy, min_count, max_count)
        if tags:
            tag_instances(ctx, [vm_id for _, vm_id in submitted], tags)
        reservation_id = record_launch(ctx, token, deploy, submitted)
    except BaseException:
        if submitted:
            destroy_quietly(ctx, [vm_id for _, vm_id in submitted])
        if token:
            release_quietly(ctx, token)
        raise
    try:
        launched = wait_for_deploys(ctx, submitted, min_count)
    except errors.EC2Error:
        # The launch failed and its VMs are destroyed: the token may be used again.
        if token:
            release_quietly(ctx, token)
        raise
    return reservation_response(ctx, reservation_id, launched)
