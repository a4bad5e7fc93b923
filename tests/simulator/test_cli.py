"""The cloudstack-simulator command: demo accounts, logging, --state
persistence across a restart, clean stop on SIGTERM."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from cloudbridge.cloudstack.signing import sign


SECRET = "s3cr3t-of-alice"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Proc:
    def __init__(self, *args):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/client/api" % self.port
        cmd = [sys.executable, "-m", "cloudbridge.simulator.server", "--host", "127.0.0.1",
               "--port", str(self.port)] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("simulator exited: %s" % self.proc.stderr.read())
            try:
                requests.get(self.url, timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        self.proc.kill()
        raise AssertionError("simulator did not start")

    def call(self, key, secret, command, **kw):
        params = dict(kw, command=command, apikey=key, response="json")
        params["signature"] = sign(params, secret)
        body = requests.get(self.url, params=params, timeout=10).json()
        return next(iter(body.values()))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, out, err


def wait_job(proc, key, secret, jobid):
    deadline = time.time() + 20
    while time.time() < deadline:
        res = proc.call(key, secret, "queryAsyncJobResult", jobid=jobid)
        if res["jobstatus"]:
            return res
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_demo_accounts_are_printed():
    proc = Proc("--job-delay", "0.05")
    code, out, err = proc.stop()
    assert code == 0
    found = re.findall(r"account (demo-admin|demo-user) \((admin|user)\): apikey=(\S+) "
                       r"secretkey=(\S+)", out)
    assert sorted(f[:2] for f in found) == [("demo-admin", "admin"), ("demo-user", "user")]


def test_state_survives_a_restart(tmp_path):
    state = str(tmp_path / "state.json")
    args = ("--account", "alice:AK:" + SECRET, "--account", "root:RK:RS:admin", "--state", state,
            "--job-delay", "0.05")
    first = Proc(*args)
    try:
        zones = first.call("AK", SECRET, "listZones")["zone"]
        z1 = [z for z in zones if z["name"] == "zone1"][0]
        so = first.call("AK", SECRET, "listServiceOfferings", name="Small Instance")
        tmpl = [t for t in first.call("AK", SECRET, "listTemplates", templatefilter="featured",
                                      zoneid=z1["id"])["template"] if "CentOS" in t["name"]][0]
        kp = first.call("AK", SECRET, "createSSHKeyPair", name="persist")["keypair"]
        res = first.call("AK", SECRET, "deployVirtualMachine", zoneid=z1["id"],
                         serviceofferingid=so["serviceoffering"][0]["id"],
                         templateid=tmpl["id"])
        assert wait_job(first, "AK", SECRET, res["jobid"])["jobstatus"] == 1
        vmid = res["id"]
        # a failing call must not leak keys or signatures into the log
        first.call("AK", SECRET, "listVirtualMachines", id="nope")
    finally:
        code, out, err = first.stop()
    assert code == 0
    assert SECRET not in err and SECRET not in out and "signature" not in err
    assert "command=listVirtualMachines account=alice" in err and "status=431" in err
    with open(state) as f:
        assert vmid in json.load(f)["tables"]["vms"]

    second = Proc(*args)
    try:
        assert [z["id"] for z in second.call("AK", SECRET, "listZones")["zone"]] == \
            [z["id"] for z in zones]
        vms = second.call("AK", SECRET, "listVirtualMachines")["virtualmachine"]
        assert [(v["id"], v["state"]) for v in vms] == [(vmid, "Running")]
        keys = second.call("AK", SECRET, "listSSHKeyPairs")["sshkeypair"]
        assert [(k["name"], k["fingerprint"]) for k in keys] == [("persist",
                                                                 kp["fingerprint"])]
        assert second.call("AK", SECRET, "queryAsyncJobResult",
                           jobid=res["jobid"])["jobstatus"] == 1
    finally:
        assert second.stop()[0] == 0


def test_pending_job_finishes_after_a_restart(tmp_path):
    state = str(tmp_path / "state.json")
    first = Proc("--account", "alice:AK:" + SECRET, "--state", state, "--job-delay", "0.6")
    try:
        z = first.call("AK", SECRET, "listZones", name="zone1")["zone"][0]
        so = first.call("AK", SECRET, "listServiceOfferings")["serviceoffering"][0]
        tmpl = first.call("AK", SECRET, "listTemplates", templatefilter="featured",
                          zoneid=z["id"])["template"][0]
        res = first.call("AK", SECRET, "deployVirtualMachine", zoneid=z["id"],
                         serviceofferingid=so["id"], templateid=tmpl["id"])
    finally:
        assert first.stop()[0] == 0
    second = Proc("--account", "alice:AK:" + SECRET, "--state", state, "--job-delay", "0.05")
    try:
        done = wait_job(second, "AK", SECRET, res["jobid"])
        assert done["jobstatus"] == 1
        assert done["jobresult"]["virtualmachine"]["state"] == "Running"
    finally:
        second.stop()


def test_bad_account_argument():
    proc = subprocess.run([sys.executable, "-m", "cloudbridge.simulator.server",
                           "--account", "only-a-name"], capture_output=True, text=True,
                          timeout=20)
    assert proc.returncode == 2
    assert "NAME:APIKEY:SECRETKEY" in proc.stderr


@pytest.mark.skipif(not os.path.exists(os.path.join(os.path.dirname(sys.executable),
                                                    "cloudstack-simulator")),
                    reason="the console script is not installed")
def test_console_script_help():
    exe = os.path.join(os.path.dirname(sys.executable), "cloudstack-simulator")
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0 and "--job-delay" in proc.stdout
