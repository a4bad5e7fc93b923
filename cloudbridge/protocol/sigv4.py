"""AWS signature version 4 verification, Authorization header and presigned query forms.

The canonical request, string to sign and signing key follow the AWS
"Signature Version 4 signing process".  The region and service of the
credential scope are taken as the client sends them: boto 2 derives them from
the host name and signs ``127.0.0.1`` with the scope ``0/127``.
"""

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote_plus

from cloudbridge.errors import (
    AuthFailure,
    MissingParameter,
    RequestExpired,
    SignatureDoesNotMatch,
)

log = logging.getLogger(__name__)

ALGORITHM = "AWS4-HMAC-SHA256"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
# SigV4 presigned requests may be valid for at most seven days (604800 seconds).
MAX_PRESIGNED_EXPIRES = 7 * 24 * 3600

_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")


@dataclass(frozen=True)
class SignedParts:
    """The signature fields of a SigV4 request, from its header or its query string."""

    access_key: str
    scope_date: str
    region: str
    service: str
    signed_headers: list
    signature: str
    amz_date: str          # request time in ISO 8601 basic format, as signed
    request_time: datetime
    presigned: bool
    expires: int = None    # X-Amz-Expires in seconds, for presigned requests only

    @property
    def scope(self):
        return "/".join([self.scope_date, self.region, self.service, "aws4_request"])


def is_signed(request):
    """Return whether the request carries a SigV4 Authorization header or presigned query."""
    if _has_sigv4_header(_headers(request)):
        return True
    return "X-Amz-Algorithm" in _query_params(request)


def verify(request, secret_for, now, max_skew):
    """Verify a SigV4-signed request and return its access key.

    `secret_for(access_key)` returns the secret key or raises AuthFailure.
    Raises AuthFailure or MissingParameter for an incomplete signature,
    RequestExpired for a request outside its time window, and
    SignatureDoesNotMatch for a wrong signature or payload hash.
    """
    headers = _headers(request)
    if _has_sigv4_header(headers):
        parts = _parse_authorization_header(headers)
    else:
        parts = _parse_presigned_query(_query_params(request))

    _check_request_time(parts, now, max_skew)
    secret_key = secret_for(parts.access_key)

    canonical = canonical_request(request, parts, headers)
    expected = signature(secret_key, parts, canonical).encode("ascii")
    received = parts.signature.strip().lower().encode("utf-8")
    if not hmac.compare_digest(expected, received):
        log.debug("SigV4 signature mismatch for access key %s on %s %s (scope %s)",
                  parts.access_key, request.method, request.path, parts.scope)
        raise SignatureDoesNotMatch(
            "The request signature does not match the signature computed with the secret "
            "key of access key %s. Check the secret key and the signing method."
            % parts.access_key)
    return parts.access_key


def canonical_request(request, parts, headers):
    """Build the SigV4 canonical request over the headers the client signed."""
    canonical_headers = []
    for name in parts.signed_headers:
        if name not in headers:
            raise AuthFailure(
                "The header %s is listed in SignedHeaders but missing from the request."
                % name)
        # Trim the value and collapse inner runs of white space, as SigV4 specifies.
        canonical_headers.append("%s:%s" % (name, " ".join(headers[name].split())))

    skipped = {"X-Amz-Signature"} if parts.presigned else set()
    # NOTE: AWS services other than S3 normalise the path and percent-encode
    # it again. Taking it as received gives the same result only for paths
    # without percent-escapes or dot segments, such as /bridge/rest/AmazonEC2/.
    return "\n".join([
        request.method.upper(),
        request.path or "/",
        canonical_query_string(request.query_string, skipped),
        "\n".join(canonical_headers) + "\n",
        ";".join(parts.signed_headers),
        _payload_hash(request, headers),
    ])


def canonical_query_string(query_string, skipped=()):
    """Build the SigV4 canonical query string from a raw query string.

    Names and values are decoded and encoded again per RFC 3986, then sorted
    by name and value.
    """
    pairs = []
    for item in query_string.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        name, value = unquote_plus(name), unquote_plus(value)
        if name in skipped:
            continue
        pairs.append((quote(name, safe="-_.~"), quote(value, safe="-_.~")))
    return "&".join("%s=%s" % pair for pair in sorted(pairs))


