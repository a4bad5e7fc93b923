"""cloud-bridge-register: register a user's CloudStack keys and certificate with CloudBridge.

It sends SetUserKeys and, with --cert, SetCertificate as form POSTs signed
with AWS signature version 2 (HmacSHA256) under the keys being registered.
A CloudStack root administrator can also map EC2 instance types to service
offerings (--map, SetOfferMapping) and remove mappings (--unmap).
"""

import argparse
import sys
from datetime import datetime, timezone
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from cloudbridge.certificates import ProofError, load_certificate, sign_proof

from cloudbridge.protocol import sigv2

API_VERSION = "2010-11-15"
HTTP_TIMEOUT_SECONDS = 30


class RegisterError(Exception):
    """A failed registration step, with a message for the user."""


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="cloud-bridge-register",
        description="Register a user's CloudStack API key and secret key with CloudBridge "
                    "and, optionally, the X.509 certificate that the user signs SOAP "
                    "requests with.")
    parser.add_argument("-a", "--apikey", required=True,
                        help="CloudStack API key, used as the EC2 access key")
    parser.add_argument("-s", "--secretkey", required=True,
                        help="CloudStack secret key, used as the EC2 secret key")
    parser.add_argument("-c", "--cert", metavar="FILE",
                        help="file with the user's X.509 certificate in PEM format")
    parser.add_argument("-k", "--key", metavar="FILE",
                        help="file with the certificate's private key in PEM format (needed "
                             "with --cert; it signs a proof and is not sent)")
    parser.add_argument("-u", "--url", required=True,
                        help="CloudBridge URL, e.g. http://127.0.0.1:8090/bridge or "
                             "http://127.0.0.1:8090/bridge/rest/AmazonEC2")
    parser.add_argument("--map", action="append", default=[], metavar="TYPE=OFFERING_ID",
                        type=instance_type_mapping,
                        help="map an EC2 instance type to a CloudStack service offering id "
                             "(root administrators only; repeatable)")
    parser.add_argument("--unmap", action="append", default=[], metavar="TYPE",
                        help="remove the mapping of an EC2 instance type (root "
                             "administrators only; repeatable)")
    return parser.parse_args(argv)


def instance_type_mapping(text):
    instance_type, _, offering_id = text.partition("=")
    if not instance_type or not offering_id:
        raise argparse.ArgumentTypeError(
            "expected TYPE=OFFERING_ID, e.g. m1.small=<service offering uuid>, not %r" % text)
    return instance_type, offering_id


def read_certificate(path):
    """Return the PEM text of an X.509 certificate file, or raise RegisterError."""
    try:
        with open(path, encoding="ascii") as cert_file:
            pem = cert_file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise RegisterError("cannot read certificate file %s: %s" % (path, error)) from None
    try:
        x509.load_pem_x509_certificate(pem.encode("ascii"))
    except ValueError:
        raise RegisterError(
            "certificate file %s does not contain a PEM X.509 certificate "
            "(-----BEGIN CERTIFICATE-----)." % path) from None
    return pem


def signed_form_body(action_params, access_key, secret_key, host, path, now=None):
    """Return the form body of a SigV2-signed Query request.

    `host` must be the Host header the request is sent with.
    """
    now = now or datetime.now(timezone.utc)
    params = dict(action_params)
    params.update({
        "AWSAccessKeyId": access_key,
        "SignatureMethod": "HmacSHA256",
        "SignatureVersion": "2",
        "Timestamp": now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": API_VERSION,
    })
    params["Signature"] = sigv2.sign("POST", host, path, params, secret_key)
    return "&".join("%s=%s" % (sigv2.percent_encode(name), sigv2.percent_encode(value))
                    for name, value in params.items())


