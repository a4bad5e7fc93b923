"""CloudStack API client.

Each EC2 request gets its own `CloudStackClient` built from the caller's
CloudStack API and secret keys, so nothing of one user's request can reach
another's.  The clients share one `requests.Session` per management server,
which keeps HTTP connections alive between calls. The session contains no
credentials.
"""

import datetime
import http.cookiejar
import logging
import threading
import time

import requests

from cloudbridge import errors
from cloudbridge.cloudstack.errors import CloudStackError, translate
from cloudbridge.cloudstack.signing import sign

LOG = logging.getLogger(__name__)

JOB_PENDING, JOB_SUCCEEDED, JOB_FAILED = 0, 1, 2
# CloudStack's default page size (global setting default.page.size).
PAGE_SIZE = 500
# Signed requests carry signatureVersion=3 and expire this long after they
# are made, so a captured request cannot be replayed later.
REQUEST_LIFETIME = datetime.timedelta(minutes=5)

_sessions = {}
_sessions_lock = threading.Lock()


def shared_session(base_url):
    """Return the keep-alive session for one management server URL."""
    with _sessions_lock:
        session = _sessions.get(base_url)
        if session is None:
            session = requests.Session()
            # Clients of all users share the session: keep no cookie a load
            # balancer or the management server might set.
            session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions[base_url] = session
        return session


class JobTimeout(errors.ServerError):
    """An async job still pending when the configured wait ran out."""

    code = "InternalError"

    def __init__(self, command, job_id):
        super().__init__("CloudStack job %s of %s did not finish in time" % (job_id, command))
        self.job_id = job_id


class CloudStackClient:
    def __init__(self, base_url, api_key, secret_key, timeout=30.0,
                 poll_interval=1.0, job_timeout=600.0, session=None):
        self.base_url = base_url
        self.api_key = api_key
        self._secret_key = secret_key
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.job_timeout = job_timeout
        self.session = session or shared_session(base_url)

    @classmethod
    def from_config(cls, config, api_key, secret_key):
        return cls(config.cloudstack_url, api_key, secret_key,
                   timeout=config.cloud_api_timeout,
                   poll_interval=config.async_poll_interval,
                   job_timeout=config.async_job_timeout)

    # Raw calls

    def request(self, command, **params):
        """Call a command and return the object under its single top-level key.

        Raises the translated EC2 error for a CloudStack error, and
        Unavailable when the management server cannot be reached.
        """
        try:
            return self.request_raw(command, **params)
        except CloudStackError as exc:
            raise translate(exc) from exc

    def request_raw(self, command, **params):
        """Like `request`, but raises CloudStackError untranslated."""
        expires = datetime.datetime.now(datetime.timezone.utc) + REQUEST_LIFETIME
        data = {"command": command, "response": "json", "apikey": self.api_key,
                "signatureversion": "3", "expires": expires.strftime("%Y-%m-%dT%H:%M:%S+0000")}
        for name, value in params.items():
            if value is None:
                continue
            if isinstance(value, bool):
                value = "true" if value else "false"
            data[name.lower() if "[" not in name else name] = str(value)
        data["signature"] = sign(data, self._secret_key)

        started = time.monotonic()
        try:
            response = self.session.post(self.base_url, data=data, timeout=self.timeout)
        except requests.RequestException as exc:
            LOG.error("CloudStack %s at %s unreachable: %s", command, self.base_url,
                      type(exc).__name__)
            raise errors.Unavailable("The CloudStack management server is unavailable; "
                                     "try again later.") from exc
        elapsed = time.monotonic() - started
        LOG.debug("CloudStack %s -> HTTP %d in %.3f s", command, response.status_code, elapsed)
        return self._parse(command, response)

    def _parse(self, command, response):
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or len(body) != 1:
            LOG.error("CloudStack %s answered HTTP %d without a JSON envelope",
                      command, response.status_code)
            if response.status_code >= 500 or response.status_code == 404:
                raise errors.Unavailable("The CloudStack management server returned "
                                         "HTTP %d; try again later." % response.status_code)
            raise errors.InternalError("CloudStack %s returned an unreadable response" % command)
        # Take the single top-level key instead of computing it, because some commands
        # respond under a name without the "response" suffix.
        payload = next(iter(body.values()))
        if response.status_code != 200 or (isinstance(payload, dict) and "errorcode" in payload):
            payload = payload if isinstance(payload, dict) else {}
            code = int(payload.get("errorcode") or response.status_code)
            raise CloudStackError(command, code, payload.get("errortext", ""),
                                  payload.get("cserrorcode"))
        return payload if isinstance(payload, dict) else {}

    # Lists

    def list(self, command, object_name, **params):
        """Return every item of a list command, following pages when needed."""
        page = 1
        items = []
        while True:
            result = self.request(command, page=page, pagesize=PAGE_SIZE, **params)
            batch = result.get(object_name, [])
            items.extend(batch)
            total = result.get("count", len(items))
            if not batch or len(items) >= total or len(batch) < PAGE_SIZE:
                return items
            page += 1

    # Async jobs

    def submit(self, command, **params):
        """Start an async command; return its immediate response (jobid and, for creates, id)."""
        return self.request(command, **params)

    def run_job(self, command, **params):
        """Start an async command, wait for it, and return its job result.

        A failed job raises the translated EC2 error; a job still pending
        after the configured wait raises JobTimeout.
        """
        started = self.submit(command, **params)
        results = self.wait_for_jobs({started["jobid"]: command})
        outcome = results[started["jobid"]]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def wait_for_jobs(self, jobs):
        """Poll jobs until each finishes or the wait runs out.

        `jobs` maps job ids to the command that started them.  Returns a map
        from job id to the job result (a dict) or to the EC2 error it failed
        with (a JobTimeout when it was still pending at the deadline).
        """
        deadline = time.monotonic() + self.job_timeout
        pending = dict(jobs)
        results = {}
        while pending:
            try:
                self._poll_once(pending, results)
            except errors.Unavailable:
                # The jobs go on without us: report them as still pending.
                for job_id, command in pending.items():
                    results[job_id] = JobTimeout(command, job_id)
                break
            if not pending:
                break
            if time.monotonic() >= deadline:
                for job_id, command in pending.items():
                    LOG.error("CloudStack job %s (%s) still pending after %.0f s",
                              job_id, command, self.job_timeout)
                    results[job_id] = JobTimeout(command, job_id)
                break
            time.sleep(self.poll_interval)
        return results

    def _poll_once(self, pending, results):
        """Query each pending job once; move finished ones from pending to results."""
        for job_id, command in list(pending.items()):
            job = self.request("queryAsyncJobResult", jobid=job_id)
            status = int(job.get("jobstatus", JOB_PENDING))
            if status == JOB_SUCCEEDED:
                results[job_id] = job.get("jobresult") or {}
            elif status == JOB_FAILED:
                result = job.get("jobresult") or {}
                code = int(result.get("errorcode") or job.get("jobresultcode") or 530)
                failure = CloudStackError(command, code, result.get("errortext", ""))
                LOG.info("CloudStack job %s (%s) failed: %s %s", job_id, command,
                         code, failure.errortext)
                results[job_id] = translate(failure)
            else:
                continue
            del pending[job_id]
