"""VM state machine, async jobs and ownership, through raw signed calls."""

import base64
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.simulator.conftest import ApiError, offering, template, zone


@pytest.fixture(scope="module")
def basic(alice):
    z = zone(alice, "zone1")
    return {"zoneid": z["id"], "serviceofferingid": offering(alice, "Small Instance")["id"],
            "templateid": template(alice, "CentOS", z["id"])["id"]}


def test_deploy_pending_then_running(sim, alice, basic):
    res = alice("deployVirtualMachine", **basic)
    assert set(res) == {"id", "jobid"}
    vms = alice("listVirtualMachines", id=res["id"])["virtualmachine"]
    assert vms[0]["state"] == "Starting"
    assert vms[0]["jobid"] == res["jobid"] and vms[0]["jobstatus"] == 0
    pending = alice("queryAsyncJobResult", jobid=res["jobid"])
    assert pending["jobstatus"] == 0 and "jobresult" not in pending
    done = alice.wait(res["jobid"])
    assert done["jobstatus"] == 1 and done["jobresultcode"] == 0
    assert done["jobresulttype"] == "object"
    assert done["cmd"] == "org.apache.cloudstack.api.command.user.vm.DeployVMCmd"
    vm = done["jobresult"]["virtualmachine"]
    assert vm["id"] == res["id"] and vm["state"] == "Running"
    assert vm["nic"][0]["type"] == "Shared" and vm["nic"][0]["ipaddress"].startswith("203.0.113.")
    assert [g["name"] for g in vm["securitygroup"]] == ["default"]
    listed = alice("listVirtualMachines", id=res["id"])["virtualmachine"][0]
    assert listed["state"] == "Running" and "jobid" not in listed
    assert sim.state.vms[res["id"]]["state"] == "Running"
    root = alice("listVolumes", virtualmachineid=res["id"])["volume"]
    assert [(v["type"], v["state"]) for v in root] == [("ROOT", "Ready")]


def test_stop_start_reboot_destroy_recover(sim, alice, root, basic):
    vmid = alice.run("deployVirtualMachine", name="web-1", displayname="Web 1",
                     **basic)["virtualmachine"]["id"]
    stop = alice("stopVirtualMachine", id=vmid)
    assert alice("listVirtualMachines", id=vmid)["virtualmachine"][0]["state"] == "Stopping"
    assert alice.wait(stop["jobid"])["jobresult"]["virtualmachine"]["state"] == "Stopped"
    # stopping a stopped VM succeeds
    assert alice.run("stopVirtualMachine", id=vmid)["virtualmachine"]["state"] == "Stopped"
    # reboot needs a running VM: the job fails with 530
    res = alice.wait(alice("rebootVirtualMachine", id=vmid)["jobid"])
    assert res["jobstatus"] == 2 and res["jobresultcode"] == 530
    assert res["jobresult"] == {"errorcode": 530, "errortext": "Failed to reboot vm instance"}
    start = alice("startVirtualMachine", id=vmid)
    assert alice("listVirtualMachines", id=vmid)["virtualmachine"][0]["state"] == "Starting"
    assert alice.wait(start["jobid"])["jobresult"]["virtualmachine"]["state"] == "Running"
    assert alice.run("rebootVirtualMachine", id=vmid)["virtualmachine"]["state"] == "Running"
    assert alice.run("destroyVirtualMachine", id=vmid)["virtualmachine"]["state"] == "Destroyed"
    # hidden from the user, visible to the admin
    assert alice("listVirtualMachines", id=vmid) == {}
    listed = root("listVirtualMachines", id=vmid, listall="true")["virtualmachine"]
    assert listed[0]["state"] == "Destroyed"
    recovered = alice("recoverVirtualMachine", id=vmid)["virtualmachine"]
    assert recovered["state"] == "Stopped"
    alice.run("destroyVirtualMachine", id=vmid)
    assert root.run("expungeVirtualMachine", id=vmid) == {"success": True}
    assert vmid not in sim.state.vms
    with pytest.raises(ApiError) as err:
        alice("listVirtualMachines", id=vmid)
    assert err.value.code == 431


