"""End-to-end test harness: the simulator, CloudBridge servers and real EC2 clients.

`Cloud` is one CloudStack simulator plus one or more CloudBridge servers on
one store (SQLite or MariaDB), with users registered through SetUserKeys and
instance types mapped through SetOfferMapping, exactly as an operator would.
Every server binds 127.0.0.1 on a free port.
"""

import dataclasses
import os
import subprocess
import sys

import boto.exception
import boto3
import botocore.config
import botocore.exceptions
import pytest
from lxml import etree

from cloudbridge.cli.register import send_action
from cloudbridge.cloudstack.client import CloudStackClient
from cloudbridge.protocol.schema import validation_errors
from cloudbridge.server import ThreadedServer, open_and_prepare_store
from cloudbridge.simulator import start_simulator

QUERY_PATH = "/bridge/rest/AmazonEC2"
EC2_NS = "http://ec2.amazonaws.com/doc/2010-11-15/"
EXTENSION_RESPONSES = {"%sResponse" % name for name in (
    "CloudEC2Version", "SetUserKeys", "SetCertificate", "DeleteCertificate",
    "SetOfferMapping", "DeleteOfferMapping")}


@dataclasses.dataclass
class User:
    name: str
    access_key: str
    secret_key: str
    admin: bool = False


USERS = {
    "admin": User("admin", "AKIDADMIN0000000000001", "admin-secret-0001/+=", True),
    "alice": User("alice", "AKIDALICE0000000000001", "alice-secret-0001/+="),
    "bob": User("bob", "AKIDBOB000000000000001", "bob-secret-0001/+="),
}


