"""CloudBridge's own actions: version, user keys, certificates and the offering map.

SetUserKeys and CloudEC2Version are unsigned (a new user has no keys
registered yet); SetUserKeys checks the keys with CloudStack before it
stores them.  The other actions are signed by the keys they concern; SetCertificate also
needs a proof made with the certificate's private key.  The offering map
actions are for CloudStack root administrators only.
"""

import logging

from cryptography.hazmat.primitives import serialization

from cloudbridge import errors
from cloudbridge.certificates import ProofError, certificate_id, load_certificate, verify_proof
from cloudbridge.cloudstack.client import CloudStackClient
from cloudbridge.ec2.core import action
from cloudbridge.store import DuplicateError

LOG = logging.getLogger(__name__)

ROOT_ADMIN = 1


def parameter(ctx, *names):
    """The first present of several spellings (the original used lower case)."""
    for name in names:
        value = ctx.params.get(name)
        if value:
            return value
    raise errors.MissingParameter("The request must contain the parameter %s" % names[0])


@action("CloudEC2Version", authenticated=False)
def cloud_ec2_version(ctx):
    return {"version": ctx.config.cloudbridge_version}


@action("SetUserKeys", authenticated=False)
def set_user_keys(ctx):
    access_key = parameter(ctx, "accesskey", "AccessKey")
    secret_key = parameter(ctx, "secretkey", "SecretKey")
    client = CloudStackClient.from_config(ctx.config, access_key, secret_key)
    try:
        client.list("listAccounts", "account")
    except errors.AuthFailure:
        raise errors.AuthFailure("CloudStack does not accept these API keys; "
                                 "check the API key and secret key of your CloudStack user.")
    ctx.store.put_user_keys(access_key, secret_key)
    LOG.info("user keys stored for access key %s", access_key)
    return {"return": True}


@action("SetCertificate")
def set_certificate(ctx):
    pem = parameter(ctx, "cert", "Cert")
    try:
        certificate = load_certificate(pem)
    except ValueError:
        raise errors.InvalidParameterValue("The cert parameter is not a PEM X.509 certificate.")
    proof = ctx.params.get("proof")
    if not proof:
        raise errors.MissingParameter(
            "SetCertificate needs the parameter proof: a signature by the certificate's "
            "private key (cloud-bridge-register --cert FILE --key FILE makes it).")
    try:
        verify_proof(proof, ctx.access_key, certificate)
    except ProofError as exc:
        raise errors.InvalidParameterValue("The proof for this certificate is invalid: %s." % exc)
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    try:
        ctx.store.set_certificate(ctx.access_key, certificate_id(certificate), cert_pem)
    except DuplicateError:
        raise errors.InvalidParameterValue(
            "This certificate is already registered for another access key.")
    LOG.info("certificate %s registered for access key %s",
             certificate_id(certificate)[:16], ctx.access_key)
    return {"return": True}


@action("DeleteCertificate")
def delete_certificate(ctx):
    if not ctx.store.delete_certificate(ctx.access_key):
        raise errors.InvalidParameterValue(
            "No certificate is registered for access key %s." % ctx.access_key)
    return {"return": True}


def caller_user(ctx):
    """Return the CloudStack user whose API key signed this request."""
    for user in ctx.cloudstack.list("listUsers", "user", listall=True):
        if user.get("apikey") == ctx.access_key:
            return user
    raise errors.AuthFailure("CloudStack lists no user for access key %s." % ctx.access_key)


def require_root_admin(ctx):
    if int(caller_user(ctx).get("accounttype", 0)) != ROOT_ADMIN:
        raise errors.PermissionDenied(
            "Only CloudStack root administrators may change the offering map.")


@action("SetOfferMapping")
def set_offer_mapping(ctx):
    instance_type = parameter(ctx, "amazonoffer", "AmazonOffer")
    offering_id = parameter(ctx, "cloudoffer", "CloudOffer")
    require_root_admin(ctx)
    try:
        found = ctx.cloudstack.list("listServiceOfferings", "serviceoffering", id=offering_id)
    except errors.InvalidParameterValue:
        found = []
    if not found:
        raise errors.InvalidParameterValue(
            "CloudStack has no service offering with id %s." % offering_id)
    ctx.store.set_offering(instance_type, offering_id)
    LOG.info("instance type %s mapped to service offering %s", instance_type, offering_id)
    return {"return": True}


@action("DeleteOfferMapping")
def delete_offer_mapping(ctx):
    instance_type = parameter(ctx, "amazonoffer", "AmazonOffer")
    require_root_admin(ctx)
    if not ctx.store.delete_offering(instance_type):
        raise errors.InvalidParameterValue(
            "No service offering is mapped to instance type %s." % instance_type)
    LOG.info("mapping of instance type %s deleted", instance_type)
    return {"return": True}
