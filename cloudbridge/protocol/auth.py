"""Authentication of EC2 Query API requests signed with AWS signature version 2 or 4."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cloudbridge.errors import AuthFailure
from cloudbridge.protocol import sigv2, sigv4

log = logging.getLogger(__name__)

# Maximum difference between a request's signing time and the server clock.
# EC2 documents the same 15 minutes for its RequestExpired error.
MAX_CLOCK_SKEW = timedelta(minutes=15)


@dataclass(frozen=True)
class AuthResult:
    """The identity of an authenticated request."""

    access_key: str
    signature_version: int  # 2 or 4


def authenticate(request, lookup_secret, now=None):
    """Verify the signature of a Query API request and return who signed it.

    `lookup_secret(access_key)` returns the secret key, or None for an unknown
    access key.  `now` is a timezone-aware datetime (default: the current
    time).

    Raises AuthFailure for an unsigned request, an unsupported signature
    version or an unknown access key, and SignatureDoesNotMatch for a wrong
    signature.  Each version also raises RequestExpired, MissingParameter or
    InvalidParameterValue for a stale or incomplete request.
    """
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")

    def secret_for(access_key):
        secret_key = lookup_secret(access_key)
        if secret_key is None:
            raise AuthFailure(
                "The access key %s is not registered with CloudBridge. Register it with "
                "SetUserKeys, for example with cloud-bridge-register." % access_key)
        return secret_key

    if sigv4.is_signed(request):
        access_key = sigv4.verify(request, secret_for, now, MAX_CLOCK_SKEW)
        version = 4
    else:
        _check_signature_version(request)
        access_key = sigv2.verify(request, secret_for, now, MAX_CLOCK_SKEW)
        version = 2

    log.debug("Authenticated access key %s with signature version %d", access_key, version)
    return AuthResult(access_key, version)


def _check_signature_version(request):
    authorization = request.headers.get("authorization", "").strip()
    if authorization and "SignatureVersion" not in request.params:
        # Name only the scheme: the rest of the header carries the signature.
        scheme = authorization.split()[0][:40]
        raise AuthFailure(
            "The Authorization scheme %s is not supported. The request must be signed "
            "with signature version 2 or 4 (%s)." % (scheme, sigv4.ALGORITHM))

    version = request.params.get("SignatureVersion")
    if version is None:
        raise AuthFailure(
            "The request is not signed. The request must be signed with signature "
            "version 2 or 4.")
    if version != "2":
        raise AuthFailure(
            "SignatureVersion '%s' is not supported. The request must be signed with "
            "signature version 2 or 4." % version[:20])
