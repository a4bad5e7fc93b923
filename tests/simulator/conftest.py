"""Fixtures: one simulator per test module, driven over real HTTP."""

import time
from urllib.parse import urlencode

import pytest
import requests

from cloudbridge.cloudstack.signing import sign
from cloudbridge.simulator import start_simulator

ACCOUNTS = [
    ("alice", "alice-api-key", "alice-secret-key", False),
    ("bob", "bob-api-key", "bob-secret-key", False),
    ("root", "root-api-key", "root-secret-key", True),
]
JOB_DELAY = 0.05


@pytest.fixture(scope="module")
def sim():
    simulator = start_simulator(accounts=ACCOUNTS, job_delay=JOB_DELAY)
    yield simulator
    simulator.stop()


class Raw:
    """A minimal signed client returning the raw `requests` response."""

    def __init__(self, sim, name="alice"):
        self.sim = sim
        acct = sim.accounts[name]
        self.key, self.secret = acct.api_key, acct.secret_key

    def params(self, command, **kw):
        params = {k: str(v) for k, v in kw.items()}
        params.update(command=command, apikey=self.key, response="json")
        params["signature"] = sign(params, self.secret)
        return params

    def get(self, command, **kw):
        return requests.get(self.sim.url, params=self.params(command, **kw), timeout=10)

    def post(self, command, **kw):
        return requests.post(self.sim.url, data=self.params(command, **kw), timeout=10)

    def __call__(self, command, **kw):
        """Call and unwrap the single top-level key; raise on non-200."""
        r = self.get(command, **kw)
        body = r.json()
        assert len(body) == 1, body
        value = next(iter(body.values()))
        if r.status_code != 200:
            raise ApiError(r.status_code, value)
        return value

    def wait(self, jobid, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            res = self("queryAsyncJobResult", jobid=jobid)
            if res["jobstatus"] != 0:
                return res
            time.sleep(0.02)
        raise AssertionError("job %s did not finish" % jobid)

    def run(self, command, **kw):
        """Async call: wait for the job; return its result, raise on failure."""
        res = self.wait(self(command, **kw)["jobid"])
        if res["jobstatus"] != 1:
            raise ApiError(res["jobresultcode"], res["jobresult"])
        return res["jobresult"]


class ApiError(Exception):
    def __init__(self, code, body):
        super().__init__("%s %s" % (code, body))
        self.code = code
        self.body = body


@pytest.fixture(scope="module")
def alice(sim):
    return Raw(sim, "alice")


@pytest.fixture(scope="module")
def bob(sim):
    return Raw(sim, "bob")


@pytest.fixture(scope="module")
def root(sim):
    return Raw(sim, "root")


def zone(client, name):
    return [z for z in client("listZones")["zone"] if z["name"] == name][0]


def offering(client, name):
    return client("listServiceOfferings", name=name)["serviceoffering"][0]


def template(client, name_part, zoneid=None):
    kw = {"zoneid": zoneid} if zoneid else {}
    items = client("listTemplates", templatefilter="executable", **kw)["template"]
    return [t for t in items if name_part in t["name"]][0]


__all__ = ["Raw", "ApiError", "zone", "offering", "template", "urlencode"]
