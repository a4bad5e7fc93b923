"""Asynchronous jobs.

A command handler validates its parameters, then submits a job of a
registered *kind*. Jobs on the same instance (e.g. one VM) run one after
the other, like CloudStack's per-object sync queues. When a job starts its
``begin`` step runs (e.g. a VM goes to ``Starting``); ``job_delay`` seconds
later its ``finish`` step runs and returns the job result (e.g.
``{"virtualmachine": {...}}``) or raises `CSError` (job status 2).

Jobs are entities of the model (``model.jobs``), so pending jobs survive a
restart with ``--state`` and go on where they were.
"""

import logging
import threading
import time
from collections import OrderedDict

from cloudbridge.simulator import errors
from cloudbridge.simulator.api import Ctx, fmt_date
from cloudbridge.simulator.errors import CSError
from cloudbridge.simulator.state import new_id

log = logging.getLogger("cloudbridge.simulator")

# kind -> (begin, finish, java class name)
JOB_KINDS = {}
# callables f(sim, now) run on every tick (e.g. the expunge thread)
PERIODIC = []

JOB_EXPIRE_SECONDS = 24 * 3600


def job_kind(kind, cmd_class, begin=None):
    """Register ``finish(ctx, job) -> result dict`` for ``kind``;
    ``begin(ctx, job)`` runs when the job starts."""

    def deco(finish):
        JOB_KINDS[kind] = (begin, finish, cmd_class)
        return finish

    return deco


def periodic(func):
    PERIODIC.append(func)
    return func


