"""The simulator's in-memory model of a CloudStack cloud, and its persistence.

Every entity is a plain dict kept in a table (``model.vms``,
``model.volumes`` ...) keyed by its UUID, so the whole model is one JSON
document. One re-entrant lock (``model.lock``) guards all of it.
"""

import json
import os
import tempfile
import threading
import uuid

TABLES = (
    "domains", "accounts", "users", "zones", "pods", "hosts", "oscategories", "ostypes",
    "templates", "service_offerings", "disk_offerings", "network_offerings", "networks",
    "vlans", "ips", "vms", "volumes", "snapshots", "keypairs", "security_groups", "tags",
    "jobs", "projects",
)

FORMAT_VERSION = 1


def new_id():
    return str(uuid.uuid4())


class Model:
    """Tables of entities plus counters; see TABLES for the names."""

    def __init__(self, state_file=None):
        self.lock = threading.RLock()
        self.state_file = state_file
        self.seq = {}
        self.dirty = False
        self.root_domain_id = None
        for name in TABLES:
            setattr(self, name, {})

    # --- generic access --------------------------------------------------

    def table(self, name):
        if name == "sg_rules":  # rules live inside their security groups
            return {r["ruleid"]: r for g in self.security_groups.values()
                    for r in g.get("ingressrule", []) + g.get("egressrule", [])}
        return getattr(self, name)

    def next_seq(self, name):
        value = self.seq.get(name, 0) + 1
        self.seq[name] = value
        return value

    def touch(self):
        """Mark the model changed (it is saved at the end of the request)."""
        self.dirty = True

    def user_by_apikey(self, apikey):
        for user in self.users.values():
            if user.get("apikey") == apikey:
                return user
        return None

    def account_by_name(self, name, domainid=None):
        domainid = domainid or self.root_domain_id
        for acct in self.accounts.values():
            if acct["name"] == name and acct["domainid"] == domainid:
                return acct
        return None

    # --- persistence -----------------------------------------------------

    def to_dict(self):
        return {
            "version": FORMAT_VERSION,
            "seq": self.seq,
            "root_domain_id": self.root_domain_id,
            "tables": {name: getattr(self, name) for name in TABLES},
        }

    def load_dict(self, data):
        if data.get("version") != FORMAT_VERSION:
            raise ValueError("unsupported simulator state version %r" % data.get("version"))
        self.seq = dict(data.get("seq", {}))
        self.root_domain_id = data.get("root_domain_id")
        tables = data.get("tables", {})
        for name in TABLES:
            setattr(self, name, dict(tables.get(name, {})))

    def load(self):
        """Load ``state_file`` if it exists; returns True if it did."""
        if not self.state_file or not os.path.exists(self.state_file):
            return False
        with open(self.state_file, encoding="utf-8") as f:
            data = json.load(f)
        with self.lock:
            self.load_dict(data)
        return True

    def save(self):
        """Write the state file atomically (temp file + rename)."""
        if not self.state_file:
            self.dirty = False
            return
        with self.lock:
            self._write(json.dumps(self.to_dict(), sort_keys=True))
            self.dirty = False

    def _write(self, text):
        directory = os.path.dirname(os.path.abspath(self.state_file))
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".simstate-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.state_file)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def save_if_dirty(self):
        if self.dirty:
            self.save()
