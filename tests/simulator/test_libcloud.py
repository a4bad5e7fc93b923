"""Drive the simulator with libcloud's CloudStack driver."""

from urllib.parse import urlparse

import pytest
from libcloud.compute.drivers.cloudstack import CloudStackNodeDriver
from libcloud.compute.types import InvalidCredsError, NodeState


def make_driver(sim, name="alice", secret=None):
    acct = sim.accounts[name]
    url = urlparse(sim.url)
    driver = CloudStackNodeDriver(key=acct.api_key, secret=secret or acct.secret_key,
                                  host=url.hostname, port=url.port, path=url.path,
                                  secure=False)
    driver.connection.poll_interval = 0.02
    return driver


@pytest.fixture(scope="module")
def driver(sim):
    return make_driver(sim)


@pytest.fixture(scope="module")
def zone1(driver):
    return [loc for loc in driver.list_locations() if loc.name == "zone1"][0]


def test_locations_images_sizes(driver, zone1):
    assert sorted(loc.name for loc in driver.list_locations()) == ["zone1", "zone2"]
    images = driver.list_images(location=zone1)
    assert any("CentOS" in i.name for i in images)
    sizes = {s.name: s for s in driver.list_sizes()}
    assert sizes["Small Instance"].ram == 512


def test_bad_credentials(sim):
    with pytest.raises(InvalidCredsError):
        make_driver(sim, secret="wrong").list_locations()


def test_node_lifecycle(driver, zone1, sim):
    image = [i for i in driver.list_images(location=zone1) if "CentOS" in i.name][0]
    size = [s for s in driver.list_sizes() if s.name == "Small Instance"][0]
    node = driver.create_node(name="lc-node", size=size, image=image, location=zone1,
                              ex_start_vm=True, ex_security_groups=["default"])
    assert node.name == "lc-node"
    assert node.state == NodeState.RUNNING
    assert node.private_ips or node.public_ips
    listed = [n for n in driver.list_nodes() if n.id == node.id]
    assert listed and listed[0].state == NodeState.RUNNING
    assert driver.reboot_node(node) is True
    assert driver.destroy_node(node) is True
    assert node.id not in [n.id for n in driver.list_nodes()]
    assert sim.state.vms[node.id]["state"] == "Destroyed"


def test_stopped_node_by_default(driver, zone1):
    image = [i for i in driver.list_images(location=zone1) if "CentOS" in i.name][0]
    size = driver.list_sizes()[0]
    node = driver.create_node(name="stopped-node", size=size, image=image, location=zone1)
    assert node.state == NodeState.STOPPED  # libcloud sends startvm=false
    assert driver.ex_start(node) == "Running"
    assert driver.ex_stop(node) == "Stopped"
    driver.destroy_node(node)


def test_key_pairs(driver):
    kp = driver.create_key_pair(name="lc-key")
    assert kp.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert "lc-key" in [k.name for k in driver.list_key_pairs()]
    assert driver.get_key_pair("lc-key").fingerprint == kp.fingerprint
    pub = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDMaSZY4v228AWWcXYLoojgaZ+K8SbuI8YoPDEi9UWcww5"
           "mWSTxVl6Ksb8YPFxL6+3/unlfr4zK1LksxgN8XRuZr+YBFGphUB6a5EcyshkXi3mfAE7d6a26ah6ySXFK9G"
           "mZoXcJqQ1xLC9rKGPL7tWgHmbX1lCbN6QinV0mZVEHNw== test")
    imported = driver.import_key_pair_from_string("lc-imported", pub)
    assert imported.fingerprint
    assert driver.delete_key_pair(kp) is True
    assert driver.delete_key_pair(imported) is True
    assert "lc-key" not in [k.name for k in driver.list_key_pairs()]


def test_security_groups(driver):
    group = driver.ex_create_security_group("lc-sg", description="from libcloud")
    assert group["name"] == "lc-sg"
    res = driver.ex_authorize_security_group_ingress("lc-sg", "TCP", "0.0.0.0/0", 443)
    assert res["ingressrule"][0]["startport"] == 443
    assert driver.ex_revoke_security_group_ingress(res["ingressrule"][0]["ruleid"])
    names = [g["name"] for g in driver.ex_list_security_groups()]
    assert "lc-sg" in names and "default" in names
    assert driver.ex_delete_security_group("lc-sg") == "true"  # 4.2: a string


def test_volumes(driver, zone1):
    vol = driver.create_volume(size=10, name="lc-vol", location=zone1)
    assert vol.name == "lc-vol"
    image = [i for i in driver.list_images(location=zone1) if "CentOS" in i.name][0]
    node = driver.create_node(name="vol-node", size=driver.list_sizes()[0], image=image,
                              location=zone1, ex_start_vm=True)
    assert driver.attach_volume(node, vol) is True
    assert [v.id for v in driver.list_volumes(node=node) if v.id == vol.id] == [vol.id]
    assert driver.detach_volume(vol) is True
    assert driver.destroy_volume(vol) is True
    assert vol.id not in [v.id for v in driver.list_volumes()]
    driver.destroy_node(node)
