"""Query API protocol details: namespaces, paths, GET and POST, logs without secrets."""

import logging

import requests
from lxml import etree

from tests.harness import USERS, signed_query


def test_namespace_follows_version(cloud):
    for version in ("2010-11-15", "2013-02-01", "2016-11-15"):
        response = signed_query(cloud, "alice", {"Action": "DescribeAvailabilityZones"},
                                version=version)
        assert response.status_code == 200
        root = etree.fromstring(response.content)
        assert root.tag == "{http://ec2.amazonaws.com/doc/%s/}DescribeAvailabilityZonesResponse" \
            % version


def test_unsupported_version(cloud):
    response = signed_query(cloud, "alice", {"Action": "DescribeInstances"},
                            version="2009-01-01")
    assert response.status_code == 400
    assert b"<Code>InvalidParameterValue</Code>" in response.content


def test_get_and_post_and_paths(cloud):
    get = signed_query(cloud, "alice", {"Action": "DescribeImages"}, method="GET")
    post = signed_query(cloud, "alice", {"Action": "DescribeImages"}, method="POST")
    assert get.status_code == post.status_code == 200
    slash = requests.get(cloud.bridge.url + "/bridge/rest/AmazonEC2/",
                         params={"Action": "CloudEC2Version", "Version": "2010-11-15"},
                         timeout=30)
    assert slash.status_code == 200


def test_secrets_never_logged(cloud, caplog):
    caplog.set_level(logging.DEBUG)
    cloud.register_users()
    cloud.boto3("alice").describe_instances()
    signed_query(cloud, "alice", {"Action": "DescribeInstances"}, secret="bad-secret")
    cloud.boto2("bob").get_all_zones()
    # The clients run in this process and log their own signatures: read
    # only what CloudBridge and the simulator logged.
    text = "\n".join(r.getMessage() for r in caplog.records
                     if r.name.startswith("cloudbridge"))
    assert "DescribeInstances" in text
    for user in USERS.values():
        assert user.secret_key not in text
    assert "Signature=" not in text


def test_health_follows_cloudstack(cloud):
    healthy = requests.get(cloud.bridge.url + "/bridge/health", timeout=30)
    assert healthy.status_code == 200
    assert healthy.json()["status"] == "ok"
    cloud.simulator.stop()
    try:
        down = requests.get(cloud.bridge.url + "/bridge/health", timeout=30)
        assert down.status_code == 503
        assert down.json()["cloudstack"] != "ok"
        assert down.json()["database"] == "ok"
    finally:
        cloud.simulator.start()
    assert requests.get(cloud.bridge.url + "/bridge/health", timeout=30).status_code == 200


def test_health_answers_head(cloud):
    response = requests.head(cloud.bridge.url + "/bridge/health", timeout=30)
    assert response.status_code == 200
    assert response.content == b""
