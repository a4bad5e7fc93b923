"""AWS signature version 2 for the EC2 Query API: signing and verification.

The string to sign is::

    METHOD \\n lower-cased Host header \\n path \\n canonical query

where the canonical query is every decoded parameter except ``Signature``,
sorted by name, each name and value percent-encoded per RFC 3986 and joined
as ``name=value`` with ``&``.  The same rule applies to GET query strings and
form POST bodies.
"""

import base64
import hashlib
import hmac
import logging
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from cloudbridge.errors import (
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
    RequestExpired,
    SignatureDoesNotMatch,
)

log = logging.getLogger(__name__)

DIGESTS = {"HmacSHA256": hashlib.sha256, "HmacSHA1": hashlib.sha1}

# ISO 8601 as SigV2 clients send it: whole seconds or a fraction, and "Z", an
# offset or no zone at all (read as UTC, as the original CloudBridge did).
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|[+-]\d{2}:?\d{2})?"
)


def percent_encode(text):
    """Percent-encode text as UTF-8 per RFC 3986, keeping only A-Z a-z 0-9 - _ . ~."""
    return quote(str(text), safe="-_.~")


def canonical_query(params):
    """Build the SigV2 canonical query from decoded parameters, without Signature."""
    # Sorting str by code point gives the same order as sorting their UTF-8
    # bytes, which is the order SigV2 specifies.
    names = sorted(name for name in params if name != "Signature")
    return "&".join(
        "%s=%s" % (percent_encode(name), percent_encode(params[name])) for name in names
    )


def string_to_sign(method, host, path, params):
    """Build the SigV2 string to sign for a request with decoded parameters."""
    return "\n".join([method.upper(), host.lower(), path or "/", canonical_query(params)])


def sign(method, host, path, params, secret_key, signature_method="HmacSHA256"):
    """Compute the Base64 SigV2 signature of a request.

    `host` is the Host header the request is sent with, including a port when
    the URL has one.  `path` is the URL path.  `params` are the decoded Query
    parameters, including SignatureMethod but not Signature.
    """
    digest = DIGESTS.get(signature_method)
    if digest is None:
        raise ValueError("SignatureMethod %r is not supported, use HmacSHA256 or HmacSHA1"
                         % signature_method)
    message = string_to_sign(method, host, path, params).encode("utf-8")
    mac = hmac.new(secret_key.encode("utf-8"), message, digest)
    return base64.b64encode(mac.digest()).decode("ascii")


def parse_timestamp(name, value):
    """Parse an ISO 8601 Timestamp or Expires value into an aware datetime.

    Raises InvalidParameterValue naming the parameter when the value is not
    ISO 8601 date-time.
    """
    match = _TIMESTAMP.fullmatch(value.strip())
    if match is None:
        raise InvalidParameterValue(
            "Invalid value '%s' for %s: expected an ISO 8601 time such as "
            "2010-11-15T12:00:00Z." % (value, name))
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    microsecond = int((fraction or "0")[:6].ljust(6, "0"))
    if zone is None or zone == "Z":
        tzinfo = timezone.utc
    else:
        sign_factor = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            raise InvalidParameterValue(
                "Invalid value '%s' for %s: the time zone offset %s is not an offset "
                "from -23:59 to +23:59." % (value, name, zone))
        tzinfo = timezone(sign_factor * timedelta(hours=hours, minutes=minutes))
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute),
                        int(second), microsecond, tzinfo=tzinfo)
    except ValueError as error:
        raise InvalidParameterValue(
            "Invalid value '%s' for %s: %s." % (value, name, error)) from None


def check_request_time(params, now, max_skew):
    """Raise RequestExpired unless Timestamp or Expires admits the request at `now`.

    Timestamp must lie within `max_skew` of `now`, and Expires must lie after it.
    """
    timestamp = params.get("Timestamp")
    expires = params.get("Expires")
    if timestamp is not None and expires is not None:
        raise InvalidParameterCombination(
            "The parameters Timestamp and Expires cannot be used together. Send only one of them.")
    if timestamp is None and expires is None:
        raise MissingParameter(
            "The request must contain the parameter Timestamp (or Expires).")

    if timestamp is not None:
        sent = parse_timestamp("Timestamp", timestamp)
        if abs(now - sent) > max_skew:
            raise RequestExpired(
                "Request has expired: Timestamp %s is more than %d minutes away from "
                "the server time %s. Check the client clock."
                % (timestamp, max_skew.total_seconds() // 60, _format_time(now)))
    else:
        # NOTE: an Expires of any distance in the future is accepted, so a request
        # signed with a far Expires stays valid, and can be replayed, until then.
        deadline = parse_timestamp("Expires", expires)
        if deadline <= now:
            raise RequestExpired(
                "Request has expired: Expires %s is not after the server time %s."
                % (expires, _format_time(now)))


def verify(request, secret_for, now, max_skew):
    """Verify a SigV2-signed request and return its access key.

    `secret_for(access_key)` returns the secret key or raises AuthFailure.
    Raises MissingParameter, InvalidParameterValue, RequestExpired or
    SignatureDoesNotMatch.  SignatureVersion is checked by the caller.
    """
    params = request.params
    # NOTE: params keeps the first value of a repeated name, so a request that
    # signs a parameter name twice fails verification.
    for name in ("AWSAccessKeyId", "Signature", "SignatureMethod"):
        if not params.get(name):
            raise MissingParameter("The request must contain the parameter %s." % name)

    signature_method = params["SignatureMethod"]
    digest = DIGESTS.get(signature_method)
    if digest is None:
        raise InvalidParameterValue(
            "Invalid value '%s' for SignatureMethod: use HmacSHA256 or HmacSHA1."
            % signature_method)

    check_request_time(params, now, max_skew)

    access_key = params["AWSAccessKeyId"]
    secret_key = secret_for(access_key)

    # Base64 never contains a space, so a space here is a "+" that the client
    # left unencoded in a query string and form decoding turned into a space.
    received = params["Signature"].replace(" ", "+").encode("utf-8")
    for path in _candidate_paths(request.path):
        expected = sign(request.method, request.host, path, params, secret_key,
                        signature_method).encode("ascii")
        if hmac.compare_digest(expected, received):
            return access_key

    log.debug("SigV2 signature mismatch for access key %s on %s %s",
              access_key, request.method, request.path)
    raise SignatureDoesNotMatch(
        "The request signature does not match the signature computed with the secret "
        "key of access key %s. Check the secret key and the signing method." % access_key)


def _candidate_paths(path):
    path = path or "/"
    yield path
    # The Java ec2-api-tools send ".../AmazonEC2/" but sign ".../AmazonEC2".
    if len(path) > 1 and path.endswith("/"):
        yield path[:-1]


def _format_time(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
