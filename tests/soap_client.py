"""Build and sign EC2 SOAP requests the way Amazon's Java ec2-api-tools do.

The Security header (Timestamp, BinarySecurityToken, Signature with a
SecurityTokenReference) is assembled here, and signxml computes the
digests and the signature: exclusive canonicalization, RSA-SHA1 with SHA-1
digests by default, references to the Timestamp and the Body by wsu:Id.
This keeps the tests independent of CloudBridge's own verifier.
"""

import base64
import datetime

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import SignatureConstructionMethod, SignatureReference, XMLSigner

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64_BINARY = ("http://docs.oasis-open.org/wss/2004/01/"
                 "oasis-200401-wss-soap-message-security-1.0#Base64Binary")
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
SOAP_PATH = "/bridge/services/AmazonEC2"

TIMESTAMP_ID = "Timestamp-661440732"
TOKEN_ID = "CertId-240098672"
BODY_ID = "id-1931977799"


def ec2_namespace(version):
    return "http://ec2.amazonaws.com/doc/%s/" % version


class WssSigner(XMLSigner):
    """signxml's detached signer, allowing the SHA-1 algorithms the Java tools use."""

    def check_deprecated_methods(self):
        pass  # rsa-sha1 and sha1 are what ec2-api-tools 1.6 send


def make_certificate(common_name="ec2-user", key=None, valid_days=1):
    """Return (private key, self-signed certificate) for signing SOAP requests."""
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder()
                   .subject_name(name).issuer_name(name)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(hours=1))
                   .not_valid_after(now + datetime.timedelta(days=valid_days))
                   .sign(key, hashes.SHA256()))
    return key, certificate


def certificate_pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _fill(element, namespace, content):
    """Write dicts as child elements, lists as <item> children, the rest as text."""
    if isinstance(content, dict):
        for name, value in content.items():
            _fill(etree.SubElement(element, "{%s}%s" % (namespace, name)), namespace, value)
    elif isinstance(content, (list, tuple)):
        for value in content:
            _fill(etree.SubElement(element, "{%s}item" % namespace), namespace, value)
    elif content is not None:
        element.text = str(content)


def operation_element(action, version, content=None):
    """Return the document/literal request element, e.g. <ns1:DescribeInstances>."""
    namespace = ec2_namespace(version)
    operation = etree.Element("{%s}%s" % (namespace, action), nsmap={"ns1": namespace})
    _fill(operation, namespace, content or {})
    return operation


def unsigned_envelope(operation):
    """Wrap a request element in an envelope with an empty Header and a Body wsu:Id."""
    envelope = etree.Element("{%s}Envelope" % SOAP_NS,
                             nsmap={"soap": SOAP_NS, "wsu": WSU_NS})
    etree.SubElement(envelope, "{%s}Header" % SOAP_NS)
    body = etree.SubElement(envelope, "{%s}Body" % SOAP_NS, {"{%s}Id" % WSU_NS: BODY_ID})
    body.append(operation)
    return envelope


def _key_info():
    key_info = etree.Element("{http://www.w3.org/2000/09/xmldsig#}KeyInfo")
    reference_holder = etree.SubElement(key_info, "{%s}SecurityTokenReference" % WSSE_NS,
                                        nsmap={"wsse": WSSE_NS})
    etree.SubElement(reference_holder, "{%s}Reference" % WSSE_NS,
                     URI="#" + TOKEN_ID, ValueType=X509V3)
    return key_info


