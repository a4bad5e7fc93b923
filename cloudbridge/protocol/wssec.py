"""WS-Security X.509 signature verification for SOAP 1.1 requests.

The accepted shape is the one Amazon's Java ec2-api-tools (WSS4J) send: a
`wsse:Security` header holding a `wsu:Timestamp`, one X.509v3
`wsse:BinarySecurityToken` and one `ds:Signature`.  The signature uses
exclusive canonicalization and RSA with SHA-1 or SHA-256.  Its references
point by `wsu:Id` at the Timestamp and the `soap:Body`, and its KeyInfo is a
`wsse:SecurityTokenReference` to the token.

Signature wrapping is ruled out structurally: the envelope must contain
exactly one SOAP Body (its direct child), `wsu:Id` values must be unique, and
every reference must resolve to that Body, the Timestamp or the token.  The
Body returned is the one whose digest was checked, so callers process exactly
what was signed.
"""

import base64
import binascii
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from cloudbridge import errors
from cloudbridge.protocol.auth import MAX_CLOCK_SKEW

LOG = logging.getLogger(__name__)

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N_NS = "http://www.w3.org/2001/10/xml-exc-c14n#"

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
X509V3_TOKEN = ("http://docs.oasis-open.org/wss/2004/01/"
                "oasis-200401-wss-x509-token-profile-1.0#X509v3")
BASE64_ENCODING = ("http://docs.oasis-open.org/wss/2004/01/"
                   "oasis-200401-wss-soap-message-security-1.0#Base64Binary")

SIGNATURE_HASHES = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": hashes.SHA1,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": hashes.SHA256,
}
DIGEST_FUNCTIONS = {
    "http://www.w3.org/2000/09/xmldsig#sha1": hashlib.sha1,
    "http://www.w3.org/2001/04/xmlenc#sha256": hashlib.sha256,
}

# Attributes that a signature reference could be meant to resolve through.  A
# value repeated across any of them makes the target ambiguous, so it is rejected.
ID_ATTRIBUTES = ("{%s}Id" % WSU_NS, "Id", "ID", "id", "{http://www.w3.org/XML/1998/namespace}id")

_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?"
                       r"(Z|[+-]\d{2}:\d{2})$")


def _qname(namespace, name):
    return "{%s}%s" % (namespace, name)


@dataclass
class SignedEnvelope:
    """The result of a verified envelope: the signer's certificate and the signed Body."""

    certificate: x509.Certificate
    body: etree._Element
    created: datetime
    expires: datetime = None


def _reject(message):
    raise errors.AuthFailure(message)


def _children(parent, tag):
    return [child for child in parent if child.tag == tag]


def _only_child(parent, namespace, name, where):
    found = _children(parent, _qname(namespace, name))
    if not found:
        _reject("The %s has no %s element." % (where, name))
    if len(found) > 1:
        _reject("The %s has %d %s elements; expected one." % (where, len(found), name))
    return found[0]


def find_body(envelope):
    """Return the envelope's one SOAP Body, rejecting any other Body in the document."""
    if envelope.tag != _qname(SOAP11_NS, "Envelope"):
        raise errors.ClientError("Expected a SOAP 1.1 Envelope in the namespace %s; got %s."
                                 % (SOAP11_NS, envelope.tag))
    bodies = list(envelope.iter(_qname(SOAP11_NS, "Body")))
    if len(bodies) != 1 or bodies[0].getparent() is not envelope:
        _reject("The envelope must contain exactly one SOAP Body, as a child of the Envelope.")
    headers = list(envelope.iter(_qname(SOAP11_NS, "Header")))
    if len(headers) > 1 or (headers and headers[0].getparent() is not envelope):
        _reject("The envelope must contain at most one SOAP Header, as a child of the "
                "Envelope.")
    expected = ([headers[0]] if headers else []) + bodies
    actual = [child for child in envelope if isinstance(child.tag, str)]
    if actual != expected:
        _reject("The envelope must contain an optional Header followed by the Body and "
                "no other elements.")
    return bodies[0]


