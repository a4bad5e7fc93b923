"""Health check for load balancers and monitoring: is the database up, is CloudStack up?

`health_check` returns HTTP 200 only while both respond, else 503.  The body is
a small JSON object naming the part that failed, for example

    {"status": "unavailable", "database": "ok", "cloudstack": "cannot connect"}

The body gives only the kind of failure because the endpoint needs no
authentication; the full error goes to the log, once per change of state so
that a poller calling every few seconds does not flood it.
"""

import json
import logging
import threading

import requests

from cloudbridge.store import StoreError

LOG = logging.getLogger(__name__)

CONTENT_TYPE = "application/json"
# Seconds for connecting to and for reading from the management server.  A
# health poller needs a result quickly, and a live server responds at once.
CLOUDSTACK_TIMEOUT_SECONDS = 3.0
OK = "ok"

_last_results = {}
_last_results_lock = threading.Lock()


def check_database(store):
    """Return "ok" if the store runs a trivial query, else the kind of failure."""
    try:
        store.ping()
    except StoreError as exc:
        _log_change("database", "not responding", exc)
        return "not responding"
    _log_change("database", OK, None)
    return OK


def check_cloudstack(url, timeout=CLOUDSTACK_TIMEOUT_SECONDS):
    """Return "ok" if a CloudStack API responds at url, else the kind of failure.

    The request is unsigned: a live management server rejects it with HTTP 401
    and a JSON error body, which is enough to show that the API is up.  An
    integration port without authentication returns 200 with JSON, which
    counts as up too.
    """
    params = {"command": "listCapabilities", "response": "json"}
    try:
        response = requests.get(url, params=params, timeout=timeout, allow_redirects=False)
    except requests.Timeout as exc:
        _log_change("cloudstack", "timed out", exc, url)
        return "timed out"
    except requests.ConnectionError as exc:
        _log_change("cloudstack", "cannot connect", exc, url)
        return "cannot connect"
    except requests.RequestException as exc:
        _log_change("cloudstack", "request failed", exc, url)
        return "request failed"

    if response.status_code >= 500 or not _is_json_object(response):
        detail = "HTTP %d with content type %r" % (response.status_code,
                                                   response.headers.get("Content-Type"))
        _log_change("cloudstack", "unexpected response", detail, url)
        return "unexpected response"
    _log_change("cloudstack", OK, None, url)
    return OK


def health_check(config, store):
    """Check the database and the CloudStack API; return (HTTP status, body, content type).

    The status is 200 when both are up and 503 otherwise.
    """
    database = check_database(store)
    cloudstack = check_cloudstack(config.cloudstack_url)
    healthy = database == OK and cloudstack == OK
    body = {"status": "ok" if healthy else "unavailable",
            "database": database, "cloudstack": cloudstack}
    return (200 if healthy else 503), json.dumps(body).encode("utf-8"), CONTENT_TYPE


def _is_json_object(response):
    try:
        return isinstance(response.json(), dict)
    except ValueError:
        return False


def _log_change(part, result, error, url=None):
    """Log a part's result when it differs from the previous check's result."""
    with _last_results_lock:
        previous = _last_results.get(part)
        _last_results[part] = result
    if previous == result:
        return
    where = " at %s" % url if url else ""
    if result == OK:
        if previous is not None:
            LOG.info("health check: %s%s is up again", part, where)
    else:
        LOG.warning("health check: %s%s is down (%s): %s", part, where, result, error)
