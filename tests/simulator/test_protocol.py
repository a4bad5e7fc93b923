"""HTTP-level behaviour: signature check, envelopes, errors, paths."""

import time
from urllib.parse import urlencode

import requests

from cloudbridge.cloudstack.signing import sign

AUTH_TEXT = "unable to verify user credentials and/or request signature"


def _url(sim, params):
    return sim.url + "?" + urlencode(params)


def test_content_type_and_4_2_formatting(alice):
    r = alice.get("listZones")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/javascript; charset=UTF-8"
    assert r.text.startswith('{ "listzonesresponse" : { "count":2 ,"zone" : [  {')
    assert r.text.endswith(" ] } }")


def test_empty_list_is_an_empty_object(alice):
    r = alice.get("listVolumes")
    assert r.text == '{ "listvolumesresponse" : { } }'
    assert r.json() == {"listvolumesresponse": {}}


def test_bad_signature_is_401_with_the_command_response_name(sim, alice):
    params = alice.params("listZones")
    params["signature"] = sign(params, "wrong-secret")
    r = requests.get(sim.url, params=params)
    assert r.status_code == 401
    assert r.json() == {"listzonesresponse": {"uuidList": [], "errorcode": 401,
                                              "errortext": AUTH_TEXT}}


def test_unknown_api_key_and_missing_signature(sim, alice):
    params = {"command": "listZones", "apikey": "nobody", "response": "json"}
    params["signature"] = sign(params, "x")
    assert requests.get(sim.url, params=params).status_code == 401
    params = {"command": "listZones", "apikey": alice.key, "response": "json"}
    assert requests.get(sim.url, params=params).status_code == 401


def test_unknown_and_wrong_case_commands_are_401_errorresponse(alice):
    for command in ("listFoos", "listzones"):
        r = alice.get(command)
        assert r.status_code == 401
        assert r.json() == {"errorresponse": {"uuidList": [], "errorcode": 401,
                                              "errortext": AUTH_TEXT}}


def test_parameter_names_are_case_insensitive_after_the_check(alice):
    zones = alice("listZones")["zone"]
    z = alice("listZones", Id=zones[1]["id"])
    assert [x["id"] for x in z["zone"]] == [zones[1]["id"]]


def test_signature_is_over_raw_names_sorted_case_sensitively(sim, alice):
    # mixed-case names: the server sorts the names as sent
    params = {"command": "listZones", "apiKey": alice.key, "response": "json",
              "zoneId": "x", "Keyword": "zone"}
    params["signature"] = sign(params, alice.secret)
    r = requests.get(_url(sim, params))
    assert r.status_code == 200, r.text


def test_post_form(alice):
    r = alice.post("listZones", name="zone2")
    assert r.status_code == 200
    assert r.json()["listzonesresponse"]["zone"][0]["name"] == "zone2"


def test_signature_version_3_and_expires(sim, alice):
    def call(expires):
        params = {"command": "listZones", "apikey": alice.key, "response": "json",
                  "signatureVersion": "3", "expires": expires}
        params["signature"] = sign(params, alice.secret)
        return requests.get(sim.url, params=params)

    future = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(time.time() + 600))
    past = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(time.time() - 600))
    assert call(future).status_code == 200
    assert call(past).status_code == 401
    assert call("tomorrow").status_code == 401
    params = {"command": "listZones", "apikey": alice.key, "response": "json",
              "signatureVersion": "3"}
    params["signature"] = sign(params, alice.secret)
    assert requests.get(sim.url, params=params).status_code == 401


def test_tilde_is_signed_as_java_encodes_it(sim, alice):
    # A signer using Java's encoding (~ -> %7E) is accepted.
    r = alice.get("listZones", keyword="zone~1")
    assert r.status_code == 200


def test_missing_parameter_message(alice):
    r = alice.get("deployVirtualMachine")
    assert r.status_code == 431
    assert r.headers["X-Description"] == ("Unable to execute API command deployvirtualmachine "
                                          "due to missing parameter zoneid")
    assert r.json() == {"deployvirtualmachineresponse": {
        "uuidList": [], "errorcode": 431, "cserrorcode": 9999,
        "errortext": "Unable to execute API command deployvirtualmachine due to missing "
                     "parameter zoneid"}}
    r = alice.get("listTemplates")
    assert r.json()["listtemplatesresponse"]["errortext"] == (
        "Unable to execute API command listtemplates due to missing parameter templatefilter")