def _security_header(envelope):
    header = envelope.find(_qname(SOAP11_NS, "Header"))
    if header is None:
        _reject("The request is not signed: the SOAP envelope has no Header with a "
                "wsse:Security element. Sign it with your registered X.509 certificate.")
    securities = _children(header, _qname(WSSE_NS, "Security"))
    if not securities:
        _reject("The request is not signed: the SOAP Header has no wsse:Security element. "
                "Sign it with your registered X.509 certificate.")
    if len(securities) > 1 or len(list(envelope.iter(_qname(WSSE_NS, "Security")))) > 1:
        _reject("The SOAP envelope has more than one wsse:Security element.")
    return securities[0]


def _index_ids(envelope):
    """Map each wsu:Id value to its element; raise on any repeated id value."""
    seen = {}
    by_wsu_id = {}
    for element in envelope.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in ID_ATTRIBUTES:
            value = element.get(attribute)
            if value is None:
                continue
            if value in seen and seen[value] is not element:
                _reject("The id %r appears on more than one element of the envelope." % value)
            seen[value] = element
            if attribute == ID_ATTRIBUTES[0]:
                by_wsu_id[value] = element
    return by_wsu_id


def _resolve(uri, ids, what):
    if not uri or not uri.startswith("#") or len(uri) < 2:
        _reject("The %s URI %r is not a same-document reference (#id)." % (what, uri))
    target = ids.get(uri[1:])
    if target is None:
        _reject("The %s URI %s matches no wsu:Id in the envelope." % (what, uri))
    return target


def _inclusive_prefixes(method_element):
    """Return the InclusiveNamespaces PrefixList of an exc-c14n method element."""
    prefixes = []
    for inclusive in method_element:
        if inclusive.tag != _qname(EXC_C14N_NS, "InclusiveNamespaces"):
            _reject("Unexpected element %s in an exclusive canonicalization method."
                    % inclusive.tag)
        prefixes.extend(inclusive.get("PrefixList", "").split())
    return prefixes or None


def _exclusive_c14n(element, prefixes):
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False,
                          inclusive_ns_prefixes=prefixes)


def _decode_base64(text, what):
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        _reject("The %s is not valid Base64." % what)


def load_token_certificate(token):
    """Decode the X.509v3 certificate of a wsse:BinarySecurityToken element."""
    if token.get("ValueType") != X509V3_TOKEN:
        _reject("The BinarySecurityToken must have ValueType %s." % X509V3_TOKEN)
    if token.get("EncodingType", BASE64_ENCODING) != BASE64_ENCODING:
        _reject("The BinarySecurityToken must have EncodingType %s." % BASE64_ENCODING)
    der = _decode_base64(token.text, "BinarySecurityToken")
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        _reject("The BinarySecurityToken does not contain a DER X.509 certificate.")


def _check_key_info(signature, ids, token):
    key_info = _only_child(signature, DS_NS, "KeyInfo", "ds:Signature")
    reference_holder = _only_child(key_info, WSSE_NS, "SecurityTokenReference", "ds:KeyInfo")
    reference = _only_child(reference_holder, WSSE_NS, "Reference",
                            "wsse:SecurityTokenReference")
    if _resolve(reference.get("URI"), ids, "KeyInfo reference") is not token:
        _reject("The signature's KeyInfo must refer to the BinarySecurityToken.")


