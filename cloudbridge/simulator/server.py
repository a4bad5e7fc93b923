"""HTTP hosting (CherryPy's cheroot WSGI server), the in-process
`Simulator` used by tests, and the ``cloudstack-simulator`` command line.

Usage::

    cloudstack-simulator --host 127.0.0.1 --port 8080 \\
        [--account NAME:APIKEY:SECRETKEY[:admin]]... [--state FILE] [--job-delay SECONDS]
"""

import argparse
import importlib
import http
import logging
import secrets
import signal
import socket
import sys
import threading
import weakref
from collections import OrderedDict
from urllib.parse import parse_qsl

from cheroot import wsgi

from cloudbridge.simulator.api import ApiServer
from cloudbridge.simulator.jobs import JobManager
from cloudbridge.simulator.seed import ensure_account, seed, sid
from cloudbridge.simulator.state import Model

log = logging.getLogger("cloudbridge.simulator")

# Importing a command family registers its commands and job kinds.
COMMAND_FAMILIES = ("accounts", "infra", "keypairs", "network", "security_groups", "snapshots",
                    "tags", "templates", "vms", "volumes")
for _family in COMMAND_FAMILIES:
    importlib.import_module("cloudbridge.simulator." + _family)

API_PATH = "/client/api"
DEMO_ADMIN = "demo-admin"
DEMO_USER = "demo-user"
DEFAULT_EXPUNGE_DELAY = 86400.0

NOT_FOUND_PAGE = """<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"/>
<title>Error 404 NOT_FOUND</title>
</head>
<body>
<h2>HTTP ERROR: 404</h2>
<p>Problem accessing {path}. Reason:
<pre>    NOT_FOUND</pre></p>
<hr /><i><small>Powered by Jetty://</small></i>
</body>
</html>
"""


class AccountInfo:
    """An account the simulator serves, with its user's keys."""

    def __init__(self, name, api_key, secret_key, is_admin, account_id, domain_id, user_id):
        self.name = name
        self.api_key = api_key
        self.secret_key = secret_key
        self.is_admin = is_admin
        self.admin = is_admin
        self.account_id = account_id
        self.id = account_id
        self.domain_id = domain_id
        self.user_id = user_id

    def __repr__(self):
        return "AccountInfo(%r, admin=%r)" % (self.name, self.is_admin)


def random_key():
    return secrets.token_urlsafe(64)