def test_revoke_ingress_uses_its_old_response_name(alice):
    r = alice.get("revokeSecurityGroupIngress")
    assert r.status_code == 431
    body = r.json()
    assert list(body) == ["revokesecuritygroupingress"]
    # 4.2 cuts 8 characters ("response") off the response name
    assert body["revokesecuritygroupingress"]["errortext"] == (
        "Unable to execute API command revokesecuritygrou due to missing parameter id")


def test_unknown_id_is_431(alice):
    r = alice.get("listVirtualMachines", id="8d0e0c5b-0000-4000-8000-000000000000")
    assert r.status_code == 431
    text = r.json()["listvirtualmachinesresponse"]["errortext"]
    assert text.startswith("Unable to execute API command listvirtualmachines due to invalid "
                           "value. Invalid parameter id value=8d0e0c5b-0000-4000-8000-0000000000"
                           "00 due to incorrect long value format, or entity does not exist")


def test_bad_integer_and_malformed_map(alice):
    r = alice.get("listZones", pagesize="abc")
    assert r.status_code == 431
    assert "due to invalid value abc for parameter pagesize" in r.json()["listzonesresponse"][
        "errortext"]
    r = alice.get("listTags", **{"tags[0]key": "x"})
    assert r.status_code == 430
    assert r.json()["listtagsresponse"]["errortext"].startswith(
        "Unable to decode parameter tags[0]key")


def test_wrong_path_is_404_html(sim, alice):
    r = requests.get(sim.url.replace("/client/api", "/client/apix"),
                     params=alice.params("listZones"))
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/html")
    assert "Error 404 NOT_FOUND" in r.text


def test_no_command_is_400(sim, alice):
    params = {"apikey": alice.key, "response": "json"}
    params["signature"] = sign(params, alice.secret)
    r = requests.get(sim.url, params=params)
    assert r.status_code == 400
    assert list(r.json()) == ["errorresponse"]


def test_xml_when_response_is_not_json(sim, alice):
    params = {"command": "listZones", "apikey": alice.key}
    params["signature"] = sign(params, alice.secret)
    r = requests.get(sim.url, params=params)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/xml")
    assert "<listzonesresponse" in r.text and "<zone>" in r.text


def test_paging_count_is_the_total(alice):
    full = alice("listTemplates", templatefilter="executable")
    page = alice("listTemplates", templatefilter="executable", page=2, pagesize=2)
    assert page["count"] == full["count"] > 2
    assert [t["id"] for t in page["template"]] == [t["id"] for t in full["template"][2:4]]


def test_admin_only_command_is_401_for_users(alice):
    r = alice.get("expungeVirtualMachine", id="x")
    assert r.status_code == 401
    assert list(r.json()) == ["expungevirtualmachineresponse"]


def test_calls_are_recorded_without_signature(sim, alice):
    sim.clear_calls()
    alice.get("listZones", name="zone1")
    calls = sim.calls
    assert len(calls) == 1
    call = calls[0]
    assert call["command"] == "listZones"
    assert call["apikey"] == alice.key
    assert call["status"] == 200
    assert call["params"]["name"] == "zone1"
    assert "signature" not in call["params"]


def test_stop_and_start_on_the_same_port(sim, alice):
    port = sim.port
    sim.stop()
    try:
        requests.get(sim.url, params=alice.params("listZones"), timeout=2)
        raise AssertionError("the simulator still answers")
    except requests.ConnectionError:
        pass
    sim.start()
    assert sim.port == port
    assert alice.get("listZones").status_code == 200


def test_concurrent_requests(alice):
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda i: alice.get("listZones").status_code, range(40)))
    assert codes == [200] * 40


def test_a_busy_port_is_refused(sim):
    import pytest
    from cloudbridge.simulator import start_simulator
    with pytest.raises(OSError):
        start_simulator(accounts=[("x", "a", "b", False)], port=sim.port)