def _check_reference(reference, ids, allowed_targets):
    """Check one ds:Reference's digest; return the element it signs."""
    target = _resolve(reference.get("URI"), ids, "signature reference")
    if not any(target is allowed for allowed in allowed_targets):
        _reject("The signature reference %s must point at the SOAP Body, the Timestamp or "
                "the BinarySecurityToken." % reference.get("URI"))

    transforms = reference.find(_qname(DS_NS, "Transforms"))
    transform_list = list(transforms) if transforms is not None else []
    if len(transform_list) != 1 or transform_list[0].get("Algorithm") != EXC_C14N:
        _reject("The signature reference %s must have exactly one transform, exclusive "
                "canonicalization (%s)." % (reference.get("URI"), EXC_C14N))
    prefixes = _inclusive_prefixes(transform_list[0])

    method = _only_child(reference, DS_NS, "DigestMethod", "ds:Reference")
    digest_function = DIGEST_FUNCTIONS.get(method.get("Algorithm"))
    if digest_function is None:
        _reject("The digest method %s is not supported; use SHA-1 or SHA-256."
                % method.get("Algorithm"))
    expected = _decode_base64(_only_child(reference, DS_NS, "DigestValue", "ds:Reference").text,
                              "DigestValue")
    actual = digest_function(_exclusive_c14n(target, prefixes)).digest()
    if actual != expected:
        raise errors.SignatureDoesNotMatch(
            "The digest of the signed element %s does not match the signature: the "
            "element was changed after it was signed." % etree.QName(target).localname)
    return target


def _check_signature_value(signature, signed_info, certificate):
    method = _only_child(signed_info, DS_NS, "SignatureMethod", "ds:SignedInfo")
    hash_class = SIGNATURE_HASHES.get(method.get("Algorithm"))
    if hash_class is None:
        _reject("The signature method %s is not supported; use RSA with SHA-1 or SHA-256."
                % method.get("Algorithm"))
    c14n_method = _only_child(signed_info, DS_NS, "CanonicalizationMethod", "ds:SignedInfo")
    if c14n_method.get("Algorithm") != EXC_C14N:
        _reject("The canonicalization method %s is not supported; use exclusive "
                "canonicalization (%s)." % (c14n_method.get("Algorithm"), EXC_C14N))
    canonical = _exclusive_c14n(signed_info, _inclusive_prefixes(c14n_method))
    value = _decode_base64(_only_child(signature, DS_NS, "SignatureValue", "ds:Signature").text,
                           "SignatureValue")
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        _reject("The certificate must have an RSA public key.")
    try:
        public_key.verify(value, canonical, padding.PKCS1v15(), hash_class())
    except InvalidSignature:
        raise errors.SignatureDoesNotMatch(
            "The signature value does not verify with the certificate in the "
            "BinarySecurityToken.") from None


def verify_signature(signature, ids, certificate, allowed_targets):
    """Check a ds:Signature's digests and value; return the elements it signs."""
    signed_info = _only_child(signature, DS_NS, "SignedInfo", "ds:Signature")
    allowed_children = {_qname(DS_NS, name) for name in
                        ("CanonicalizationMethod", "SignatureMethod", "Reference")}
    if any(child.tag not in allowed_children for child in signed_info):
        _reject("The ds:SignedInfo contains an unexpected element.")
    references = _children(signed_info, _qname(DS_NS, "Reference"))
    if not references:
        _reject("The ds:SignedInfo has no ds:Reference.")
    signed = [_check_reference(reference, ids, allowed_targets) for reference in references]
    _check_signature_value(signature, signed_info, certificate)
    return signed


def parse_datetime(text):
    """Parse an xs:dateTime with a time zone (e.g. 2026-12-04T19:49:03.066Z) as UTC."""
    match = _DATETIME.match((text or "").strip())
    if not match:
        _reject("Invalid wsu:Timestamp time %r; expected yyyy-mm-ddThh:mm:ss[.sss]Z." % text)
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, zone = match.group(7), match.group(8)
    microsecond = int((fraction[1:] + "000000")[:6]) if fraction else 0
    offset = timedelta(0)
    if zone != "Z":
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        # xs:dateTime allows time zone offsets from -14:00 to +14:00.
        if offset > timedelta(hours=14) or int(zone[4:6]) > 59:
            _reject("Invalid wsu:Timestamp time %r: the time zone offset must lie "
                    "from -14:00 to +14:00." % text)
        if zone[0] == "-":
            offset = -offset
    try:
        return datetime(year, month, day, hour, minute, second, microsecond,
                        timezone.utc) - offset
    except (ValueError, OverflowError):
        # OverflowError: a time near year 1 or 9999 whose offset moves it out of range.
        _reject("Invalid wsu:Timestamp time %r." % text)


