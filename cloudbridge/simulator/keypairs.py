"""SSH key pairs: listSSHKeyPairs, createSSHKeyPair, registerSSHKeyPair,
deleteSSHKeyPair.

createSSHKeyPair makes a real RSA key (1024 bits, like CloudStack's JSch
helper) and returns its PKCS#1 PEM private key; fingerprints are computed as
CloudStack's ``SSHKeysHelper`` does: the MD5 of the decoded key blob, as
lower-case hex pairs joined with ``:``.
"""

import base64
import binascii
import hashlib
from collections import OrderedDict

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cloudbridge.simulator import errors
from cloudbridge.simulator.api import ObjectResult, SuccessResult, command
from cloudbridge.simulator.state import new_id
from cloudbridge.simulator.views import keypair_view

KEY_BITS = 1024


def normalize_public_key(material):
    """OpenSSH public key text as CloudStack stores it, or None if it is not
    one (CloudStack accepts ``ssh-rsa``/``ssh-dss`` keys, or a bare base64
    blob, which it takes for ``ssh-rsa``)."""
    text = (material or "").strip()
    if not text:
        return None
    parts = text.split()
    if parts[0] in ("ssh-rsa", "ssh-dss"):
        if len(parts) < 2:
            return None
        kind, blob = parts[0], parts[1]
        comment = " ".join(parts[2:])
    else:
        kind, blob, comment = "ssh-rsa", parts[0], " ".join(parts[1:])
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 4:
        return None
    # the blob starts with its own key type as an SSH string
    n = int.from_bytes(raw[:4], "big")
    if raw[4:4 + n].decode("ascii", "replace") != kind:
        return None
    return ("%s %s %s" % (kind, blob, comment)).strip()


def fingerprint(public_key):
    blob = base64.b64decode(public_key.split()[1])
    digest = hashlib.md5(blob).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def generate_keypair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private = key.private_bytes(serialization.Encoding.PEM,
                               serialization.PrivateFormat.TraditionalOpenSSL,
                               serialization.NoEncryption()).decode("ascii")
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode("ascii")
    return private, public


def encrypt_password(public_key, password):
    """Base64 of the password encrypted with an RSA public key (PKCS#1 v1.5),
    as CloudStack stores it for getVMPassword; None for non-RSA keys."""
    try:
        key = serialization.load_ssh_public_key(public_key.encode("ascii"))
    except (ValueError, TypeError, UnicodeError):
        return None
    if not isinstance(key, rsa.RSAPublicKey):
        return None
    data = key.encrypt(password.encode("utf-8"), padding.PKCS1v15())
    return base64.b64encode(data).decode("ascii")


def find_keypair(model, acct, name):
    for kp in model.keypairs.values():
        if kp["accountid"] == acct["id"] and kp["name"] == name:
            return kp
    return None


def _store(ctx, acct, name, public, private=None):
    model = ctx.model
    if find_keypair(model, acct, name) is not None:
        raise errors.invalid("A key pair with name '%s' already exists." % name)
    kp = OrderedDict(id=new_id(), name=name, accountid=acct["id"], domainid=acct["domainid"],
                     publickey=public, fingerprint=fingerprint(public),
                     seq=model.next_seq("keypair"))
    model.keypairs[kp["id"]] = kp
    model.touch()
    view = keypair_view(model, kp)
    if private is not None:
        view["privatekey"] = private
    return view


@command("listSSHKeyPairs", dict(fingerprint="str", name="str"), listing=True)
def list_ssh_key_pairs(ctx, p):
    pred = ctx.scope(p)
    items = []
    for kp in sorted(ctx.model.keypairs.values(), key=lambda k: k["seq"]):
        if not pred(kp):
            continue
        if p.get("name") and kp["name"] != p["name"]:
            continue
        if p.get("fingerprint") and kp["fingerprint"] != p["fingerprint"]:
            continue
        items.append(keypair_view(ctx.model, kp))
    return ctx.page("sshkeypair", items, p)


@command("createSSHKeyPair", dict(name="str!", account="str", domainid="uuid:domains",
                                  projectid="uuid:projects"))
def create_ssh_key_pair(ctx, p):
    acct = ctx.owner(p)
    if find_keypair(ctx.model, acct, p["name"]) is not None:
        raise errors.invalid("A key pair with name '%s' already exists." % p["name"])
    private, public = generate_keypair()
    return ObjectResult("keypair", _store(ctx, acct, p["name"], public, private))


@command("registerSSHKeyPair", dict(name="str!", publickey="str!", account="str",
                                    domainid="uuid:domains", projectid="uuid:projects"))
def register_ssh_key_pair(ctx, p):
    acct = ctx.owner(p)
    if find_keypair(ctx.model, acct, p["name"]) is not None:
        raise errors.invalid("A key pair with name '%s' already exists." % p["name"])
    public = normalize_public_key(p["publickey"])
    if public is None:
        raise errors.invalid("Public key is invalid")
    return ObjectResult("keypair", _store(ctx, acct, p["name"], public))


@command("deleteSSHKeyPair", dict(name="str!", account="str", domainid="uuid:domains",
                                  projectid="uuid:projects"))
def delete_ssh_key_pair(ctx, p):
    acct = ctx.owner(p)
    kp = find_keypair(ctx.model, acct, p["name"])
    if kp is None:
        raise errors.invalid("A key pair with name '%s' does not exist for account %s in "
                             "specified domain id=%s" % (p["name"], acct["name"],
                                                         acct["domainid"]))
    del ctx.model.keypairs[kp["id"]]
    ctx.model.touch()
    return SuccessResult()