def send_action(url, action_params, access_key, secret_key):
    """POST one signed action to CloudBridge and raise RegisterError unless it succeeded."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RegisterError("invalid URL %s: expected http://HOST:PORT/bridge" % url)
    if parts.query or parts.fragment:
        raise RegisterError("invalid URL %s: remove the query string" % url)
    # Send the Host header explicitly so that it is the one that was signed.
    host = parts.netloc.rpartition("@")[2]
    path = parts.path or "/"
    body = signed_form_body(action_params, access_key, secret_key, host, path)
    headers = {
        "Host": host,
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
    }
    action = action_params["Action"]
    try:
        response = requests.post(url, data=body.encode("utf-8"), headers=headers,
                                 timeout=HTTP_TIMEOUT_SECONDS)
    except requests.RequestException as error:
        raise RegisterError("%s failed: cannot reach %s: %s" % (action, url, error)) from None

    code, message, returned = _read_response(response.content)
    if code is not None:
        raise RegisterError("%s failed: %s: %s" % (action, code, message))
    if response.status_code != 200:
        raise RegisterError("%s failed: HTTP %d %s from %s"
                            % (action, response.status_code, response.reason, url))
    if returned == "false":
        raise RegisterError("%s failed: CloudBridge returned false." % action)


def _read_response(content):
    """Return (error code, error message, <return> text) from an EC2 response body."""
    try:
        root = etree.fromstring(content, etree.XMLParser(resolve_entities=False,
                                                         no_network=True))
    except etree.XMLSyntaxError:
        return None, None, None
    for error in root.iter("{*}Error"):
        code = error.findtext("{*}Code")
        if code:
            return code.strip(), (error.findtext("{*}Message") or "").strip(), None
    returned = root.findtext(".//{*}return")
    return None, None, returned.strip().lower() if returned else None


def read_private_key(path):
    """Return the private key in a PEM file (unencrypted), or raise RegisterError."""
    try:
        with open(path, "rb") as key_file:
            data = key_file.read()
    except OSError as error:
        raise RegisterError("cannot read private key file %s: %s" % (path, error)) from None
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise RegisterError("private key file %s does not contain an unencrypted PEM private "
                            "key: %s" % (path, error)) from None


def register(url, access_key, secret_key, cert_path=None, key_path=None):
    """Register the keys and, if given, the certificate, and print each step's result."""
    pem = read_certificate(cert_path) if cert_path else None
    proof = None
    if pem is not None:
        if not key_path:
            raise RegisterError("--cert needs --key, the certificate's private key, to prove "
                                "that the certificate is yours")
        try:
            proof = sign_proof(read_private_key(key_path), access_key, load_certificate(pem))
        except ProofError as error:
            raise RegisterError("cannot sign with %s: %s" % (key_path, error)) from None

    send_action(url, {"Action": "SetUserKeys", "accesskey": access_key,
                      "secretkey": secret_key}, access_key, secret_key)
    print("User keys registered for access key %s." % access_key)

    if pem is not None:
        send_action(url, {"Action": "SetCertificate", "cert": pem, "proof": proof},
                    access_key, secret_key)
        print("Certificate registered for access key %s from %s." % (access_key, cert_path))


def change_offer_mappings(url, access_key, secret_key, mappings, removals):
    """Send SetOfferMapping for each (type, offering id) and DeleteOfferMapping for each type."""
    for instance_type, offering_id in mappings:
        send_action(url, {"Action": "SetOfferMapping", "amazonoffer": instance_type,
                          "cloudoffer": offering_id}, access_key, secret_key)
        print("Instance type %s mapped to service offering %s." % (instance_type, offering_id))
    for instance_type in removals:
        send_action(url, {"Action": "DeleteOfferMapping", "amazonoffer": instance_type},
                    access_key, secret_key)
        print("Mapping of instance type %s removed." % instance_type)


def main(argv=None):
    args = parse_args(argv)
    try:
        register(args.url, args.apikey, args.secretkey, args.cert, args.key)
        change_offer_mappings(args.url, args.apikey, args.secretkey, args.map, args.unmap)
    except RegisterError as error:
        print("Error: %s" % error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