def check_timestamp(timestamp, now, max_skew=MAX_CLOCK_SKEW):
    """Return (created, expires) of a wsu:Timestamp that admits a request at `now`.

    Created must lie within `max_skew` of now, in either direction, and
    Expires, when present, must still lie ahead of now.
    """
    # A captured request would verify again until its Timestamp expires or is
    # older than max_skew; soap.check_not_replayed rejects the second copy.
    created = parse_datetime(_only_child(timestamp, WSU_NS, "Created", "wsu:Timestamp").text)
    expires_elements = _children(timestamp, _qname(WSU_NS, "Expires"))
    if len(expires_elements) > 1:
        _reject("The wsu:Timestamp has more than one Expires element.")
    expires = parse_datetime(expires_elements[0].text) if expires_elements else None
    if expires is not None and expires <= created:
        _reject("The wsu:Timestamp expires (%s) before it was created (%s)."
                % (expires.isoformat(), created.isoformat()))
    if expires is not None and now >= expires:
        raise errors.RequestExpired("The request expired at %s; the server time is %s."
                                    % (expires.isoformat(), now.isoformat()))
    if created > now + max_skew or created < now - max_skew:
        raise errors.RequestExpired(
            "The request was created at %s, more than %d minutes from the server time %s; "
            "check the clock of the client." % (created.isoformat(),
                                                max_skew.total_seconds() // 60,
                                                now.isoformat()))
    return created, expires


def certificate_validity(certificate):
    """Return the (not before, not after) times of a certificate as aware UTC datetimes."""
    if hasattr(certificate, "not_valid_before_utc"):
        return certificate.not_valid_before_utc, certificate.not_valid_after_utc
    # cryptography before 42 has only the naive properties, which are in UTC.
    return (certificate.not_valid_before.replace(tzinfo=timezone.utc),
            certificate.not_valid_after.replace(tzinfo=timezone.utc))


def check_certificate_validity(certificate, now):
    not_before, not_after = certificate_validity(certificate)
    if now < not_before:
        _reject("The certificate is not valid before %s." % not_before.isoformat())
    if now > not_after:
        _reject("The certificate expired at %s; register a new one with SetCertificate."
                % not_after.isoformat())


def verify_envelope(envelope, now=None):
    """Verify the WS-Security signature of a parsed SOAP 1.1 envelope.

    Returns a `SignedEnvelope` with the signer's certificate and the signed
    Body.  Raises AuthFailure for a missing or malformed signature,
    SignatureDoesNotMatch for a digest or signature value that does not
    verify, and RequestExpired for a stale Timestamp.  Whether the
    certificate is registered is for the caller to check.
    """
    now = now or datetime.now(timezone.utc)
    body = find_body(envelope)
    security = _security_header(envelope)
    ids = _index_ids(envelope)

    timestamp = _only_child(security, WSU_NS, "Timestamp", "wsse:Security header")
    token = _only_child(security, WSSE_NS, "BinarySecurityToken", "wsse:Security header")
    signature = _only_child(security, DS_NS, "Signature", "wsse:Security header")
    certificate = load_token_certificate(token)
    _check_key_info(signature, ids, token)

    signed = verify_signature(signature, ids, certificate, (body, timestamp, token))
    if not any(element is body for element in signed):
        _reject("The signature does not cover the SOAP Body.")
    if not any(element is timestamp for element in signed):
        _reject("The signature does not cover the wsu:Timestamp.")

    created, expires = check_timestamp(timestamp, now)
    check_certificate_validity(certificate, now)
    return SignedEnvelope(certificate=certificate, body=body, created=created, expires=expires)
