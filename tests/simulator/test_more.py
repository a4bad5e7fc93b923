"""Job queues per object, the expunge delay, limits, templates from
snapshots, ISOs and networks."""

import time

import pytest

from cloudbridge.simulator import start_simulator
from tests.simulator.conftest import ApiError, Raw, offering, template, zone


@pytest.fixture(scope="module")
def sim():
    simulator = start_simulator(accounts=[("carol", "ck", "cs", False),
                                          ("admin", "ak", "as", True)],
                                job_delay=0.1, expunge_delay=0.3)
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def carol(sim):
    return Raw(sim, "carol")


@pytest.fixture(scope="module")
def ids(carol):
    z = zone(carol, "zone1")
    return {"zoneid": z["id"], "serviceofferingid": offering(carol, "Small Instance")["id"],
            "templateid": template(carol, "CentOS", z["id"])["id"]}


def test_jobs_on_one_vm_run_in_order(carol, ids):
    deploy = carol("deployVirtualMachine", **ids)
    stop = carol("stopVirtualMachine", id=deploy["id"])
    vm = carol("listVirtualMachines", id=deploy["id"])["virtualmachine"][0]
    assert vm["state"] == "Starting" and vm["jobid"] == deploy["jobid"]
    assert carol("queryAsyncJobResult", jobid=stop["jobid"])["jobstatus"] == 0
    assert carol.wait(deploy["jobid"])["jobresult"]["virtualmachine"]["state"] == "Running"
    assert carol.wait(stop["jobid"])["jobresult"]["virtualmachine"]["state"] == "Stopped"


def test_destroyed_vms_are_expunged_after_the_delay(sim, carol, ids):
    vm = carol.run("deployVirtualMachine", **ids)["virtualmachine"]
    carol.run("destroyVirtualMachine", id=vm["id"])
    assert sim.state.vms[vm["id"]]["state"] == "Destroyed"
    deadline = time.time() + 5
    while vm["id"] in sim.state.vms and time.time() < deadline:
        time.sleep(0.05)
    assert vm["id"] not in sim.state.vms
    assert not [v for v in sim.state.volumes.values() if v.get("virtualmachineid") == vm["id"]]


def test_vm_limit(sim, carol, ids):
    acct = sim.accounts["carol"]
    sim.state.accounts[acct.account_id]["limits"] = {"0": 0}
    try:
        with pytest.raises(ApiError) as err:
            carol("deployVirtualMachine", **ids)
        assert err.value.code == 535
        assert "Maximum number of resources of type 'user_vm'" in err.value.body["errortext"]
        limit = carol("listResourceLimits", resourcetype=0)["resourcelimit"][0]
        assert limit["max"] == 0
    finally:
        sim.state.accounts[acct.account_id]["limits"] = {}


def test_template_from_snapshot(carol, ids):
    vm = carol.run("deployVirtualMachine", **ids)["virtualmachine"]
    rootvol = carol("listVolumes", virtualmachineid=vm["id"])["volume"][0]
    snap = carol.run("createSnapshot", volumeid=rootvol["id"])["snapshot"]
    ostype = carol("listOsTypes")["ostype"][0]["id"]
    res = carol("createTemplate", name="from-snap", displaytext="from snapshot",
                ostypeid=ostype, snapshotid=snap["id"])
    assert set(res) == {"id", "jobid"}
    tmpl = carol.wait(res["jobid"])["jobresult"]["template"]
    assert tmpl["id"] == res["id"] and tmpl["isready"] is True
    assert tmpl["sourcetemplateid"] == ids["templateid"]
    # deployable in the snapshot's zone
    new = carol.run("deployVirtualMachine", **dict(ids, templateid=tmpl["id"]))
    assert new["virtualmachine"]["templateid"] == tmpl["id"]
    with pytest.raises(ApiError) as err:
        carol("createTemplate", name="x", displaytext="x", ostypeid=ostype)
    assert err.value.body["errortext"] == ("Failed to create private template record, need to "
                                           "specify snapshotId or volumeId")


def test_registered_template_becomes_ready(carol, ids):
    ostype = carol("listOsTypes")["ostype"][0]["id"]
    reg = carol("registerTemplate", name="reg", displaytext="reg", format="QCOW2",
                hypervisor="KVM", ostypeid=ostype, url="http://example.com/x.qcow2",
                zoneid="-1")["template"]
    assert len(reg) == 2 and not reg[0]["isready"]
    with pytest.raises(ApiError):
        carol("registerTemplate", name="bad", displaytext="bad", format="VHD",
              hypervisor="XenServer", ostypeid=ostype, url="ftp://example.com/x",
              zoneid=ids["zoneid"])
    time.sleep(0.3)
    listed = carol("listTemplates", templatefilter="self", id=reg[0]["id"])["template"]
    assert listed[0]["isready"] is True and listed[0]["status"] == "Download Complete"


def test_isos(carol):
    isos = carol("listIsos", isofilter="executable")["iso"]
    assert isos[0]["bootable"] is True and isos[0]["format"] == "ISO"
    assert carol("listIsos") == {}  # default filter: selfexecutable


def test_networks(carol):
    z1, z2 = zone(carol, "zone1"), zone(carol, "zone2")
    shared = carol("listNetworkOfferings", zoneid=z1["id"])["networkoffering"]
    assert [o["guestiptype"] for o in shared] == ["Shared"]
    isolated = carol("listNetworkOfferings", zoneid=z2["id"])["networkoffering"]
    assert [o["guestiptype"] for o in isolated] == ["Isolated"]
    with pytest.raises(ApiError) as err:
        carol("createNetwork", name="n", displaytext="n", zoneid=z1["id"],
              networkofferingid=isolated[0]["id"])
    assert err.value.code == 431
    net = carol("createNetwork", name="n", displaytext="n", zoneid=z2["id"],
                networkofferingid=isolated[0]["id"])["network"]
    assert net["state"] == "Allocated" and net["type"] == "Isolated"
    assert net["account"] == "carol"
    names = {n["name"] for n in carol("listNetworks")["network"]}
    assert names == {"n", "guestNetworkForBasicZone"}
    ip = carol.run("associateIpAddress", networkid=net["id"])["ipaddress"]
    assert ip["associatednetworkid"] == net["id"]
    assert carol("listNetworks", id=net["id"])["network"][0]["state"] == "Implemented"


def test_admin_acts_for_an_account(sim, ids):
    admin = Raw(sim, "admin")
    carol = sim.accounts["carol"]
    kp = admin("createSSHKeyPair", name="for-carol", account="carol",
               domainid=carol.domain_id)["keypair"]
    assert kp["name"] == "for-carol"
    assert "for-carol" in [k["name"] for k in Raw(sim, "carol")("listSSHKeyPairs")["sshkeypair"]]
    with pytest.raises(ApiError) as err:
        Raw(sim, "carol")("createSSHKeyPair", name="x", account="admin",
                          domainid=carol.domain_id)
    assert err.value.code == 531
