"""Drive the simulator with the independent `cs` client (exoscale/cs)."""

import pytest
from cs import CloudStack, CloudStackApiException, CloudStackException

from tests.simulator.conftest import offering, template, zone


def client(sim, name="alice", **kw):
    acct = sim.accounts[name]
    kw.setdefault("poll_interval", 0.02)
    kw.setdefault("job_timeout", 20)
    return CloudStack(endpoint=sim.url, key=acct.api_key, secret=acct.secret_key, **kw)


@pytest.fixture(scope="module")
def cs(sim):
    return client(sim)


@pytest.fixture(scope="module")
def ids(alice):
    z = zone(alice, "zone1")
    return {"zoneid": z["id"], "serviceofferingid": offering(alice, "Small Instance")["id"],
            "templateid": template(alice, "CentOS", z["id"])["id"]}


def test_signature_version_3_and_plain(sim):
    v3 = client(sim)  # cs sends signatureVersion=3 + expires by default
    assert len(v3.listZones()["zone"]) == 2
    plain = client(sim, expiration=-1)
    assert len(plain.listZones()["zone"]) == 2
    post = client(sim, method="post")
    assert len(post.listZones()["zone"]) == 2


def test_cs_tilde_encoding_is_rejected(cs):
    # cs encodes values with Python's quote, which leaves "~" alone; a real
    # server (Java's URLEncoder: %7E) computes another signature.
    with pytest.raises(CloudStackApiException) as err:
        cs.listZones(keyword="a~b")
    assert err.value.response.status_code == 401
    assert err.value.error["errorcode"] == 401


def test_fetch_list_paging(cs):
    all_templates = cs.listTemplates(templatefilter="executable", fetch_list=True)
    assert len(all_templates) == cs.listTemplates(templatefilter="executable")["count"]


def test_vm_lifecycle(cs, ids):
    vm = cs.deployVirtualMachine(fetch_result=True, **ids)["virtualmachine"]
    assert vm["state"] == "Running"
    assert cs.stopVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]["state"] \
        == "Stopped"
    assert cs.startVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]["state"] \
        == "Running"
    cs.rebootVirtualMachine(id=vm["id"], fetch_result=True)
    cs.destroyVirtualMachine(id=vm["id"], fetch_result=True)
    assert cs.listVirtualMachines(id=vm["id"]) == {}


def test_failed_job_raises(cs, ids):
    params = dict(ids, serviceofferingid=offering_id(cs, "Huge Instance"))
    with pytest.raises(CloudStackApiException) as err:
        cs.deployVirtualMachine(fetch_result=True, **params)
    assert err.value.error["errorcode"] == 533


def offering_id(cs, name):
    return cs.listServiceOfferings(name=name)["serviceoffering"][0]["id"]


