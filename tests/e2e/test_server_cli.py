"""The cloud-bridge command: start-up, logs and a bad configuration, as an operator runs it."""

import os
import signal
import socket
import subprocess
import sys

import boto3

from cloudbridge.simulator import start_simulator
from tests.harness import wait_for

BIN = os.path.dirname(sys.executable)
ACCESS_KEY, SECRET_KEY = "AKIDLOGTEST000000001", "log-test-secret-do-not-print"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_conf(directory, text):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ec2-service.properties").write_text(text)
    return str(directory)


def test_bad_config_names_key_and_file(tmp_path):
    conf = write_conf(tmp_path / "conf", "managementServer=127.0.0.1\nlistenPort=http\n")
    result = subprocess.run([os.path.join(BIN, "cloud-bridge"), "--conf", conf],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "listenPort" in result.stderr
    assert os.path.join(conf, "ec2-service.properties") in result.stderr
    assert "Traceback" not in result.stderr


def test_server_logs_requests_without_secrets(tmp_path):
    simulator = start_simulator(accounts=[("logger", ACCESS_KEY, SECRET_KEY, False)],
                                job_delay=0.05)
    port = free_port()
    conf = write_conf(tmp_path / "conf", "\n".join([
        "managementServer=127.0.0.1", "cloudAPIPort=%d" % simulator.port,
        "cloudbridgeVersion=9.9-test", "dbType=sqlite", "dbFile=../bridge.db",
        "dbPassword=db-password-do-not-print", "listenAddress=127.0.0.1",
        "listenPort=%d" % port, "logDir=../logs", ""]))
    server = subprocess.Popen([os.path.join(BIN, "cloud-bridge"), "--conf", conf])
    try:
        def listening():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return True
            except OSError:
                return server.poll() is not None
        wait_for(listening, what="cloud-bridge to listen")
        assert server.poll() is None

        register = subprocess.run([
            os.path.join(BIN, "cloud-bridge-register"), "--apikey", ACCESS_KEY,
            "--secretkey", SECRET_KEY, "--url", "http://127.0.0.1:%d/bridge" % port],
            capture_output=True, text=True, timeout=60)
        assert register.returncode == 0, register.stderr
        assert SECRET_KEY not in register.stdout

        ec2 = boto3.client("ec2", endpoint_url="http://127.0.0.1:%d/bridge/rest/AmazonEC2" % port,
                           region_name="cloudstack", aws_access_key_id=ACCESS_KEY,
                           aws_secret_access_key=SECRET_KEY)
        assert len(ec2.describe_availability_zones()["AvailabilityZones"]) == 2
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        simulator.stop()

    logs = tmp_path / "logs"
    access = (logs / "access.log").read_text()
    application = (logs / "cloudbridge.log").read_text()
    line = next(l for l in access.splitlines() if "DescribeAvailabilityZones" in l)
    fields = line.split()
    assert ACCESS_KEY in fields
    assert "200" in fields
    assert any(l.split()[-2] == "200" and "SetUserKeys" in l for l in access.splitlines())
    assert "9.9-test" in application
    assert "ec2-service.properties" in application
    assert "http://127.0.0.1:%d/client/api" % simulator.port in application
    assert "sqlite:" in application
    for text in (access, application):
        assert SECRET_KEY not in text
        assert "db-password-do-not-print" not in text
        assert "Signature=" not in text


def test_busy_port_is_reported(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        conf = write_conf(tmp_path / "conf", "\n".join([
            "managementServer=127.0.0.1", "dbType=sqlite", "dbFile=../bridge.db",
            "listenAddress=127.0.0.1", "listenPort=%d" % port, "logDir=../logs", ""]))
        result = subprocess.run([os.path.join(BIN, "cloud-bridge"), "--conf", conf],
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "cannot listen on 127.0.0.1:%d" % port in result.stderr
    assert "in use" in result.stderr
    assert "cannot listen" in (tmp_path / "logs" / "cloudbridge.log").read_text()