def _free_port(host):
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _check_port_free(host, port):
    """SO_REUSEPORT would let a second simulator share a busy port: refuse
    a port that something else listens on (before the first start)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))


def _reason(status):
    if status in (400, 401, 404, 405):
        return http.HTTPStatus(status).phrase
    if status == 200:
        return "OK"
    return str(status)  # Jetty sent CloudStack's own codes with the number as reason


_RUNNING = weakref.WeakSet()


def _stop_all():
    for sim in list(_RUNNING):
        try:
            sim.stop()
        except Exception:  # pragma: no cover - best effort at exit
            pass


# cheroot's worker threads are not daemons: stop forgotten simulators before
# the interpreter waits for them (threading's exit hook runs before atexit).
try:
    threading._register_atexit(_stop_all)
except AttributeError:  # pragma: no cover
    import atexit
    atexit.register(_stop_all)


class Simulator:
    """A CloudStack management server in this process.

    ``accounts``: list of ``(name, api_key, secret_key, is_admin)``, or None
    for a demo admin and a demo user with random keys.
    """

    def __init__(self, accounts=None, job_delay=0.2, state_file=None, host="127.0.0.1",
                 port=0, expunge_delay=DEFAULT_EXPUNGE_DELAY):
        self.host = host
        self._port = port
        self.expunge_delay = expunge_delay
        self.model = Model(state_file)
        if not self.model.load():
            seed(self.model)
        self.generated_accounts = False
        if accounts is None:
            accounts = self._demo_accounts()
        with self.model.lock:
            for name, api_key, secret_key, is_admin in accounts:
                ensure_account(self.model, name, api_key, secret_key, bool(is_admin))
        self.jobs = JobManager(self, job_delay)
        self.api = ApiServer(self)
        self._server = None
        self._thread = None
        self._started_once = False
        self.model.save_if_dirty()

    def _demo_accounts(self):
        out = []
        for name, admin in ((DEMO_ADMIN, True), (DEMO_USER, False)):
            user = self.model.users.get(sid("user", name))
            if user is not None and user.get("apikey"):
                out.append((name, user["apikey"], user["secretkey"], admin))
            else:
                self.generated_accounts = True
                out.append((name, random_key(), random_key(), admin))
        return out

    # --- the WSGI application ---------------------------------------------

    def wsgi_app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path != API_PATH:
            body = NOT_FOUND_PAGE.format(path=path.replace("<", "&lt;")).encode("latin-1",
                                                                                 "replace")
            start_response("404 Not Found", [
                ("Content-Type", "text/html; charset=iso-8859-1"),
                ("Cache-Control", "must-revalidate,no-cache,no-store"),
                ("Content-Length", str(len(body)))])
            return [body]
        if method not in ("GET", "POST", "HEAD"):
            body = b""
            start_response("405 Method Not Allowed", [("Allow", "GET, POST"),
                                                      ("Content-Length", "0")])
            return [body]
        params = OrderedDict()
        for key, value in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True,
                                    encoding="utf-8", errors="replace"):
            params.setdefault(key, value)
        if method == "POST":
            ctype = environ.get("CONTENT_TYPE", "")
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            data = environ["wsgi.input"].read(length) if length > 0 else b""
            if ctype.split(";")[0].strip().lower() in ("application/x-www-form-urlencoded", ""):
                for key, value in parse_qsl(data.decode("utf-8", "replace"),
                                            keep_blank_values=True):
                    params.setdefault(key, value)
        status, headers, body = self.api.handle(params, method)
        headers = headers + [("Content-Length", str(len(body)))]
        start_response("%d %s" % (status, _reason(status)), headers)
        return [b""] if method == "HEAD" else [body]

    # --- lifecycle ----------------------------------------------------------

    def start(self):
        """Listen (again) on the same port and run the job runner."""
        if self._server is not None:
            return self
        if not self._port:
            self._port = _free_port(self.host)
        elif not self._started_once:
            _check_port_free(self.host, self._port)
        self._started_once = True
        # SO_REUSEPORT on every listener (and so on its accepted sockets) lets
        # a restart bind the same port while old connections still close.
        server = wsgi.Server((self.host, self._port), self.wsgi_app, numthreads=16,
                             reuse_port=True, request_queue_size=128,
                             server_name="cloudstack-simulator")
        server.prepare()
        self._port = server.bind_addr[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve, name="cloudstack-sim-http",
                                        daemon=True)
        self._thread.start()
        self.jobs.start()
        _RUNNING.add(self)
        log.info("CloudStack simulator listening on %s", self.url)
        return self

    def stop(self):
        """Stop listening (clients get connection refused) and save state."""
        server, self._server = self._server, None
        _RUNNING.discard(self)
        if server is not None:
            server.stop()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self.jobs.stop()
        self.model.save_if_dirty()

    @property
    def running(self):
        return self._server is not None

    @property
    def port(self):
        return self._port

    @property
    def url(self):
        return "http://%s:%d%s" % (self.host, self._port, API_PATH)

    @property
    def state(self):
        return self.model

    @property
    def calls(self):
        with self.api._calls_lock:
            return list(self.api.calls)

    def clear_calls(self):
        with self.api._calls_lock:
            del self.api.calls[:]

    @property
    def accounts(self):
        out = OrderedDict()
        with self.model.lock:
            for acct in self.model.accounts.values():
                for user in self.model.users.values():
                    if user["accountid"] == acct["id"] and user.get("apikey"):
                        out[acct["name"]] = AccountInfo(
                            acct["name"], user["apikey"], user["secretkey"],
                            acct["accounttype"] in (1, 2), acct["id"], acct["domainid"],
                            user["id"])
                        break
        return out

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def start_simulator(accounts=None, job_delay=0.2, state_file=None, host="127.0.0.1", port=0,
                    expunge_delay=DEFAULT_EXPUNGE_DELAY):
    """Create a `Simulator` and start it in background threads."""
    sim = Simulator(accounts=accounts, job_delay=job_delay, state_file=state_file, host=host,
                    port=port, expunge_delay=expunge_delay)
    return sim.start()


# ---------------------------------------------------------------------------
# command line


def parse_account(text):
    parts = text.split(":")
    if len(parts) == 4 and parts[3].lower() == "admin":
        name, api_key, secret_key, admin = parts[0], parts[1], parts[2], True
    elif len(parts) == 3:
        name, api_key, secret_key, admin = parts[0], parts[1], parts[2], False
    else:
        raise argparse.ArgumentTypeError("expected NAME:APIKEY:SECRETKEY[:admin], got %r" % text)
    if not (name and api_key and secret_key):
        raise argparse.ArgumentTypeError("empty name or key in %r" % text)
    return (name, api_key, secret_key, admin)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="cloudstack-simulator",
        description="An in-memory Apache CloudStack 4.2 management-server API (/client/api).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on")
    parser.add_argument("--account", action="append", type=parse_account, default=[],
                        metavar="NAME:APIKEY:SECRETKEY[:admin]",
                        help="an account to serve (repeatable); without any, a demo admin "
                             "and a demo user with random keys are created")
    parser.add_argument("--state", metavar="FILE",
                        help="load the state from FILE and save it there after every change")
    parser.add_argument("--job-delay", type=float, default=0.5, metavar="SECONDS",
                        help="how long an async job stays pending (default 0.5)")
    parser.add_argument("--expunge-delay", type=float, default=DEFAULT_EXPUNGE_DELAY,
                        metavar="SECONDS",
                        help="how long a destroyed VM stays before it is expunged")
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    logging.getLogger("cheroot").setLevel(logging.WARNING)
    sim = Simulator(accounts=args.account or None, job_delay=args.job_delay,
                    state_file=args.state, host=args.host, port=args.port,
                    expunge_delay=args.expunge_delay)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        sim.start()
    except OSError as exc:
        print("cloudstack-simulator: cannot listen on %s:%d: %s" % (args.host, args.port, exc),
              file=sys.stderr)
        return 1
    print("CloudStack simulator listening on %s" % sim.url, flush=True)
    if not args.account:
        for info in sim.accounts.values():
            if info.name in (DEMO_ADMIN, DEMO_USER):
                print("account %s (%s): apikey=%s secretkey=%s"
                      % (info.name, "admin" if info.is_admin else "user", info.api_key,
                         info.secret_key), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
        print("CloudStack simulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
