"""The EC2 SOAP endpoint: SOAP 1.1 document/literal requests signed with WS-Security.

Each request is parsed without DTDs or entities, and its X.509 signature is
verified (`cloudbridge.protocol.wssec`).  The signing certificate maps to the
user who registered it with SetCertificate.  The operation element in the
Body becomes Query API parameters (`cloudbridge.protocol.soap_params`) for
the dispatcher that the Query API uses too.  The API version is the one of
the operation element's namespace, and the response is written in that
namespace, as the Java ec2-api-tools require.  Errors become SOAP 1.1 Faults
with HTTP status 500 and a faultcode of `soapenv:Client.<EC2 code>` or
`soapenv:Server.<EC2 code>`.
"""

import hashlib
import logging
import re

from lxml import etree

from cloudbridge import errors
from cloudbridge.certificates import certificate_id
from cloudbridge.protocol import wssec
from cloudbridge.protocol.dispatch import check_version
from cloudbridge.protocol.params import Parameters
from cloudbridge.protocol.query import QueryResult
from cloudbridge.protocol.safe_xml import UnsafeXMLError, parse_xml
from cloudbridge.protocol.soap_params import query_params
from cloudbridge.protocol.xml import serialize, xml_safe

LOG = logging.getLogger(__name__)

SOAP_NS = wssec.SOAP11_NS
EC2_NAMESPACE = re.compile(r"^http://ec2\.amazonaws\.com/doc/(\d{4}-\d{2}-\d{2})/$")
# The SOAP 1.1 HTTP binding sends every Fault with status 500, whatever its cause.
FAULT_STATUS = 500


def _soap(name):
    return "{%s}%s" % (SOAP_NS, name)


def envelope_document(element):
    """Serialize a response element inside a SOAP 1.1 envelope."""
    envelope = etree.Element(_soap("Envelope"), nsmap={"soapenv": SOAP_NS})
    etree.SubElement(envelope, _soap("Body")).append(element)
    return serialize(envelope)


def fault_document(error, request_id=None):
    """Serialize an EC2Error as a SOAP 1.1 Fault.

    `request_id` goes into the Fault's detail; leave it out for errors in
    the SOAP Header, for which SOAP 1.1 forbids a detail element.  Characters
    that XML 1.0 does not allow are written as U+FFFD, as in Query responses.
    """
    envelope = etree.Element(_soap("Envelope"), nsmap={"soapenv": SOAP_NS})
    fault = etree.SubElement(etree.SubElement(envelope, _soap("Body")), _soap("Fault"))
    side = "Client" if error.is_client_error else "Server"
    etree.SubElement(fault, "faultcode").text = xml_safe("soapenv:%s.%s" % (side, error.code))
    etree.SubElement(fault, "faultstring").text = xml_safe(error.message)
    if request_id is not None:
        detail = etree.SubElement(fault, "detail")
        etree.SubElement(detail, "RequestID").text = xml_safe(request_id)
    return serialize(envelope)


def _operation(body):
    children = [child for child in body if isinstance(child.tag, str)]
    if not children:
        raise errors.MissingParameter("The SOAP Body is empty; it must contain the "
                                      "operation element, e.g. DescribeInstances.")
    if len(children) > 1:
        raise errors.ClientError("The SOAP Body contains %d elements; it must contain "
                                 "exactly one operation element." % len(children))
    return children[0]


def _operation_name(envelope):
    """Return the name of the first element in the Body, for the log, or None."""
    for body in envelope.iterchildren(_soap("Body")):
        for child in body:
            if isinstance(child.tag, str):
                return etree.QName(child).localname
    return None


def _version(operation):
    namespace = etree.QName(operation).namespace or ""
    match = EC2_NAMESPACE.match(namespace)
    if not match:
        raise errors.InvalidParameterValue(
            "The operation element %s is not in an EC2 namespace "
            "(http://ec2.amazonaws.com/doc/<version>/)." % operation.tag)
    check_version(match.group(1))
    return match.group(1)


