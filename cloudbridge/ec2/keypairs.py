"""Key pairs: CloudStack SSH key pairs, which it identifies by name per account.

The private key of CreateKeyPair passes through the response only and is
never logged or stored.
"""

import base64
import binascii
import logging
import struct

from cloudbridge import errors
from cloudbridge.ec2.core import action
from cloudbridge.ec2.filters import apply_filters, validate_filters

LOG = logging.getLogger(__name__)

# EC2 accepts key names of up to 255 ASCII characters.
MAX_KEY_NAME_LENGTH = 255
RFC4716_BEGIN = "---- BEGIN SSH2 PUBLIC KEY ----"
RFC4716_END = "---- END SSH2 PUBLIC KEY ----"

KEY_PAIR_FILTERS = {
    "key-name": lambda key: key["keyName"],
    "fingerprint": lambda key: key["keyFingerprint"],
}


def checked_key_name(ctx):
    name = ctx.params.require("KeyName")
    if len(name) > MAX_KEY_NAME_LENGTH or not name.isascii() or not name.isprintable():
        raise errors.InvalidParameterValue(
            "Invalid key name '%s': use at most %d printable ASCII characters."
            % (name, MAX_KEY_NAME_LENGTH))
    return name


def list_key_pairs(ctx, name=None):
    # Without listall: key pair names are unique per account only, so an
    # administrator must see their own keys, not every account's.
    return ctx.cloudstack.list("listSSHKeyPairs", "sshkeypair", name=name)


def key_item(key_pair):
    return {"keyName": key_pair.get("name"), "keyFingerprint": key_pair.get("fingerprint", "")}


def _key_blob_type(blob):
    """Return the key type written at the start of an SSH public key blob, or None."""
    if len(blob) < 4:
        return None
    (length,) = struct.unpack(">I", blob[:4])
    kind = blob[4:4 + length]
    if length == 0 or len(kind) != length:
        return None
    try:
        return kind.decode("ascii")
    except UnicodeDecodeError:
        return None


def _decode_base64(text):
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _from_rfc4716(text):
    """Convert an RFC 4716 ("SSH2") public key file to an OpenSSH key line."""
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) < 3 or lines[0] != RFC4716_BEGIN or lines[-1] != RFC4716_END:
        return None
    body, continued = [], False
    for line in lines[1:-1]:
        if continued or ":" in line:
            # A header line ("Comment: ..."); a trailing backslash continues it.
            continued = line.endswith("\\")
            continue
        body.append(line)
    blob = _decode_base64("".join(body))
    kind = _key_blob_type(blob) if blob else None
    if kind is None:
        return None
    return "%s %s" % (kind, base64.b64encode(blob).decode("ascii"))


def _as_openssh_line(text):
    """Return the OpenSSH public key line of a key in OpenSSH or RFC 4716 form, or None."""
    text = text.strip()
    if text.startswith(RFC4716_BEGIN):
        return _from_rfc4716(text)
    parts = text.split()
    if len(parts) < 2 or "\n" in text:
        return None
    blob = _decode_base64(parts[1])
    if blob is None or _key_blob_type(blob) != parts[0]:
        return None
    return " ".join(parts)


def public_key_line(material):
    """Turn ImportKeyPair's PublicKeyMaterial into the OpenSSH line CloudStack takes.

    The Query API sends the key file base64-encoded (boto, boto3 and awscli
    encode it), but some clients send the key text itself: both are accepted.
    Raises InvalidKeyPair.Format for anything that is not an OpenSSH or
    RFC 4716 public key.
    """
    material = material.strip()
    candidates = []
    decoded = _decode_base64("".join(material.split()))
    if decoded is not None:
        try:
            candidates.append(decoded.decode("utf-8"))
        except UnicodeDecodeError:
            pass
    candidates.append(material)
    for candidate in candidates:
        line = _as_openssh_line(candidate)
        if line is not None:
            return line
    raise errors.InvalidKeyPairFormat(
        "Key is not in valid OpenSSH public key format: give an OpenSSH public key line "
        "(such as 'ssh-rsa AAAA... comment') or an RFC 4716 public key, base64-encoded.")


def register(ctx, command, name, **params):
    """Run createSSHKeyPair or registerSSHKeyPair; return CloudStack's key pair."""
    try:
        return ctx.cloudstack.request(command, name=name, **params).get("keypair") or {}
    except errors.ClientError as exc:
        if exc.code == errors.InvalidKeyPairDuplicate.code:
            raise errors.InvalidKeyPairDuplicate("The keypair '%s' already exists." % name)
        if exc.code == errors.InvalidKeyPairFormat.code:
            raise errors.InvalidKeyPairFormat("CloudStack rejected the public key: %s"
                                              % exc.message)
        raise


@action("CreateKeyPair")
def create_key_pair(ctx):
    name = checked_key_name(ctx)
    key_pair = register(ctx, "createSSHKeyPair", name)
    if not key_pair.get("privatekey"):
        raise errors.InternalError(
            "CloudStack created the key pair '%s' without returning its private key" % name)
    LOG.info("key pair %s created", name)
    return {"keyName": key_pair.get("name", name),
            "keyFingerprint": key_pair.get("fingerprint", ""),
            "keyMaterial": key_pair["privatekey"]}


@action("ImportKeyPair")
def import_key_pair(ctx):
    name = checked_key_name(ctx)
    public_key = public_key_line(ctx.params.require("PublicKeyMaterial"))
    key_pair = register(ctx, "registerSSHKeyPair", name, publickey=public_key)
    LOG.info("key pair %s imported", name)
    return {"keyName": key_pair.get("name", name),
            "keyFingerprint": key_pair.get("fingerprint", "")}


@action("DeleteKeyPair")
def delete_key_pair(ctx):
    name = checked_key_name(ctx)
    try:
        ctx.cloudstack.request("deleteSSHKeyPair", name=name)
    except (errors.InvalidKeyPairNotFound, errors.InvalidParameterValue):
        # EC2 returns true for a key pair that does not exist. Any other
        # rejection by CloudStack is still an error.
        if any(k.get("name") == name for k in list_key_pairs(ctx, name)):
            raise
        return {"return": True}
    LOG.info("key pair %s deleted", name)
    return {"return": True}


@action("DescribeKeyPairs")
def describe_key_pairs(ctx):
    names = ctx.params.strings("KeyName")
    filters = ctx.params.filters()
    validate_filters(filters, KEY_PAIR_FILTERS, "DescribeKeyPairs")

    items = [key_item(k) for k in list_key_pairs(ctx)]
    if names:
        by_name = {item["keyName"]: item for item in items}
        missing = [n for n in dict.fromkeys(names) if n not in by_name]
        if missing:
            raise errors.InvalidKeyPairNotFound(
                "The key pair '%s' does not exist" % ", ".join(missing))
        items = [by_name[n] for n in dict.fromkeys(names)]
    items = apply_filters(items, filters, KEY_PAIR_FILTERS, "DescribeKeyPairs")
    return {"keySet": items}