class JobManager:
    def __init__(self, sim, delay):
        self.sim = sim
        self.delay = float(delay)
        self._cond = threading.Condition()
        self._thread = None
        self._stopping = False

    @property
    def model(self):
        return self.sim.model

    # --- queries ---------------------------------------------------------

    def _active(self):
        return [j for j in self.model.jobs.values() if j["phase"] != "done"]

    @staticmethod
    def _key(job):
        if job.get("jobinstanceid"):
            return (job.get("jobinstancetype"), job["jobinstanceid"])
        return ("job", job["jobid"])

    def pending_job(self, instancetype, instanceid):
        """The id of the job that works on an object now, if any."""
        best = None
        for job in self.model.jobs.values():
            if (job["phase"] != "done" and job.get("jobinstanceid") == instanceid
                    and job.get("jobinstancetype") == instancetype):
                if best is None or job["seq"] < best["seq"]:
                    best = job
        return best["jobid"] if best else None

    # --- submission and progress -----------------------------------------

    def submit(self, ctx, kind, instancetype, instanceid, args):
        model = self.model
        begin, finish, cmd_class = JOB_KINDS[kind]
        with model.lock:
            job = OrderedDict()
            job["jobid"] = new_id()
            job["accountid"] = ctx.account["id"]
            job["userid"] = ctx.user["id"]
            job["cmd"] = cmd_class
            job["created"] = fmt_date(time.time())
            job["jobstatus"] = 0
            job["jobprocstatus"] = 0
            job["jobresultcode"] = 0
            job["jobinstancetype"] = instancetype
            job["jobinstanceid"] = instanceid
            job["kind"] = kind
            job["args"] = args
            job["phase"] = "queued"
            job["due"] = None
            job["seq"] = model.next_seq("job")
            model.jobs[job["jobid"]] = job
            model.touch()
            self._advance(time.time())
        self.wake()
        return job["jobid"]

    def _ctx(self, job):
        model = self.model
        account = model.accounts.get(job["accountid"])
        user = model.users.get(job["userid"])
        ctx = Ctx(self.sim, account, user)
        ctx.current_job = job
        return ctx

    def _complete(self, job, status, code, result):
        job["phase"] = "done"
        job["jobstatus"] = status
        job["jobresultcode"] = code
        job["jobresulttype"] = "object"
        job["jobresult"] = result
        job["completed_at"] = time.time()
        self.model.touch()

    def _fail(self, job, err):
        # Inside a job only a ServerApiException keeps its code (the commands
        # turn insufficient capacity into 533); the service layer's
        # exceptions (invalid value, permission denied ...) become 530.
        code = err.code if err.code == errors.INSUFFICIENT_CAPACITY_ERROR else \
            errors.INTERNAL_ERROR
        self._complete(job, 2, code, OrderedDict(
            [("errorcode", code), ("errortext", err.text)]))

    def _run_step(self, job, step):
        try:
            return True, step(self._ctx(job), job)
        except CSError as err:
            self._fail(job, err)
        except Exception as exc:  # a simulator bug: fail the job like CloudStack
            log.exception("job %s (%s) failed", job["jobid"], job["kind"])
            self._fail(job, CSError(errors.INTERNAL_ERROR, str(exc) or exc.__class__.__name__))
        return False, None

    def _advance(self, now):
        """Finish due jobs and start queued ones until nothing changes."""
        model = self.model
        changed = True
        while changed:
            changed = False
            active = sorted(self._active(), key=lambda j: j["seq"])
            for job in sorted((j for j in active if j["phase"] == "running"),
                              key=lambda j: (j["due"], j["seq"])):
                if job["due"] <= now:
                    finish = JOB_KINDS[job["kind"]][1]
                    ok, result = self._run_step(job, finish)
                    if ok:
                        self._complete(job, 1, 0, result)
                    changed = True
            busy = {self._key(j) for j in self._active() if j["phase"] == "running"}
            for job in active:
                if job["phase"] != "queued":
                    continue
                key = self._key(job)
                if key in busy:
                    continue
                busy.add(key)
                begin = JOB_KINDS[job["kind"]][0]
                ok = True
                if begin is not None:
                    ok, _ = self._run_step(job, begin)
                if ok:
                    job["phase"] = "running"
                    job["due"] = now + self.delay
                    if self.delay <= 0:
                        changed = True
                else:
                    busy.discard(key)
                    changed = True
                model.touch()

    def _expire(self, now):
        model = self.model
        for jobid, job in list(model.jobs.items()):
            if job["phase"] == "done" and now - job.get("completed_at", now) > JOB_EXPIRE_SECONDS:
                del model.jobs[jobid]
                model.touch()

    def tick(self):
        """Bring jobs (and periodic work) up to date."""
        model = self.model
        now = time.time()
        with model.lock:
            self._advance(now)
            for func in PERIODIC:
                func(self.sim, now)
            self._expire(now)
            model.save_if_dirty()

    def next_due(self):
        with self.model.lock:
            dues = [j["due"] for j in self._active() if j["phase"] == "running"]
        return min(dues) if dues else None

    # --- background thread ------------------------------------------------

    def wake(self):
        with self._cond:
            self._cond.notify_all()

    def start(self):
        if self._thread and self._thread.is_alive():
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="cloudstack-sim-jobs",
                                        daemon=True)
        self._thread.start()

    def stop(self):
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread:
            self._thread.join(5)
        self._thread = None

    def _loop(self):
        while True:
            due = self.next_due()
            timeout = 1.0 if due is None else max(0.0, min(1.0, due - time.time()))
            with self._cond:
                if self._stopping:
                    return
                if timeout > 0:
                    self._cond.wait(timeout)
                if self._stopping:
                    return
            try:
                self.tick()
            except Exception:  # keep the runner alive
                log.exception("job runner tick failed")


def job_view(job):
    """queryAsyncJobResult / listAsyncJobs item."""
    out = OrderedDict()
    out["accountid"] = job["accountid"]
    out["userid"] = job["userid"]
    out["cmd"] = job["cmd"]
    out["jobstatus"] = job["jobstatus"]
    out["jobprocstatus"] = job["jobprocstatus"]
    out["jobresultcode"] = job["jobresultcode"]
    if job["phase"] == "done":
        out["jobresulttype"] = job["jobresulttype"]
        out["jobresult"] = job["jobresult"]
    if job.get("jobinstancetype"):
        out["jobinstancetype"] = job["jobinstancetype"]
        if job.get("jobinstanceid"):
            out["jobinstanceid"] = job["jobinstanceid"]
    out["created"] = job["created"]
    out["jobid"] = job["jobid"]
    return out