def test_volumes_and_snapshots(cs, ids):
    offerings = cs.listDiskOfferings()["diskoffering"]
    custom = [o for o in offerings if o["iscustomized"]][0]
    vol = cs.createVolume(name="data1", zoneid=ids["zoneid"], diskofferingid=custom["id"],
                          size=7, fetch_result=True)["volume"]
    assert vol["state"] == "Allocated" and vol["size"] == 7 * 1024 ** 3
    assert vol["type"] == "DATADISK"
    vm = cs.deployVirtualMachine(fetch_result=True, **ids)["virtualmachine"]
    att = cs.attachVolume(id=vol["id"], virtualmachineid=vm["id"], fetch_result=True)["volume"]
    assert att["state"] == "Ready" and att["virtualmachineid"] == vm["id"]
    assert att["deviceid"] == 1
    with pytest.raises(CloudStackApiException) as err:  # already attached: the job fails
        cs.attachVolume(id=vol["id"], virtualmachineid=vm["id"], fetch_result=True)
    assert err.value.error == {"errorcode": 530, "errortext":
                               "Please specify a volume that is not attached to any VM."}
    with pytest.raises(CloudStackApiException) as err:
        cs.deleteVolume(id=vol["id"])
    assert err.value.error["errorcode"] == 431
    snap = cs.createSnapshot(volumeid=vol["id"], fetch_result=True)["snapshot"]
    assert snap["state"] == "BackedUp" and snap["volumeid"] == vol["id"]
    assert [s["id"] for s in cs.listSnapshots(volumeid=vol["id"])["snapshot"]] == [snap["id"]]
    det = cs.detachVolume(id=vol["id"], fetch_result=True)["volume"]
    assert "virtualmachineid" not in det
    with pytest.raises(CloudStackApiException) as err:
        cs.detachVolume(id=vol["id"], fetch_result=True)
    assert err.value.error["errortext"] == "The specified volume is not attached to a VM."
    from_snap = cs.createVolume(name="restored", snapshotid=snap["id"],
                                fetch_result=True)["volume"]
    assert from_snap["size"] == vol["size"] and from_snap["state"] == "Ready"
    assert cs.deleteVolume(id=vol["id"]) == {"success": "true"}
    assert cs.deleteSnapshot(id=snap["id"], fetch_result=True) == {"success": True}
    with pytest.raises(CloudStackApiException):
        cs.createVolume(name="x", zoneid=ids["zoneid"], diskofferingid=custom["id"])


def test_templates(cs, ids):
    featured = cs.listTemplates(templatefilter="featured")["template"]
    assert all(t["isfeatured"] and t["ispublic"] for t in featured)
    community = cs.listTemplates(templatefilter="community")["template"]
    assert [t["name"] for t in community] == ["Debian 7 x86_64 (community)"]
    with pytest.raises(CloudStackApiException) as err:
        cs.listTemplates(templatefilter="all")
    assert err.value.error["errorcode"] == 431
    assert cs.listTemplates(templatefilter="self") == {}
    vm = cs.deployVirtualMachine(fetch_result=True, **ids)["virtualmachine"]
    rootvol = cs.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    ostype = cs.listOsTypes()["ostype"][0]["id"]
    with pytest.raises(CloudStackApiException) as err:  # VM must be stopped
        cs.createTemplate(name="img", displaytext="img", ostypeid=ostype,
                          volumeid=rootvol["id"])
    assert err.value.error["errorcode"] == 431
    cs.stopVirtualMachine(id=vm["id"], fetch_result=True)
    tmpl = cs.createTemplate(name="img", displaytext="my image", ostypeid=ostype,
                             volumeid=rootvol["id"], fetch_result=True)["template"]
    assert tmpl["isready"] and tmpl["templatetype"] == "USER" and not tmpl["ispublic"]
    mine = cs.listTemplates(templatefilter="self")["template"]
    assert [t["id"] for t in mine] == [tmpl["id"]]
    upd = cs.updateTemplate(id=tmpl["id"], displaytext="renamed")["template"]
    assert upd["displaytext"] == "renamed"
    assert cs.updateTemplatePermissions(id=tmpl["id"], accounts="bob", op="add") == \
        {"success": "true"}
    perm = cs.listTemplatePermissions(id=tmpl["id"])["templatepermission"]
    assert perm["account"] == ["bob"] and perm["ispublic"] is False
    assert cs.deleteTemplate(id=tmpl["id"], fetch_result=True) == {"success": True}
    assert cs.listTemplates(templatefilter="self") == {}
    reg = cs.registerTemplate(name="reg", displaytext="reg", format="VHD",
                              hypervisor="XenServer", ostypeid=ostype,
                              url="http://example.com/img.vhd", zoneid=ids["zoneid"])
    assert reg["count"] == 1 and reg["template"][0]["isready"] is False
    isos = cs.listIsos(isofilter="featured")["iso"]
    assert isos and isos[0]["format"] == "ISO"


