"""`cloud-bridge`: the CloudBridge server.

Loads the configuration, opens the store (creating or upgrading its schema),
seeds the offering map from the `*.serviceId` keys while it is empty, and
serves the EC2 endpoints with CherryPy until stopped.
"""

import argparse
import logging
import socket
import sys
import threading

import cherrypy
from cheroot import wsgi

from cloudbridge import __version__
from cloudbridge.app import BridgeApplication
from cloudbridge.config import ConfigError, load_config, resolve_conf_dir
from cloudbridge.logs import setup_logging
from cloudbridge.store import StoreError, open_store

LOG = logging.getLogger(__name__)


def open_and_prepare_store(config):
    store = open_store(config)
    store.ensure_schema()
    if config.offering_seeds:
        seeded = store.seed_offerings(config.offering_seeds)
        if seeded:
            LOG.info("offering map seeded with %d instance types from %s", seeded, config.path)
    return store


def check_listen_address(address, port):
    """Raise OSError if address:port cannot be bound (in use, or not this host's)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family) as probe:
        # As the server will: connections of a server stopped a moment ago do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((address, port))


def build_application(config, store):
    return BridgeApplication(config, store)


class ThreadedServer:
    """A CloudBridge server on its own thread, for tests and the demo."""

    def __init__(self, config, store, host="127.0.0.1", port=0):
        self.app = build_application(config, store)
        self.server = wsgi.Server((host, port), self.app, numthreads=16,
                                  server_name="cloudbridge")
        self.server.prepare()
        self.host, self.port = self.server.bind_addr[:2]
        self.thread = threading.Thread(target=self.server.serve, daemon=True,
                                       name="cloudbridge-%d" % self.port)
        self.thread.start()

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def stop(self):
        self.server.stop()
        self.thread.join(timeout=10)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="cloud-bridge", description="Serve the Amazon EC2 API in front of CloudStack.")
    parser.add_argument("--conf", metavar="DIR",
                        help="directory of ec2-service.properties (default: $CLOUD_BRIDGE_CONF, "
                             "then /usr/share/cloud/bridge/conf)")
    parser.add_argument("--pidfile", help="write the process id to this file")
    parser.add_argument("--console", action="store_true",
                        help="also write the application log to the terminal")
    parser.add_argument("--version", action="version", version="%(prog)s " + __version__)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        config = load_config(args.conf)
    except ConfigError as exc:
        print("cloud-bridge: %s" % exc, file=sys.stderr)
        return 1
    try:
        setup_logging(config.log_dir, console=args.console)
    except OSError as exc:
        print("cloud-bridge: cannot write logs in %s: %s" % (config.log_dir, exc), file=sys.stderr)
        return 1

    LOG.info("CloudBridge %s starting: configuration %s, CloudStack %s, database %s",
             config.cloudbridge_version, config.path, config.cloudstack_url,
             config.describe_database())
    try:
        check_listen_address(config.listen_address, config.listen_port)
    except OSError as exc:
        # CherryPy itself would exit with code 70 and a traceback in the log.
        LOG.error("start-up failed: cannot listen on %s:%d: %s",
                  config.listen_address, config.listen_port, exc.strerror or exc)
        print("cloud-bridge: cannot listen on %s:%d: %s"
              % (config.listen_address, config.listen_port, exc.strerror or exc),
              file=sys.stderr)
        return 1
    try:
        store = open_and_prepare_store(config)
    except StoreError as exc:
        LOG.error("start-up failed: database %s: %s", config.describe_database(), exc)
        print("cloud-bridge: database %s: %s" % (config.describe_database(), exc),
              file=sys.stderr)
        return 1

    cherrypy.tree.graft(build_application(config, store), "")
    cherrypy.config.update({
        "server.socket_host": config.listen_address,
        "server.socket_port": config.listen_port,
        "server.thread_pool": 32,
        "engine.autoreload.on": False,
        "log.screen": False,
        "checker.on": False,
    })
    if args.pidfile:
        cherrypy.process.plugins.PIDFile(cherrypy.engine, args.pidfile).subscribe()
    cherrypy.engine.signals.subscribe()
    try:
        cherrypy.engine.start()
    except Exception as exc:  # CherryPy reports a busy port as a bare Exception
        LOG.error("start-up failed: cannot listen on %s:%d: %s",
                  config.listen_address, config.listen_port, exc)
        print("cloud-bridge: cannot listen on %s:%d: %s"
              % (config.listen_address, config.listen_port, exc), file=sys.stderr)
        cherrypy.engine.exit()
        return 1
    LOG.info("listening on %s:%d", config.listen_address, config.listen_port)
    cherrypy.engine.block()
    store.close()
    LOG.info("CloudBridge stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["main", "ThreadedServer", "open_and_prepare_store", "resolve_conf_dir"]
