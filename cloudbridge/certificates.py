"""X.509 certificates of SOAP users: their store key and the proof of possession.

SetCertificate binds a certificate to the access key that signs the
request.  The request also carries a proof, a signature by the
certificate's private key over the access key and the certificate's id,
so that a user cannot bind another user's public certificate to their own keys.
"""

import base64
import binascii
import hashlib

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


class ProofError(ValueError):
    """A proof that is missing, malformed or made with another key."""


def certificate_id(certificate):
    """Return the store's key for a certificate: its SHA-256 fingerprint in hex."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def proof_message(access_key, certificate):
    return ("CloudBridge SetCertificate %s %s"
            % (access_key, certificate_id(certificate))).encode("ascii")


def sign_proof(private_key, access_key, certificate):
    """Return the base64 proof that the holder of private_key registers certificate."""
    message = proof_message(access_key, certificate)
    if isinstance(private_key, rsa.RSAPrivateKey):
        signature = private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(private_key, ec.EllipticCurvePrivateKey):
        signature = private_key.sign(message, ec.ECDSA(hashes.SHA256()))
    else:
        raise ProofError("only RSA and EC private keys can sign a certificate proof")
    return base64.b64encode(signature).decode("ascii")


def verify_proof(proof, access_key, certificate):
    """Raise ProofError unless proof was made by the certificate's private key."""
    try:
        signature = base64.b64decode(proof, validate=True)
    except (binascii.Error, ValueError):
        raise ProofError("the proof is not base64") from None
    message = proof_message(access_key, certificate)
    public_key = certificate.public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            raise ProofError("the certificate's key is neither RSA nor EC")
    except InvalidSignature:
        raise ProofError("the proof was not made with this certificate's private key") from None


def load_certificate(pem):
    """Parse a PEM certificate; raise ValueError if it is not one."""
    return x509.load_pem_x509_certificate(pem.encode("ascii") if isinstance(pem, str) else pem)
