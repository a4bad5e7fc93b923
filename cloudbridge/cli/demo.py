"""`make demo`: the CloudStack simulator and CloudBridge on SQLite, ready for awscli and boto.

Starts both servers as child processes on 127.0.0.1, registers a demo user
and an admin through CloudBridge's own SetUserKeys, maps instance types to
the simulator's service offerings with SetOfferMapping, prints the
environment for awscli and boto, and stops both servers on Ctrl-C.  Keys,
the simulator's state and the database live in ./demo and are reused.
"""

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time

from cloudbridge.cloudstack.client import CloudStackClient
from cloudbridge.cli.register import change_offer_mappings, register

DEMO_DIR = "demo"
# Instance types mapped to the simulator's offerings, smallest first.
DEMO_INSTANCE_TYPES = ("m1.small", "m1.large", "m1.xlarge")


def wait_for_port(host, port, process, name, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("%s exited with code %d; see its output above" % (name, process.returncode))
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("%s did not listen on %s:%d within %.0f s" % (name, host, port, timeout))


def load_keys(path):
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    keys = {name: {"api_key": secrets.token_urlsafe(24), "secret_key": secrets.token_urlsafe(32)}
            for name in ("admin", "demo")}
    with open(path, "w") as f:
        json.dump(keys, f, indent=2)
    os.chmod(path, 0o600)
    return keys


def write_config(conf_dir, simulator_port, bridge_port):
    os.makedirs(conf_dir, exist_ok=True)
    with open(os.path.join(conf_dir, "ec2-service.properties"), "w") as f:
        f.write("# Written by `make demo`: CloudBridge on SQLite in front of the simulator.\n"
                "managementServer=127.0.0.1\n"
                "cloudAPIPort=%d\n"
                "asyncPollInterval=0.2\n"
                "WSDLVersion=2010-11-15\n"
                "cloudbridgeVersion=demo\n"
                "regionName=cloudstack\n"
                "dbType=sqlite\n"
                "dbFile=../cloudbridge.db\n"
                "listenAddress=127.0.0.1\n"
                "listenPort=%d\n"
                "logDir=../logs\n" % (simulator_port, bridge_port))


def map_offerings(bridge_url, admin, simulator_port):
    """Map the demo instance types to the simulator's offerings, smallest first."""
    client = CloudStackClient("http://127.0.0.1:%d/client/api" % simulator_port,
                              admin["api_key"], admin["secret_key"])
    offerings = client.list("listServiceOfferings", "serviceoffering")
    offerings.sort(key=lambda o: (o.get("memory", 0), o.get("cpunumber", 0)))
    chosen = list(zip(DEMO_INSTANCE_TYPES, offerings))
    change_offer_mappings(bridge_url, admin["api_key"], admin["secret_key"],
                          [(instance_type, offering["id"]) for instance_type, offering in chosen],
                          [])
    return {instance_type: "%s (%s)" % (offering["name"], offering["id"])
            for instance_type, offering in chosen}


def check_port_free(port, what, variable):
    with socket.socket() as probe:
        # SO_REUSEADDR: connections of a demo stopped a moment ago do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise SystemExit("Port %d for %s is in use on 127.0.0.1 (is another demo "
                             "running?). Stop it, or choose another port with %s=PORT."
                             % (port, what, variable))


def print_environment(endpoint, user, mapped, region):
    print("""
CloudBridge is serving the EC2 API at %(endpoint)s
Instance types:
%(types)s
Zones: zone1 is a Basic zone with security groups; zone2 an Advanced zone
with elastic IP addresses (AllocateAddress) and no security groups.

Paste this into another shell for awscli and boto3:

. %(activate)s
export AWS_ACCESS_KEY_ID=%(access)s
export AWS_SECRET_ACCESS_KEY=%(secret)s
export AWS_DEFAULT_REGION=%(region)s
export AWS_EC2_METADATA_DISABLED=true
export AWS_ENDPOINT_URL_EC2=%(endpoint)s

Then, for example:
  aws ec2 describe-availability-zones --endpoint-url %(endpoint)s
  aws ec2 describe-images --endpoint-url %(endpoint)s
  aws ec2 run-instances --endpoint-url %(endpoint)s --image-id <ImageId> --instance-type m1.small --count 1

boto 2.49.0 (signature version 2, API version 2010-11-15):
  import boto
  conn = boto.connect_ec2_endpoint("%(endpoint)s", "%(access)s", "<secret>", api_version="2010-11-15")

Press Ctrl-C to stop the simulator and CloudBridge.
""" % {"endpoint": endpoint, "access": user["api_key"], "secret": user["secret_key"],
       "region": region, "activate": os.path.join(os.path.dirname(sys.executable), "activate"),
       "types": "".join("  %s = %s\n" % kv for kv in mapped.items())})


def main(argv=None):
    parser = argparse.ArgumentParser(prog="cloudbridge-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=DEMO_DIR, help="folder for keys, state, database and logs")
    parser.add_argument("--simulator-port", type=int, default=int(os.environ.get("SIMULATOR_PORT", 8080)))
    parser.add_argument("--bridge-port", type=int, default=int(os.environ.get("BRIDGE_PORT", 8090)))
    args = parser.parse_args(argv)

    # Ctrl-C stops the demo even when it was started from a shell that
    # ignores SIGINT for background commands.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    check_port_free(args.simulator_port, "the CloudStack simulator", "SIMULATOR_PORT")
    check_port_free(args.bridge_port, "CloudBridge", "BRIDGE_PORT")
    base = os.path.abspath(args.dir)
    os.makedirs(base, exist_ok=True)
    keys = load_keys(os.path.join(base, "keys.json"))
    conf_dir = os.path.join(base, "conf")
    write_config(conf_dir, args.simulator_port, args.bridge_port)

    bindir = os.path.dirname(sys.executable)
    simulator = subprocess.Popen([
        os.path.join(bindir, "cloudstack-simulator"), "--host", "127.0.0.1",
        "--port", str(args.simulator_port), "--state", os.path.join(base, "simulator-state.json"),
        # Expunge destroyed VMs after a minute (CloudStack's default is a day),
        # so that their security groups can be deleted soon after.
        "--expunge-delay", "60",
        "--account", "admin:%s:%s:admin" % (keys["admin"]["api_key"], keys["admin"]["secret_key"]),
        "--account", "demo:%s:%s" % (keys["demo"]["api_key"], keys["demo"]["secret_key"])],
        stdout=open(os.path.join(base, "simulator.log"), "a"), stderr=subprocess.STDOUT)
    bridge = None
    try:
        wait_for_port("127.0.0.1", args.simulator_port, simulator, "cloudstack-simulator")
        bridge = subprocess.Popen([os.path.join(bindir, "cloud-bridge"), "--conf", conf_dir])
        wait_for_port("127.0.0.1", args.bridge_port, bridge, "cloud-bridge")
        bridge_url = "http://127.0.0.1:%d/bridge" % args.bridge_port
        for name in ("admin", "demo"):
            register(bridge_url, keys[name]["api_key"], keys[name]["secret_key"])
        mapped = map_offerings(bridge_url, keys["admin"], args.simulator_port)
        print_environment(bridge_url + "/rest/AmazonEC2", keys["demo"], mapped, "cloudstack")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while simulator.poll() is None and bridge.poll() is None:
            time.sleep(0.5)
        print("a server exited; stopping the demo (see %s and %s)"
              % (os.path.join(base, "simulator.log"), os.path.join(base, "logs")),
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping the simulator and CloudBridge")
        return 0
    finally:
        for process in (bridge, simulator):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


if __name__ == "__main__":
    sys.exit(main())