def check_soap_action(header, action):
    """Reject a SOAPAction header that names another operation than the Body."""
    value = (header or "").strip().strip('"').strip()
    if not value:
        return  # absent or "": the Body alone names the operation
    if value == action or value.endswith("/" + action) or value.endswith("#" + action):
        return
    raise errors.ClientError("The SOAPAction header %r does not match the operation %s in "
                             "the SOAP Body." % (value, action))


def authenticate(envelope, store, now=None):
    """Verify the envelope's signature; return (credentials, signed Body)."""
    signed = wssec.verify_envelope(envelope, now)
    cert_id = certificate_id(signed.certificate)
    credentials = store.find_credentials_by_certificate(cert_id)
    if credentials is None:
        raise errors.AuthFailure(
            "The certificate that signed the request (SHA-256 %s) is not registered; "
            "register it with SetCertificate, e.g. cloud-bridge-register --cert." % cert_id)
    check_not_replayed(envelope, signed, store)
    return credentials, signed.body


def check_not_replayed(envelope, signed, store):
    """Reject a signed envelope that was already accepted while its timestamp is valid.

    The store is shared, so a request captured and sent again to another
    server behind the same load balancer is rejected too.
    """
    value = envelope.findtext(".//{%s}SignatureValue" % wssec.DS_NS) or ""
    digest = hashlib.sha256("".join(value.split()).encode("ascii")).hexdigest()
    valid_until = signed.created + wssec.MAX_CLOCK_SKEW
    if signed.expires is not None:
        valid_until = min(valid_until, signed.expires)
    if not store.remember_signature(digest, valid_until):
        raise errors.AuthFailure("This signed request was already received; sign each "
                                 "request anew (a new wsu:Timestamp).")


class _HeaderError(Exception):
    """Wraps an EC2Error raised while checking the SOAP Header (no Fault detail)."""

    def __init__(self, error):
        super().__init__(error.message)
        self.error = error


def handle_soap(dispatcher, request, request_id, now=None):
    """Handle one SOAP request; return a QueryResult with the response envelope or Fault."""
    action_name = None
    access_key = None
    try:
        if request.method != "POST":
            raise errors.ClientError("The SOAP endpoint accepts POST requests with a "
                                     "SOAP 1.1 envelope; got %s." % request.method)
        try:
            envelope = parse_xml(request.body)
        except UnsafeXMLError as exc:
            raise errors.ClientError(str(exc)) from None

        action_name = _operation_name(envelope)
        try:
            credentials, body = authenticate(envelope, dispatcher.store, now)
        except errors.EC2Error as exc:
            raise _HeaderError(exc) from None
        access_key = credentials.access_key

        # Only the Body whose signature was verified is read from here on.
        operation = _operation(body)
        action_name = etree.QName(operation).localname
        version = _version(operation)
        check_soap_action(request.headers.get("soapaction"), action_name)
        params = Parameters.from_query(query_params(operation, version))
        element = dispatcher.execute(action_name, version, params, credentials, request_id)
        return QueryResult(200, envelope_document(element), action_name, access_key)
    except _HeaderError as wrapped:
        _log_error(request_id, action_name, wrapped.error)
        return QueryResult(FAULT_STATUS, fault_document(wrapped.error), action_name,
                           access_key)
    except errors.EC2Error as exc:
        _log_error(request_id, action_name, exc)
        return QueryResult(FAULT_STATUS, fault_document(exc, request_id), action_name,
                           access_key)
    except Exception:
        LOG.exception("SOAP request %s %s failed unexpectedly", request_id, action_name)
        error = errors.InternalError("An internal error occurred; the request id is in the "
                                     "server log.")
        return QueryResult(FAULT_STATUS, fault_document(error, request_id), action_name,
                           access_key)


def _log_error(request_id, action_name, error):
    log = LOG.info if error.is_client_error else LOG.error
    log("SOAP request %s %s failed: %s %s", request_id, action_name, error.code, error.message)