def test_key_pairs(cs):
    created = cs.createSSHKeyPair(name="k1")["keypair"]
    assert created["privatekey"].startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert len(created["fingerprint"].split(":")) == 16
    with pytest.raises(CloudStackApiException) as err:
        cs.createSSHKeyPair(name="k1")
    assert err.value.error["errortext"] == "A key pair with name 'k1' already exists."
    pub = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDMaSZY4v228AWWcXYLoojgaZ+K8SbuI8YoPDEi9UWcww5"
           "mWSTxVl6Ksb8YPFxL6+3/unlfr4zK1LksxgN8XRuZr+YBFGphUB6a5EcyshkXi3mfAE7d6a26ah6ySXFK9G"
           "mZoXcJqQ1xLC9rKGPL7tWgHmbX1lCbN6QinV0mZVEHNw== test")
    reg = cs.registerSSHKeyPair(name="k2", publickey=pub)["keypair"]
    assert set(reg) == {"name", "fingerprint"}
    with pytest.raises(CloudStackApiException) as err:
        cs.registerSSHKeyPair(name="k3", publickey="garbage")
    assert err.value.error["errortext"] == "Public key is invalid"
    names = [k["name"] for k in cs.listSSHKeyPairs()["sshkeypair"]]
    assert {"k1", "k2"} <= set(names)
    assert cs.listSSHKeyPairs(name="k2")["sshkeypair"][0]["fingerprint"] == reg["fingerprint"]
    assert cs.deleteSSHKeyPair(name="k2") == {"success": "true"}
    assert cs.listSSHKeyPairs(name="k2") == {}


def test_security_groups(cs, sim, ids):
    groups = cs.listSecurityGroups()["securitygroup"]
    assert [g["name"] for g in groups] == ["default"]
    web = cs.createSecurityGroup(name="web", description="Web servers")["securitygroup"]
    with pytest.raises(CloudStackApiException) as err:
        cs.createSecurityGroup(name="web")
    assert "already exisits" in err.value.error["errortext"]
    res = cs.authorizeSecurityGroupIngress(securitygroupid=web["id"], protocol="tcp",
                                           startport=80, endport=80, cidrlist="0.0.0.0/0",
                                           fetch_result=True)["securitygroup"]
    rule = res["ingressrule"][0]
    assert rule["protocol"] == "tcp" and rule["startport"] == 80 and rule["cidr"] == "0.0.0.0/0"
    grp = cs.authorizeSecurityGroupIngress(
        securitygroupname="web", protocol="tcp", startport=22, endport=22,
        usersecuritygrouplist=[{"account": "alice", "group": "default"}],
        fetch_result=True)["securitygroup"]
    assert grp["ingressrule"][0]["securitygroupname"] == "default"
    with pytest.raises(CloudStackApiException) as err:  # duplicate rule
        cs.authorizeSecurityGroupIngress(securitygroupid=web["id"], protocol="tcp",
                                         startport=80, endport=80, cidrlist="0.0.0.0/0",
                                         fetch_result=True)
    assert err.value.error["errortext"] == "Failed to authorize security group ingress rule(s)"
    with pytest.raises(CloudStackApiException) as err:
        cs.authorizeSecurityGroupIngress(securitygroupid=web["id"], protocol="tcp",
                                         startport=1000, endport=99999, cidrlist="0.0.0.0/0",
                                         fetch_result=True)
    assert err.value.error == {"errorcode": 530, "errortext": "Invalid port numbers 1000:99999"}
    icmp = cs.authorizeSecurityGroupIngress(securitygroupid=web["id"], protocol="icmp",
                                            icmptype=-1, icmpcode=-1, cidrlist="10.0.0.0/8",
                                            fetch_result=True)["securitygroup"]["ingressrule"]
    assert icmp[0]["icmptype"] == -1
    listed = cs.listSecurityGroups(id=web["id"])["securitygroup"][0]
    assert len(listed["ingressrule"]) == 3
    assert cs.revokeSecurityGroupIngress(id=rule["ruleid"], fetch_result=True) == \
        {"success": True}
    assert len(cs.listSecurityGroups(id=web["id"])["securitygroup"][0]["ingressrule"]) == 2
    vm = cs.deployVirtualMachine(securitygroupnames="web", fetch_result=True,
                                 **ids)["virtualmachine"]
    assert [g["name"] for g in vm["securitygroup"]] == ["web"]
    with pytest.raises(CloudStackApiException) as err:
        cs.deleteSecurityGroup(name="web")
    assert err.value.error["errorcode"] == 536
    with pytest.raises(CloudStackApiException) as err:
        cs.deleteSecurityGroup(name="default")
    assert err.value.error["errorcode"] == 431
    cs.destroyVirtualMachine(id=vm["id"], fetch_result=True)
    root = client(sim, "root")
    root.expungeVirtualMachine(id=vm["id"], fetch_result=True)
    assert cs.deleteSecurityGroup(name="web") == {"success": "true"}