class ResponseRecorder:
    """WSGI middleware keeping (status, body) of every response, for schema checks."""

    def __init__(self, app, responses):
        self.app = app
        self.responses = responses

    def __call__(self, environ, start_response):
        seen = {}

        def record_start(status, headers, exc_info=None):
            seen["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info)

        body = b"".join(self.app(environ, record_start))
        self.responses.append((seen.get("status"), body))
        return [body]

    def take(self):
        taken = list(self.responses)
        del self.responses[:]
        return taken


class Cloud:
    """A simulator and CloudBridge servers sharing one store."""

    def __init__(self, db_config, job_delay=0.1, job_timeout=20.0):
        self.simulator = start_simulator(
            accounts=[(u.name, u.access_key, u.secret_key, u.admin) for u in USERS.values()],
            job_delay=job_delay)
        self.config = dataclasses.replace(
            db_config, management_server="127.0.0.1", cloud_api_port=self.simulator.port,
            async_poll_interval=0.05, async_job_timeout=job_timeout, cloud_api_timeout=10.0,
            cloudbridge_version="test", region_name="cloudstack")
        self.servers = []
        self.stores = []
        self.responses = []
        self.bridge = self.add_server()

    def add_server(self):
        """Start one more CloudBridge server (its own store connections) on the same database."""
        store = open_and_prepare_store(self.config)
        server = ThreadedServer(self.config, store)
        server.server.wsgi_app = ResponseRecorder(server.app, self.responses)
        self.stores.append(store)
        self.servers.append(server)
        return server

    def endpoint(self, server=None):
        return (server or self.bridge).url + QUERY_PATH

    def register_users(self):
        for user in USERS.values():
            send_action(self.bridge.url + "/bridge",
                        {"Action": "SetUserKeys", "accesskey": user.access_key,
                         "secretkey": user.secret_key}, user.access_key, user.secret_key)

    def offerings(self):
        """The simulator's service offerings by name, as an admin lists them."""
        admin = USERS["admin"]
        client = CloudStackClient(self.simulator.url, admin.access_key, admin.secret_key)
        return {o["name"]: o["id"]
                for o in client.list("listServiceOfferings", "serviceoffering")}

    def cloudstack(self, user="alice"):
        u = USERS[user]
        return CloudStackClient(self.simulator.url, u.access_key, u.secret_key)

    def map_offering(self, instance_type, offering_id):
        admin = USERS["admin"]
        send_action(self.bridge.url + "/bridge",
                    {"Action": "SetOfferMapping", "amazonoffer": instance_type,
                     "cloudoffer": offering_id}, admin.access_key, admin.secret_key)

    def stop(self):
        for server in self.servers:
            server.stop()
        for store in self.stores:
            store.close()
        self.simulator.stop()

    # Clients

    def boto3(self, user="alice", server=None, **kwargs):
        u = USERS[user]
        return boto3.client(
            "ec2", endpoint_url=self.endpoint(server), region_name="cloudstack",
            aws_access_key_id=u.access_key, aws_secret_access_key=u.secret_key,
            config=botocore.config.Config(retries={"max_attempts": 1}), **kwargs)

    def boto2(self, user="alice", server=None):
        import boto.ec2.connection
        from boto.ec2.regioninfo import RegionInfo

        class SigV2Connection(boto.ec2.connection.EC2Connection):
            # boto 2 signs with SigV4 unless the connection asks for version 2.
            def _required_auth_capability(self):
                return ["ec2"]

        u = USERS[user]
        target = server or self.bridge
        return SigV2Connection(
            aws_access_key_id=u.access_key, aws_secret_access_key=u.secret_key,
            is_secure=False, port=target.port, path=QUERY_PATH,
            region=RegionInfo(name="cloudstack", endpoint="127.0.0.1"),
            api_version="2010-11-15")

    def libcloud(self, user="alice"):
        from libcloud.compute.providers import Provider, get_driver
        u = USERS[user]
        driver = get_driver(Provider.EC2)(u.access_key, u.secret_key, secure=False,
                                          host="127.0.0.1", port=self.bridge.port,
                                          region="us-east-1")
        driver.path = QUERY_PATH
        return driver

    def aws(self, user, *args, check=True):
        """Run awscli against this CloudBridge; return the completed process."""
        u = USERS[user]
        env = dict(os.environ, AWS_ACCESS_KEY_ID=u.access_key,
                   AWS_SECRET_ACCESS_KEY=u.secret_key, AWS_DEFAULT_REGION="cloudstack",
                   AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull,
                   AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                   # Any request that escapes the local endpoint fails at once.
                   HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="127.0.0.1")
        aws = os.path.join(os.path.dirname(sys.executable), "aws")
        process = subprocess.run([aws, "ec2", *args, "--endpoint-url", self.endpoint(),
                                  "--output", "json"], env=env, capture_output=True,
                                 text=True, timeout=120)
        if check and process.returncode != 0:
            raise AssertionError("aws %s failed: %s" % (" ".join(args), process.stderr))
        return process


SOAP_ENVELOPE = "{http://schemas.xmlsoap.org/soap/envelope/}Envelope"
SOAP_BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"


def response_element(body):
    """The EC2 response element of a Query API document or of a SOAP envelope."""
    if not body.lstrip().startswith(b"<"):
        return None  # the health check's JSON
    root = etree.fromstring(body)
    if root.tag == SOAP_ENVELOPE:
        soap_body = root.find(SOAP_BODY)
        return soap_body[0] if soap_body is not None and len(soap_body) else None
    return root


def assert_recorded_responses_valid(cloud):
    """Validate every successful 2010-11-15 response the servers sent since the last call."""
    for status, body in list(cloud.responses):
        element = response_element(body) if status == 200 else None
        if element is None or etree.QName(element).namespace != EC2_NS:
            continue
        if etree.QName(element).localname in EXTENSION_RESPONSES:
            continue  # CloudBridge's own actions are not in the EC2 schema
        assert_valid(etree.tostring(element))
    del cloud.responses[:]


def assert_valid(body):
    """Assert that a 2010-11-15 response body validates against the WSDL schema."""
    problems = validation_errors(body)
    assert problems == [], "response does not match the 2010-11-15 schema: %s\n%s" % (
        problems, body.decode("utf-8", "replace"))


def xml_text(body, path):
    """Texts of the elements at an ElementPath (namespace-free, e.g. './/instanceId')."""
    root = etree.fromstring(body)
    path = "/".join(("{%s}%s" % (EC2_NS, p) if p not in (".", "") else p)
                    for p in path.split("/"))
    return [e.text for e in root.findall(path)]


def calls(cloud, command):
    """The CloudStack calls of one command that the simulator received, in order."""
    return [c for c in cloud.simulator.calls if c["command"] == command]


def cloudstack_id(cloud, ec2_id):
    """The CloudStack id the store maps an EC2 id to."""
    kind = ec2_id.split("-")[0]
    return cloud.stores[0].cloudstack_ids(kind, [ec2_id])[ec2_id]


def boto3_code(call, *args, **kwargs):
    """The EC2 error code of a boto3 call that must fail."""
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(*args, **kwargs)
    return raised.value.response["Error"]["Code"]


def boto2_code(call, *args, **kwargs):
    """The EC2 error code of a boto 2 call that must fail with HTTP 400."""
    with pytest.raises(boto.exception.EC2ResponseError) as raised:
        call(*args, **kwargs)
    assert raised.value.status == 400
    return raised.value.error_code


def signed_query(cloud, user, params, timestamp=None, secret=None, method="POST",
                 version="2010-11-15", server=None):
    """Send a SigV2-signed Query request with requests; return the response."""
    import datetime

    import requests

    from cloudbridge.protocol import sigv2

    u = USERS[user] if isinstance(user, str) else user
    target = server or cloud.bridge
    host = "127.0.0.1:%d" % target.port
    timestamp = timestamp or datetime.datetime.now(datetime.timezone.utc)
    signed = dict(params)
    signed.update({"AWSAccessKeyId": u.access_key, "SignatureMethod": "HmacSHA256",
                   "SignatureVersion": "2", "Version": version,
                   "Timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")})
    signed["Signature"] = sigv2.sign(method, host, QUERY_PATH, signed,
                                     secret if secret is not None else u.secret_key)
    url = target.url + QUERY_PATH
    if method == "GET":
        return requests.get(url, params=signed, timeout=60)
    return requests.post(url, data=signed, timeout=60)


def error_code(response):
    """The Code of an EC2 error document, checking the document's shape on the way."""
    root = etree.fromstring(response.content)
    assert root.tag == "Response", response.text
    assert root.find("Errors/Error/Message") is not None, response.text
    assert root.findtext("RequestID"), response.text
    return root.findtext("Errors/Error/Code")


def wait_for(condition, timeout=20.0, interval=0.1, what="condition"):
    """Poll until condition() is true; fail the test after timeout seconds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def instance_state(cloud, user, instance_id):
    """The EC2 state name of an instance as boto3 describes it, or None once it is gone."""
    import botocore.exceptions

    try:
        reservations = cloud.boto3(user).describe_instances(
            InstanceIds=[instance_id])["Reservations"]
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] == "InvalidInstanceID.NotFound":
            return None
        raise
    return reservations[0]["Instances"][0]["State"]["Name"]


def wait_for_instance_state(cloud, user, instance_id, state):
    wait_for(lambda: instance_state(cloud, user, instance_id) == state,
             what="%s to be %s" % (instance_id, state))
