"""CloudStack API request signing, exactly as the management server checks it.

The server (``ApiServer.verifyRequest``) takes every request parameter except
``signature``, sorts the names *as sent* with Java's case-sensitive String
order, joins ``name=value`` pairs where the value is encoded with
``java.net.URLEncoder`` (UTF-8) and every ``+`` replaced by ``%20``,
lower-cases the whole string, and compares the Base64 HMAC-SHA1 of it (keyed
with the user's secret key) with the ``signature`` parameter.

This module has no dependencies beyond the standard library so that both the
CloudStack client of CloudBridge and the simulator can use it.
"""

import base64
import hashlib
import hmac

__all__ = ["java_urlencode", "string_to_sign", "sign"]

# java.net.URLEncoder leaves these bytes alone; a space becomes "+" (which
# CloudStack turns into "%20") and every other byte is %XX with upper-case hex.
_JAVA_SAFE = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-*_"
)


def java_urlencode(value) -> str:
    """Encode ``value`` like ``URLEncoder.encode(value, "UTF-8")`` with ``+``
    replaced by ``%20`` (so ``~`` becomes ``%7E``, unlike Python's quote)."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    if not isinstance(value, (str, bytes)):
        value = str(value)
    data = value.encode("utf-8") if isinstance(value, str) else value
    out = []
    for byte in data:
        if byte in _JAVA_SAFE:
            out.append(chr(byte))
        else:
            out.append("%%%02X" % byte)
    return "".join(out)


def string_to_sign(params) -> str:
    """The lower-cased string the server computes the HMAC over.

    ``params`` is a mapping of parameter names (exactly as sent on the wire,
    not percent-encoded) to values. A parameter named ``signature`` (in any
    case) is left out.
    """
    names = sorted(name for name in params if name.lower() != "signature")
    pairs = ["%s=%s" % (name, java_urlencode(params[name])) for name in names]
    return "&".join(pairs).lower()


def sign(params, secret_key: str) -> str:
    """Return the Base64 HMAC-SHA1 signature of ``params`` (which include
    ``apikey``, ``command``, ``response`` ...) for ``secret_key``."""
    key = secret_key.encode("utf-8") if isinstance(secret_key, str) else secret_key
    digest = hmac.new(key, string_to_sign(params).encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")