def test_tags(cs, ids):
    vm = cs.deployVirtualMachine(fetch_result=True, **ids)["virtualmachine"]
    assert cs.createTags(resourcetype="UserVm", resourceids=vm["id"],
                         tags=[{"key": "Name", "value": "web server 1"}],
                         fetch_result=True) == {"success": True}
    tags = cs.listTags(resourceid=vm["id"])["tag"]
    assert tags == [{"key": "Name", "value": "web server 1", "resourcetype": "UserVm",
                     "resourceid": vm["id"], "account": "alice", "domainid": vm["domainid"],
                     "domain": "ROOT"}]
    listed = cs.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    assert listed["tags"][0]["key"] == "Name"
    by_tag = cs.listVirtualMachines(tags=[{"key": "Name", "value": "web server 1"}])
    assert [v["id"] for v in by_tag["virtualmachine"]] == [vm["id"]]
    with pytest.raises(CloudStackApiException) as err:
        cs.createTags(resourcetype="UserVm", resourceids="no-such-vm",
                      tags=[{"key": "a", "value": "b"}], fetch_result=True)
    assert err.value.error == {"errorcode": 530, "errortext":
                               "Unable to find resource by id no-such-vm and type UserVm"}
    assert cs.deleteTags(resourcetype="UserVm", resourceids=vm["id"],
                         tags=[{"key": "Name"}], fetch_result=True) == {"success": True}
    assert cs.listTags(resourceid=vm["id"]) == {}


def test_accounts_users_limits_capabilities(cs, sim):
    accounts = cs.listAccounts()["account"]
    assert [a["name"] for a in accounts] == ["alice"]
    assert accounts[0]["accounttype"] == 0 and accounts[0]["user"][0]["username"] == "alice"
    users = cs.listUsers()["user"]
    assert users[0]["apikey"] == sim.accounts["alice"].api_key
    limits = cs.listResourceLimits(resourcetype=0)["resourcelimit"]
    assert limits[0]["resourcetype"] == "0" and limits[0]["max"] == 20
    cap = cs.listCapabilities()["capability"]
    assert cap["securitygroupsenabled"] is True and cap["cloudstackversion"].startswith("4.2")
    root = client(sim, "root")
    assert {a["name"] for a in root.listAccounts()["account"]} >= {"alice", "bob", "root"}
    assert cs.listHypervisors()["hypervisor"] == [{"name": "XenServer"}]


def test_connection_refused_when_down(sim, cs):
    sim.stop()
    try:
        with pytest.raises(Exception):
            client(sim, retry=0).listZones()
    finally:
        sim.start()
    assert cs.listZones()["count"] == 2


def test_errors_raise_cs_exceptions(cs):
    with pytest.raises(CloudStackApiException) as err:
        cs.listVirtualMachines(id="nope")
    assert err.value.error["errorcode"] == 431
    with pytest.raises(CloudStackException):
        cs.listFoos()
