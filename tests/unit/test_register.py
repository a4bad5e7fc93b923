"""cloud-bridge-register against a local HTTP server that verifies each signature."""

import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from cloudbridge.certificates import load_certificate, verify_proof
from cloudbridge.cli import register
from cloudbridge.errors import EC2Error
from cloudbridge.protocol.auth import authenticate
from cloudbridge.protocol.request import HttpRequest, parse_query_params

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "SECRETEXAMPLE"
NAMESPACE = "http://ec2.amazonaws.com/doc/2010-11-15/"


class RecordingHandler(BaseHTTPRequestHandler):
    """Authenticate each request as CloudBridge would and record what arrived."""

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def log_message(self, format, *args):
        pass

    def _handle(self):
        server = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        path, _, query_string = self.path.partition("?")
        request = HttpRequest(method=self.command, path=path, query_string=query_string,
                              headers={name.lower(): value for name, value in self.headers.items()},
                              body=body)
        request.params = parse_query_params(query_string, body, form=request.is_form_post())
        server.received.append(request)

        if server.mode == "http-500":
            self._reply(500, b"Internal Server Error", "text/plain")
            return
        if server.mode == "error-document":
            self._reply_error(400, "InvalidParameterValue", "The access key is already in use.")
            return

        params = request.params
        action = params.get("Action")
        if action == "SetUserKeys":
            # The new keys sign their own registration.
            keys = {params.get("accesskey"): params.get("secretkey")}
        else:
            keys = server.registered_keys
        try:
            result = authenticate(request, keys.get)
        except EC2Error as error:
            self._reply_error(error.status, error.code, error.message)
            return
        server.authenticated.append((action, result))
        if action == "SetUserKeys":
            secret = params["secretkey"]
            if server.mode == "other-secret":
                # Another user's secret is stored, so the next request fails its check.
                secret = "SOMETHING-ELSE"
            server.registered_keys[params["accesskey"]] = secret
        returned = "false" if server.mode == "return-false" else "true"
        document = ('<%sResponse xmlns="%s"><requestId>req-1</requestId>'
                    '<return>%s</return></%sResponse>' % (action, NAMESPACE, returned, action))
        self._reply(200, document.encode("utf-8"), "text/xml")

    def _reply_error(self, status, code, message):
        document = ("<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error>"
                    "</Errors><RequestID>req-1</RequestID></Response>" % (code, message))
        self._reply(status, document.encode("utf-8"), "text/xml")

    def _reply(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def bridge():
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    server.mode = "ok"
    server.received = []
    server.authenticated = []
    server.registered_keys = {}
    server.url = "http://127.0.0.1:%d/bridge" % server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def certificate_file(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.now(timezone.utc)
    certificate = (x509.CertificateBuilder()
                   .subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    path = tmp_path / "cert.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return path


def key_file_of(certificate_file):
    return certificate_file.parent / "key.pem"


def run(capsys, *argv):
    status = register.main(list(argv))
    captured = capsys.readouterr()
    assert SECRET_KEY not in captured.out
    assert SECRET_KEY not in captured.err
    return status, captured.out, captured.err


def test_keys_registered(bridge, capsys):
    status, out, err = run(capsys, "--apikey", ACCESS_KEY, "--secretkey", SECRET_KEY,
                           "--url", bridge.url)
    assert status == 0
    assert out == "User keys registered for access key AKIDEXAMPLE.\n"
    assert err == ""
    assert [action for action, _ in bridge.authenticated] == ["SetUserKeys"]
    params = bridge.received[0].params
    assert params["accesskey"] == ACCESS_KEY
    assert params["secretkey"] == SECRET_KEY
    assert params["Version"] == "2010-11-15"
    assert params["SignatureMethod"] == "HmacSHA256"
    assert params["SignatureVersion"] == "2"


def test_request_is_form_post(bridge, capsys):
    run(capsys, "-a", ACCESS_KEY, "-s", SECRET_KEY, "-u", bridge.url)
    request = bridge.received[0]
    assert request.method == "POST"
    assert request.path == "/bridge"
    assert request.query_string == ""
    assert request.is_form_post()
    assert request.headers["host"] == "127.0.0.1:%d" % bridge.server_address[1]


def test_timestamp_is_utc(bridge, capsys, monkeypatch):
    # Run with a local zone far from UTC: a local time labelled "Z" would be
    # nine hours off and fail the server's clock check.
    monkeypatch.setenv("TZ", "JST-9")
    time.tzset()
    try:
        status, _, err = run(capsys, "-a", ACCESS_KEY, "-s", SECRET_KEY, "-u", bridge.url)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert status == 0, err
    timestamp = bridge.received[0].params["Timestamp"]
    assert timestamp.endswith("Z")
    sent = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs(datetime.now(timezone.utc) - sent) < timedelta(minutes=5)


def test_keys_and_certificate_registered(bridge, capsys, certificate_file):
    url = bridge.url + "/rest/AmazonEC2"
    status, out, err = run(capsys, "-a", ACCESS_KEY, "-s", SECRET_KEY,
                           "-c", str(certificate_file),
                           "-k", str(key_file_of(certificate_file)), "-u", url)
    assert status == 0, err
    assert out.splitlines() == [
        "User keys registered for access key AKIDEXAMPLE.",
        "Certificate registered for access key AKIDEXAMPLE from %s." % certificate_file,
    ]
    assert [action for action, _ in bridge.authenticated] == ["SetUserKeys", "SetCertificate"]
    assert all(result.access_key == ACCESS_KEY for _, result in bridge.authenticated)
    set_certificate = bridge.received[1]
    assert set_certificate.path == "/bridge/rest/AmazonEC2"
    assert set_certificate.params["cert"] == certificate_file.read_text()
    assert set_certificate.params["Version"] == "2010-11-15"


def test_missing_certificate_file(bridge, capsys, tmp_path):
    missing = tmp_path / "absent.pem"
    status, out, err = run(capsys, "-a", ACCESS_KEY, "-s", SECRET_KEY, "-c", str(missing),
                           "-u", bridge.url)
    assert status == 1
    assert out == ""
    assert "cannot read certificate file %s" % missing in err
    assert bridge.received == []


def test_certificate_file_not_pem(bridge, capsys, tmp_path):
    not_pem = tmp_path / "key.txt"
    not_pem.write_text("ssh-rsa AAAAB3NzaC1yc2E user@host\n")
    status, _, err = run(capsys, "-a", ACCESS_KEY, "-s", SECRET_KEY, "-c", str(not_pem),
                         "-u", bridge.url)
    assert status == 1
    assert "does not contain a PEM X.509 certificate" in err
    assert bridge.received == []


def test_ec2_error_document_reported(bridge, capsys):
    bridge.mode = "error-document"
    status, out, err = run(capsys, "-a", ACCESS_KEY, "-s", SECRET_KEY, "-u", bridge.url)
    assert status == 1
    assert out == ""
    assert "SetUserKeys failed" in err
    assert "InvalidParameterValue" in err
    assert "The access key is already in use." in err


def test_signature_rejection_reported(bridge, capsys, certificate_file):
    bridge.mode = "other-secret"
    status, out, err = run(capsys, "-a", ACCESS_KEY, "-s", SECRET_KEY,
                           "-c", str(certificate_file),
                           "-k", str(key_file_of(certificate_file)), "-u", bridge.url)
    assert status == 1
    assert out == "User keys registered for access key AKIDEXAMPLE.\n"
    assert "SetCertificate failed: SignatureDoesNotMatch" in err


def test_http_500_reported(bridge, capsys):
    bridge.mode = "http-500"
    status, out, err = run(capsys, "-a", ACCESS_KEY, "-s", SECRET_KEY, "-u", bridge.url)
    assert status == 1
    assert out == ""
    assert "HTTP 500" in err


def test_return_false_reported(bridge, capsys):
    bridge.mode = "return-false"
    status, _, err = run(capsys, "-a", ACCESS_KEY, "-s", SECRET_KEY, "-u", bridge.url)
    assert status == 1
    assert "returned false" in err


def test_connection_refused_reported(capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = "http://127.0.0.1:%d/bridge" % port
    status, out, err = run(capsys, "-a", ACCESS_KEY, "-s", SECRET_KEY, "-u", url)
    assert status == 1
    assert out == ""
    assert "cannot reach %s" % url in err


def test_invalid_url_reported(capsys):
    status, _, err = run(capsys, "-a", ACCESS_KEY, "-s", SECRET_KEY, "-u", "127.0.0.1:8090/bridge")
    assert status == 1
    assert "invalid URL" in err


@pytest.mark.parametrize("missing", ["--apikey", "--secretkey", "--url"])
def test_required_option_missing(capsys, missing):
    options = {"--apikey": ACCESS_KEY, "--secretkey": SECRET_KEY, "--url": "http://127.0.0.1:1/"}
    argv = [item for name, value in options.items() if name != missing for item in (name, value)]
    with pytest.raises(SystemExit) as raised:
        register.main(argv)
    assert raised.value.code == 2
    assert missing in capsys.readouterr().err


def test_signed_body_verifies():
    now = datetime(2026, 12, 4, 19, 49, tzinfo=timezone.utc)
    body = register.signed_form_body({"Action": "SetUserKeys", "accesskey": ACCESS_KEY,
                                      "secretkey": "a b*c+d"}, ACCESS_KEY, SECRET_KEY,
                                     "bridge.example:8090", "/bridge", now=now)
    assert "secretkey=a%20b%2Ac%2Bd" in body
    assert "Timestamp=2026-12-04T19%3A49%3A00Z" in body
    request = HttpRequest(method="POST", path="/bridge", query_string="",
                          headers={"host": "bridge.example:8090",
                                   "content-type": "application/x-www-form-urlencoded"},
                          body=body.encode("ascii"))
    request.params = parse_query_params("", request.body, form=True)
    lookup = {ACCESS_KEY: SECRET_KEY}.get
    assert authenticate(request, lookup, now=now).access_key == ACCESS_KEY


def test_certificate_without_key_rejected(bridge, capsys, certificate_file):
    status, _, err = run(capsys, "-a", ACCESS_KEY, "-s", SECRET_KEY,
                         "-c", str(certificate_file), "-u", bridge.url)
    assert status == 1
    assert "--key" in err
    assert bridge.received == []


def test_certificate_proof_sent(bridge, capsys, certificate_file):
    status, _, err = run(capsys, "-a", ACCESS_KEY, "-s", SECRET_KEY, "-c", str(certificate_file),
                         "-k", str(key_file_of(certificate_file)), "-u", bridge.url)
    assert status == 0, err
    sent = bridge.received[1].params
    verify_proof(sent["proof"], ACCESS_KEY, load_certificate(sent["cert"]))
    assert "PRIVATE KEY" not in sent["cert"]