def _time(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (value.microsecond // 1000)


def sign_envelope(envelope, key, certificate, created=None,
                  lifetime=datetime.timedelta(minutes=5),
                  signature_algorithm="rsa-sha1", digest_algorithm="sha1",
                  references=(TIMESTAMP_ID, BODY_ID), inclusive_ns_prefixes=None):
    """Add a WS-Security header signed with `key` to `envelope`; return the envelope.

    `inclusive_ns_prefixes` sets the InclusiveNamespaces PrefixList of the
    references' exclusive canonicalization transforms.
    """
    created = created or datetime.datetime.now(datetime.timezone.utc)
    header = envelope.find("{%s}Header" % SOAP_NS)
    security = etree.SubElement(header, "{%s}Security" % WSSE_NS, nsmap={"wsse": WSSE_NS},
                                attrib={"{%s}mustUnderstand" % SOAP_NS: "1"})
    timestamp = etree.SubElement(security, "{%s}Timestamp" % WSU_NS,
                                 {"{%s}Id" % WSU_NS: TIMESTAMP_ID})
    etree.SubElement(timestamp, "{%s}Created" % WSU_NS).text = _time(created)
    etree.SubElement(timestamp, "{%s}Expires" % WSU_NS).text = _time(created + lifetime)
    token = etree.SubElement(security, "{%s}BinarySecurityToken" % WSSE_NS,
                             {"EncodingType": BASE64_BINARY, "ValueType": X509V3,
                              "{%s}Id" % WSU_NS: TOKEN_ID})
    token.text = base64.b64encode(
        certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")

    signer = WssSigner(method=SignatureConstructionMethod.detached,
                       signature_algorithm=signature_algorithm,
                       digest_algorithm=digest_algorithm, c14n_algorithm=EXC_C14N)
    # The prefix list goes on the references only: signxml canonicalizes
    # SignedInfo before the Signature is placed in the header, so a prefix
    # list there would see other namespaces in scope than the verifier does.
    reference_list = [SignatureReference(URI="#" + uri,
                                         inclusive_ns_prefixes=inclusive_ns_prefixes)
                      for uri in references]
    signature = signer.sign(envelope, key=key, key_info=_key_info(), reference_uri=reference_list)
    security.append(signature)
    return envelope


def serialize(envelope):
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def signed_request(action, version, content, key, certificate, **sign_options):
    """Return the bytes of a signed SOAP request for one operation."""
    envelope = unsigned_envelope(operation_element(action, version, content))
    return serialize(sign_envelope(envelope, key, certificate, **sign_options))


class SoapResponse:
    """A parsed SOAP response: the response element, or the Fault's code and string."""

    def __init__(self, http_response):
        self.status = http_response.status_code
        self.content_type = http_response.headers.get("Content-Type")
        self.raw = http_response.content
        self.envelope = etree.fromstring(self.raw)
        body = self.envelope.find("{%s}Body" % SOAP_NS)
        self.element = body[0]
        self.is_fault = self.element.tag == "{%s}Fault" % SOAP_NS
        self.faultcode = self.element.findtext("faultcode") if self.is_fault else None
        self.faultstring = self.element.findtext("faultstring") if self.is_fault else None

    def texts(self, path):
        """Texts at an ElementPath in the response's own namespace, e.g. './/instanceId'."""
        namespace = etree.QName(self.element).namespace
        path = "/".join(("{%s}%s" % (namespace, part) if part not in (".", "") else part)
                        for part in path.split("/"))
        return [element.text for element in self.element.findall(path)]


class SoapClient:
    """Sends signed SOAP requests to one CloudBridge server, as one user."""

    def __init__(self, base_url, key, certificate, path=SOAP_PATH):
        self.url = base_url + path
        self.key = key
        self.certificate = certificate

    def post(self, body, soap_action=None, headers=None):
        sent = {"Content-Type": "text/xml; charset=UTF-8"}
        if soap_action is not None:
            sent["SOAPAction"] = '"%s"' % soap_action
        sent.update(headers or {})
        return requests.post(self.url, data=body, headers=sent, timeout=60)

    def call(self, action, version, content=None, **sign_options):
        """Sign and send one operation; return a SoapResponse."""
        body = signed_request(action, version, content, self.key, self.certificate,
                              **sign_options)
        return SoapResponse(self.post(body, soap_action=action))
