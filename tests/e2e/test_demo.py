"""The demo command of the README: it serves, prints a working environment and stops on Ctrl-C."""

import os
import re
import signal
import socket
import subprocess
import sys

import boto3
import pytest

from tests.harness import wait_for


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_serves_and_stops(tmp_path):
    simulator_port, bridge_port = free_port(), free_port()
    output = tmp_path / "demo.out"
    with open(output, "w") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "cloudbridge.cli.demo", "--dir", str(tmp_path / "demo"),
             "--simulator-port", str(simulator_port), "--bridge-port", str(bridge_port)],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "Press Ctrl-C" in output.read_text() or demo.poll() is not None,
                 timeout=60, what="the demo to print its environment")
        text = output.read_text()
        assert demo.poll() is None, text
        environment = dict(re.findall(r"^export (\w+)=(\S+)$", text, re.M))
        assert environment["AWS_ENDPOINT_URL_EC2"] == \
            "http://127.0.0.1:%d/bridge/rest/AmazonEC2" % bridge_port
        ec2 = boto3.client("ec2", endpoint_url=environment["AWS_ENDPOINT_URL_EC2"],
                           region_name=environment["AWS_DEFAULT_REGION"],
                           aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"])
        image_id = ec2.describe_images()["Images"][0]["ImageId"]
        run = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                InstanceType="m1.small")
        assert run["Instances"][0]["InstanceType"] == "m1.small"

        # A second demo on the same ports stops at once and says why.
        second = subprocess.run(
            [sys.executable, "-m", "cloudbridge.cli.demo", "--dir", str(tmp_path / "other"),
             "--simulator-port", str(simulator_port), "--bridge-port", str(bridge_port)],
            capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        assert "in use" in second.stderr
        assert "Press Ctrl-C" not in second.stdout
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
    assert demo.returncode == 0
    for port in (simulator_port, bridge_port):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert os.path.exists(tmp_path / "demo" / "simulator-state.json")

    # Started again at once, it reuses its keys and state.
    again = tmp_path / "again.out"
    with open(again, "w") as out:
        restarted = subprocess.Popen(
            [sys.executable, "-m", "cloudbridge.cli.demo", "--dir", str(tmp_path / "demo"),
             "--simulator-port", str(simulator_port), "--bridge-port", str(bridge_port)],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "Press Ctrl-C" in again.read_text() or restarted.poll() is not None,
                 timeout=60, what="the demo to start again")
        assert restarted.poll() is None, again.read_text()
    finally:
        restarted.send_signal(signal.SIGINT)
        restarted.wait(timeout=30)
    assert environment["AWS_ACCESS_KEY_ID"] in again.read_text()