def test_huge_offering_fails_inside_the_job(alice, basic):
    params = dict(basic, serviceofferingid=offering(alice, "Huge Instance")["id"])
    res = alice("deployVirtualMachine", **params)
    done = alice.wait(res["jobid"])
    assert done["jobstatus"] == 2
    assert done["jobresultcode"] == 533
    assert done["jobresult"]["errorcode"] == 533
    assert "Unable to create a deployment for VM" in done["jobresult"]["errortext"]
    assert alice("listVirtualMachines", id=res["id"])["virtualmachine"][0]["state"] == "Error"


def test_sync_validation_before_the_job(alice, basic):
    with pytest.raises(ApiError) as err:
        alice("deployVirtualMachine", keypair="nope", **basic)
    assert err.value.code == 431
    assert err.value.body["errortext"] == "A key pair with name 'nope' was not found."
    with pytest.raises(ApiError) as err:
        alice("deployVirtualMachine", securitygroupnames="nope", **basic)
    assert err.value.code == 431
    with pytest.raises(ApiError) as err:
        alice("deployVirtualMachine", userdata="not base64!", **basic)
    assert err.value.body["errortext"] == "User data is not base64 encoded"


def test_startvm_false_and_change_service(alice, basic):
    vm = alice.run("deployVirtualMachine", startvm="false", **basic)["virtualmachine"]
    assert vm["state"] == "Stopped"
    vol = alice("listVolumes", virtualmachineid=vm["id"])["volume"][0]
    assert vol["state"] == "Allocated"
    medium = offering(alice, "Medium Instance")
    changed = alice("changeServiceForVirtualMachine", id=vm["id"],
                    serviceofferingid=medium["id"])["virtualmachine"]
    assert changed["serviceofferingname"] == "Medium Instance"
    alice.run("startVirtualMachine", id=vm["id"])
    with pytest.raises(ApiError) as err:
        alice("changeServiceForVirtualMachine", id=vm["id"],
              serviceofferingid=offering(alice, "Small Instance")["id"])
    assert err.value.code == 431 and "stopped" in err.value.body["errortext"]


def test_update_virtual_machine(alice, basic):
    vm = alice.run("deployVirtualMachine", **basic)["virtualmachine"]
    data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    upd = alice("updateVirtualMachine", id=vm["id"], displayname="renamed",
                userdata=data)["virtualmachine"]
    assert upd["displayname"] == "renamed"


def test_ownership(alice, bob, root, basic):
    vm = alice.run("deployVirtualMachine", **basic)["virtualmachine"]
    assert bob("listVirtualMachines", id=vm["id"]) == {}
    with pytest.raises(ApiError) as err:
        bob("stopVirtualMachine", id=vm["id"])
    assert err.value.code == 531
    assert err.value.body["cserrorcode"] == 4365
    # the admin sees everyone's VMs with listall=true, only its own without
    assert vm["id"] in [v["id"] for v in root("listVirtualMachines",
                                                listall="true")["virtualmachine"]]
    assert vm["id"] not in [v["id"] for v in root("listVirtualMachines").get(
        "virtualmachine", [])]
    mine = root("listVirtualMachines", account="alice",
                domainid=vm["domainid"])["virtualmachine"]
    assert {v["account"] for v in mine} == {"alice"}
    with pytest.raises(ApiError) as err:
        bob("queryAsyncJobResult", jobid=alice("stopVirtualMachine", id=vm["id"])["jobid"])
    assert err.value.code == 531