def signature(secret_key, parts, canonical):
    """Return the hex SigV4 signature of a canonical request."""
    text = "\n".join([
        ALGORITHM,
        parts.amz_date,
        parts.scope,
        hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
    ])
    key = ("AWS4" + secret_key).encode("utf-8")
    for step in (parts.scope_date, parts.region, parts.service, "aws4_request"):
        key = hmac.new(key, step.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _payload_hash(request, headers):
    body_hash = hashlib.sha256(request.body or b"").hexdigest()
    declared = headers.get("x-amz-content-sha256")
    # The Query parameters of a form POST are in the body, so an unsigned or
    # wrong payload hash (including UNSIGNED-PAYLOAD) cannot be accepted.
    if declared is not None and declared.strip().lower() != body_hash:
        raise SignatureDoesNotMatch(
            "The x-amz-content-sha256 header does not match the SHA-256 hash of the "
            "request body.")
    return body_hash


def _parse_authorization_header(headers):
    _, _, fields_text = headers["authorization"].strip().partition(" ")
    fields = {}
    for field in fields_text.split(","):
        name, _, value = field.strip().partition("=")
        fields[name.strip()] = value.strip()
    for name in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(name):
            raise AuthFailure(
                "The Authorization header requires the %s field, as in "
                "'%s Credential=..., SignedHeaders=..., Signature=...'." % (name, ALGORITHM))

    if "x-amz-date" in headers:
        date_header = "x-amz-date"
        amz_date, request_time = _parse_amz_date(headers["x-amz-date"], "X-Amz-Date header")
    elif "date" in headers:
        date_header = "date"
        request_time = _parse_http_date(headers["date"])
        amz_date = request_time.strftime(AMZ_DATE_FORMAT)
    else:
        raise AuthFailure(
            "A request signed with %s requires an X-Amz-Date or a Date header." % ALGORITHM)

    signed_headers = _parse_signed_headers(fields["SignedHeaders"])
    # AWS requires the date header that the signature relies on to be signed.
    if date_header not in signed_headers:
        raise AuthFailure("SignedHeaders must include %s." % date_header)

    access_key, scope_date, region, service = _parse_credential(fields["Credential"])
    return _build_parts(access_key, scope_date, region, service, signed_headers,
                        fields["Signature"], amz_date, request_time, presigned=False)


def _parse_presigned_query(query):
    algorithm = query.get("X-Amz-Algorithm")
    if algorithm != ALGORITHM:
        raise AuthFailure(
            "X-Amz-Algorithm '%s' is not supported. Use %s." % (algorithm, ALGORITHM))
    for name in ("X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature",
                 "X-Amz-Date"):
        if not query.get(name):
            raise MissingParameter("The request must contain the parameter %s." % name)

    expires = query.get("X-Amz-Expires")
    if expires is not None:
        if not expires.isdigit() or not 1 <= int(expires) <= MAX_PRESIGNED_EXPIRES:
            raise AuthFailure(
                "X-Amz-Expires must be a number of seconds from 1 to %d, not '%s'."
                % (MAX_PRESIGNED_EXPIRES, expires))
        expires = int(expires)

    amz_date, request_time = _parse_amz_date(query["X-Amz-Date"], "X-Amz-Date parameter")
    access_key, scope_date, region, service = _parse_credential(query["X-Amz-Credential"])
    return _build_parts(access_key, scope_date, region, service,
                        _parse_signed_headers(query["X-Amz-SignedHeaders"]),
                        query["X-Amz-Signature"], amz_date, request_time,
                        presigned=True, expires=expires)


def _build_parts(access_key, scope_date, region, service, signed_headers, signature_hex,
                 amz_date, request_time, presigned, expires=None):
    if scope_date != amz_date[:8]:
        raise AuthFailure(
            "The date %s in the credential scope does not match the request date %s."
            % (scope_date, amz_date[:8]))
    return SignedParts(access_key, scope_date, region, service, signed_headers,
                       signature_hex, amz_date, request_time, presigned, expires)


def _parse_credential(credential):
    parts = credential.strip().split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts[:4]):
        raise AuthFailure(
            "The Credential must have the form "
            "ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request.")
    return parts[0], parts[1], parts[2], parts[3]


def _parse_signed_headers(text):
    names = [name.strip().lower() for name in text.split(";") if name.strip()]
    if "host" not in names:
        raise AuthFailure("SignedHeaders must include host.")
    return names


def _parse_amz_date(value, source):
    value = value.strip()
    try:
        if not _AMZ_DATE.fullmatch(value):
            raise ValueError(value)
        moment = datetime.strptime(value, AMZ_DATE_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise AuthFailure(
            "Invalid %s '%s': expected ISO 8601 basic format such as 20101115T120000Z."
            % (source, value)) from None
    return value, moment


def _parse_http_date(value):
    try:
        moment = parsedate_to_datetime(value)
        # HTTP dates are in GMT, and botocore writes the zone as "-0000", which
        # parsedate_to_datetime returns as a naive datetime.
        if moment.tzinfo is None:
            return moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    except (TypeError, ValueError, OverflowError):
        # OverflowError: a date near year 1 or 9999 whose offset moves it out of range.
        raise AuthFailure(
            "Invalid Date header '%s': expected an HTTP date such as "
            "'Mon, 15 Nov 2010 12:00:00 GMT'." % value) from None


def _check_request_time(parts, now, max_skew):
    if parts.expires is not None:
        # The future check comes first: it bounds request_time, so that adding
        # X-Amz-Expires to it cannot pass datetime.max (year 9999).
        if parts.request_time - now > max_skew:
            raise RequestExpired(
                "Request is not yet valid: X-Amz-Date %s is more than %d minutes ahead "
                "of the server time %s. Check the client clock."
                % (parts.amz_date, max_skew.total_seconds() // 60,
                   _format_amz_date(now)))
        if now > parts.request_time + timedelta(seconds=parts.expires):
            raise RequestExpired(
                "Request has expired: it was signed at %s and valid for %d seconds."
                % (parts.amz_date, parts.expires))
        return
    if abs(now - parts.request_time) > max_skew:
        raise RequestExpired(
            "Request has expired: the request date %s is more than %d minutes away from "
            "the server time %s. Check the client clock."
            % (parts.amz_date, max_skew.total_seconds() // 60,
               _format_amz_date(now)))


def _format_amz_date(moment):
    return moment.astimezone(timezone.utc).strftime(AMZ_DATE_FORMAT)


def _has_sigv4_header(headers):
    scheme = headers.get("authorization", "").split(None, 1)[:1]
    return scheme == [ALGORITHM]


def _headers(request):
    return {name.lower(): value for name, value in request.headers.items()}


def _query_params(request):
    """Decode the query string alone: presigned fields never come from a POST body."""
    params = {}
    for item in request.query_string.split("&"):
        if item:
            name, _, value = item.partition("=")
            params.setdefault(unquote_plus(name), unquote_plus(value))
    return params
