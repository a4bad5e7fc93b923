"""The health check: HTTP 200 only while both the database and CloudStack respond."""

import http.server
import io
import json
import logging
import socket
import threading

import pytest

from cloudbridge import health
from cloudbridge.app import BridgeApplication
from cloudbridge.config import Config
from cloudbridge.health import check_cloudstack, health_check
from cloudbridge.store import open_store
from tests.appliance.conftest import free_port


def sqlite_config(tmp_path, cloud_api_port):
    return Config(path=str(tmp_path / "ec2-service.properties"), db_type="sqlite",
                  db_file=str(tmp_path / "cloudbridge.db"), management_server="127.0.0.1",
                  cloud_api_port=cloud_api_port)


def unreachable_mysql_config(cloud_api_port):
    # Nothing listens on the port, so every connection is refused.
    return Config(path="ec2-service.properties", db_type="mysql", db_host="127.0.0.1",
                  db_port=free_port(), db_name="cloudbridge", db_user="cloud",
                  management_server="127.0.0.1", cloud_api_port=cloud_api_port)


@pytest.fixture
def sqlite_store(tmp_path):
    def make(config):
        store = open_store(config)
        store.ensure_schema()
        stores.append(store)
        return store
    stores = []
    yield make
    for store in stores:
        store.close()


class FixedResponseServer:
    """An HTTP server on 127.0.0.1 that sends one fixed response to every request."""

    def __init__(self, status, content_type, body):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def decode(body):
    return json.loads(body.decode("utf-8"))


def test_healthy(simulator, tmp_path, sqlite_store):
    config = sqlite_config(tmp_path, simulator.port)
    status, body, content_type = health_check(config, sqlite_store(config))
    assert status == 200
    assert content_type == "application/json"
    assert decode(body) == {"status": "ok", "database": "ok", "cloudstack": "ok"}


def test_cloudstack_down(tmp_path, sqlite_store):
    config = sqlite_config(tmp_path, free_port())
    status, body, _content_type = health_check(config, sqlite_store(config))
    assert status == 503
    assert decode(body) == {"status": "unavailable", "database": "ok",
                            "cloudstack": "cannot connect"}


def test_database_down(simulator):
    config = unreachable_mysql_config(simulator.port)
    store = open_store(config)
    try:
        status, body, _content_type = health_check(config, store)
    finally:
        store.close()
    assert status == 503
    assert decode(body) == {"status": "unavailable", "database": "not responding",
                            "cloudstack": "ok"}


def test_both_down():
    config = unreachable_mysql_config(free_port())
    store = open_store(config)
    try:
        status, body, _content_type = health_check(config, store)
    finally:
        store.close()
    assert status == 503
    assert decode(body) == {"status": "unavailable", "database": "not responding",
                            "cloudstack": "cannot connect"}


@pytest.mark.parametrize("status, content_type, body", [
    (502, "text/html", b"<html>Bad Gateway</html>"),
    (200, "text/html", b"<html>Apache Tomcat</html>"),
    (500, "application/json", b'{"errorresponse": {}}'),
])
def test_unexpected_response(tmp_path, sqlite_store, status, content_type, body):
    server = FixedResponseServer(status, content_type, body)
    try:
        config = sqlite_config(tmp_path, server.port)
        code, health_body, _content_type = health_check(config, sqlite_store(config))
    finally:
        server.stop()
    assert code == 503
    assert decode(health_body)["cloudstack"] == "unexpected response"


def test_json_answer_counts_as_up(tmp_path, sqlite_store):
    # An integration API port returns 200 and JSON for unsigned requests.
    server = FixedResponseServer(200, "application/json",
                                 b'{"listcapabilitiesresponse": {"capability": {}}}')
    try:
        config = sqlite_config(tmp_path, server.port)
        code, _body, _content_type = health_check(config, sqlite_store(config))
    finally:
        server.stop()
    assert code == 200


def test_silent_server_times_out():
    # The kernel completes the connection, but nothing ever reads or responds.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = "http://127.0.0.1:%d/client/api" % silent.getsockname()[1]
        assert check_cloudstack(url, timeout=0.5) == "timed out"


def test_default_timeout_is_short():
    assert 1 <= health.CLOUDSTACK_TIMEOUT_SECONDS <= 5


def test_failures_logged_once_per_change(simulator, tmp_path, sqlite_store, caplog):
    up = sqlite_config(tmp_path, simulator.port)
    down = sqlite_config(tmp_path, free_port())
    store = sqlite_store(up)
    health_check(up, store)  # start from a known state

    caplog.set_level(logging.INFO, logger="cloudbridge.health")
    health_check(down, store)
    health_check(down, store)
    health_check(up, store)
    messages = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert len(messages) == 2, messages
    assert messages[0][0] == "WARNING"
    assert messages[0][1].startswith("health check: cloudstack at %s is down (cannot connect)"
                                     % down.cloudstack_url)
    assert messages[1] == ("INFO", "health check: cloudstack at %s is up again"
                           % up.cloudstack_url)


def call_app(app, path):
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = int(status.split()[0])
        seen["headers"] = dict(headers)

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
               "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(b"")}
    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


def test_health_through_application(simulator, tmp_path, sqlite_store):
    config = sqlite_config(tmp_path, simulator.port)
    app = BridgeApplication(config, sqlite_store(config))
    status, headers, body = call_app(app, "/bridge/health")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert decode(body)["status"] == "ok"

    down = BridgeApplication(sqlite_config(tmp_path, free_port()), sqlite_store(config))
    status, _headers, body = call_app(down, "/bridge/health")
    assert status == 503
    assert decode(body)["cloudstack"] == "cannot connect"