def test_password_enabled_template_and_get_vm_password(alice, basic):
    kp = alice("createSSHKeyPair", name="pw-key")["keypair"]
    tmpl = template(alice, "password enabled", basic["zoneid"])
    assert tmpl["passwordenabled"] is True
    res = alice.run("deployVirtualMachine", keypair="pw-key",
                    **dict(basic, templateid=tmpl["id"]))["virtualmachine"]
    password = res["password"]
    assert len(password) == 6
    enc = alice("getVMPassword", id=res["id"])["password"]["encryptedpassword"]
    key = serialization.load_pem_private_key(kp["privatekey"].encode(), None)
    assert key.decrypt(base64.b64decode(enc), padding.PKCS1v15()).decode() == password
    # reset needs a stopped VM
    failed = alice.wait(alice("resetPasswordForVirtualMachine", id=res["id"])["jobid"])
    assert failed["jobstatus"] == 2
    alice.run("stopVirtualMachine", id=res["id"])
    new = alice.run("resetPasswordForVirtualMachine", id=res["id"])["virtualmachine"]
    assert new["password"] != password
    enc = alice("getVMPassword", id=res["id"])["password"]["encryptedpassword"]
    assert key.decrypt(base64.b64decode(enc), padding.PKCS1v15()).decode() == new["password"]


def test_get_vm_password_without_password(alice, basic):
    vm = alice.run("deployVirtualMachine", **basic)["virtualmachine"]
    with pytest.raises(ApiError) as err:
        alice("getVMPassword", id=vm["id"])
    assert err.value.code == 431


def test_advanced_zone_network_and_static_nat(sim, alice, bob):
    z2 = zone(alice, "zone2")
    params = {"zoneid": z2["id"], "serviceofferingid": offering(alice, "Small Instance")["id"],
              "templateid": template(alice, "CentOS", z2["id"])["id"]}
    with pytest.raises(ApiError) as err:
        bob("associateIpAddress", zoneid=z2["id"])
    assert "doesn't have virtual networks" in err.value.body["errortext"]
    with pytest.raises(ApiError) as err:
        alice("deployVirtualMachine", securitygroupnames="default", **params)
    assert err.value.code == 431
    vm = alice.run("deployVirtualMachine", **params)["virtualmachine"]
    nic = vm["nic"][0]
    assert nic["type"] == "Isolated" and nic["ipaddress"].startswith("10.1.1.")
    nets = alice("listNetworks", zoneid=z2["id"])["network"]
    assert [n["name"] for n in nets] == ["alice-network"]
    assert nets[0]["state"] == "Implemented"
    ips = alice("listPublicIpAddresses")["publicipaddress"]
    assert [i["issourcenat"] for i in ips] == [True]
    res = alice("associateIpAddress", zoneid=z2["id"])
    assert set(res) == {"id", "jobid"}
    ip = alice.wait(res["jobid"])["jobresult"]["ipaddress"]
    assert ip["id"] == res["id"] and ip["ipaddress"].startswith("198.51.100.")
    assert alice("listPublicIpAddresses", id=ip["id"])["publicipaddress"][0]["state"] == \
        "Allocated"
    assert alice("enableStaticNat", ipaddressid=ip["id"], virtualmachineid=vm["id"]) == \
        {"success": "true"}
    listed = alice("listPublicIpAddresses", id=ip["id"])["publicipaddress"][0]
    assert listed["isstaticnat"] is True and listed["virtualmachineid"] == vm["id"]
    vmv = alice("listVirtualMachines", id=vm["id"])["virtualmachine"][0]
    assert vmv["publicip"] == ip["ipaddress"]
    assert alice.run("disableStaticNat", ipaddressid=ip["id"]) == {"success": True}
    assert alice.run("disassociateIpAddress", id=ip["id"]) == {"success": True}
    assert ip["id"] not in sim.state.ips
    source = [i for i in alice("listPublicIpAddresses")["publicipaddress"] if i["issourcenat"]]
    failed = alice.wait(alice("disassociateIpAddress", id=source[0]["id"])["jobid"])
    assert failed["jobstatus"] == 2


def test_list_async_jobs(alice):
    jobs = alice("listAsyncJobs")["asyncjobs"]
    assert jobs and all(j["accountid"] == jobs[0]["accountid"] for j in jobs)


def test_job_result_survives_for_query(alice, basic):
    res = alice("deployVirtualMachine", **basic)
    first = alice.wait(res["jobid"])
    time.sleep(0.1)
    assert alice("queryAsyncJobResult", jobid=res["jobid"]) == first
