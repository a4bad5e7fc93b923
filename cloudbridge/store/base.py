"""The store: CloudBridge's shared state, in SQL common to SQLite and MySQL.

Every method runs in its own transaction on a pooled connection, so the
methods are thread-safe and several servers can share one MySQL database.
Statements are written with `?` placeholders; the database object converts
them for its driver (`db.sql`).  Timestamps are stored in UTC.
"""

import logging
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from cloudbridge.store import schema
from cloudbridge.store.errors import DuplicateError, NotFoundError, StoreError
from cloudbridge.store.ids import check_kind, check_text, derive_ec2_id
from cloudbridge.store.records import ClientTokenRecord, Credentials

log = logging.getLogger(__name__)

# Ids per SELECT ... IN (...): well below SQLite's limit on bound
# parameters (999 before SQLite 3.32) and MySQL's packet size.
IN_CHUNK = 500
# Attempts for a transaction that the database rolled back because of a
# deadlock or a lock wait timeout.
MAX_ATTEMPTS = 5
RETRY_PAUSE = 0.05
# Salted variants tried for an EC2 id taken by another CloudStack id.  With
# 68-bit ids a second variant is already all but never needed.
MAX_ID_SALTS = 16
RESERVATION_ID_LENGTH = 64


def _utc_now():
    """Return the current UTC time, naive and to the second, as stored."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def _chunks(values):
    for start in range(0, len(values), IN_CHUNK):
        yield values[start:start + IN_CHUNK]


def _unique(name, values):
    """Return the values of an iterable of ids, checked, without repeats, in order."""
    if isinstance(values, str):
        raise ValueError("%s must be a list of ids, not the string %r" % (name, values))
    seen = {}
    for value in values:
        seen.setdefault(check_text(name, value), None)
    return list(seen)


class Store:
    """CloudBridge's persistent state on one database (see `open_store`)."""

    def __init__(self, db):
        self._db = db

    @property
    def description(self):
        """Where the store lives, for logs; never contains the password."""
        return self._db.description

    # Transactions.

    @contextmanager
    def _transaction(self, write):
        db = self._db
        conn = db.acquire()
        broken = True
        try:
            cursor = conn.cursor()
            db.begin(conn, cursor, write)
            try:
                yield cursor
                conn.commit()
            except BaseException:
                try:
                    conn.rollback()
                    broken = False
                except db.errors as exc:
                    log.warning("rollback failed on %s: %s", db.description, exc)
                raise
            broken = False
        finally:
            db.release(conn, broken)

    def _run(self, work, write=False, lock=None):
        """Return work(cursor) run in one transaction.

        Database errors become `StoreError`; a transaction rolled back for a
        deadlock or a lock wait timeout runs again.  `lock` names a lock that
        other servers on the same database wait for (MySQL only: SQLite
        write transactions already exclude each other).
        """
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self._transaction(write) as cursor:
                    if lock is None:
                        return work(cursor)
                    with self._db.named_lock(cursor, lock):
                        return work(cursor)
            except self._db.errors as exc:
                if self._db.is_retryable(exc) and attempt < MAX_ATTEMPTS:
                    log.warning("retrying a transaction on %s (attempt %d of %d): %s",
                                self._db.description, attempt + 1, MAX_ATTEMPTS, exc)
                    time.sleep(RETRY_PAUSE * attempt)
                    continue
                raise StoreError("database %s failed: %s" % (self._db.description, exc)) from exc
        raise AssertionError("unreachable")

    def _sql(self, statement):
        return self._db.sql(statement)

    def _execute_ignoring_duplicate(self, cursor, statement, params):
        """Execute an INSERT; return False instead of raising when a unique key exists."""
        try:
            cursor.execute(self._sql(statement), params)
        except self._db.integrity_errors as exc:
            if self._db.is_duplicate(exc):
                return False
            raise
        return True

    # Life cycle.

    def ensure_schema(self):
        """Create missing tables and upgrade an older schema in place.

        Returns a `SchemaStatus` with the versions before and after.  Servers
        that start at once take turns: the first creates, the others find
        the schema current.
        """
        try:
            with self._db.schema_session() as cursor:
                status = schema.ensure_schema(self._db, cursor, _utc_now())
        except self._db.errors as exc:
            raise StoreError("cannot create or upgrade the schema of %s: %s"
                             % (self._db.description, exc)) from exc
        if status.created:
            log.info("created schema version %d in %s", status.after, self.description)
        elif status.upgraded:
            log.info("upgraded %s from schema version %d to %d",
                     self.description, status.before, status.after)
        return status

    def schema_version(self):
        """Return the schema version of the database (0 when it has no tables yet)."""
        return self._run(lambda cursor: schema.read_version(self._db, cursor))

    def ping(self):
        """Run a trivial query; raise `StoreError` if the database does not respond."""
        def work(cursor):
            cursor.execute("SELECT 1")
            return cursor.fetchone()
        self._run(work)

    def close(self):
        """Close the idle connections; the store cannot be used afterwards."""
        self._db.close()

    # Credentials.

    def get_credentials(self, access_key):
        """Return the `Credentials` of an access key, or None."""
        def work(cursor):
            cursor.execute(self._sql(
                "SELECT AccessKey, SecretKey, CertUniqueId, CertPem "
                "FROM usercredentials WHERE AccessKey = ?"), (access_key,))
            return cursor.fetchone()
        row = self._run(work)
        return Credentials(*row) if row else None

    def put_user_keys(self, access_key, secret_key):
        """Store a key pair, replacing the secret of a known access key.

        A certificate already registered for the access key is kept.
        """
        check_text("access key", access_key)
        check_text("secret key", secret_key)
        statement = self._sql(self._db.upsert("usercredentials", ("AccessKey", "SecretKey"),
                                              ("AccessKey",)))
        self._run(lambda cursor: cursor.execute(statement, (access_key, secret_key)),
                  write=True)

    def set_certificate(self, access_key, cert_id, cert_pem):
        """Register the certificate that signs an access key's SOAP requests.

        `cert_id` identifies the certificate (for example its SHA-256
        fingerprint).  Raises `DuplicateError` if another access key has this
        certificate and `NotFoundError` if the access key is unknown.
        """
        check_text("access key", access_key)
        check_text("certificate id", cert_id)
        if not isinstance(cert_pem, str) or not cert_pem:
            raise ValueError("invalid certificate: expected PEM text")

        def work(cursor):
            cursor.execute(self._sql(
                "SELECT AccessKey FROM usercredentials WHERE CertUniqueId = ?"), (cert_id,))
            row = cursor.fetchone()
            if row and row[0] != access_key:
                raise DuplicateError("the certificate %s is already registered for "
                                     "another access key" % cert_id)
            try:
                cursor.execute(self._sql(
                    "UPDATE usercredentials SET CertUniqueId = ?, CertPem = ? "
                    "WHERE AccessKey = ?"), (cert_id, cert_pem, access_key))
            except self._db.integrity_errors as exc:
                # Another server registered it between the SELECT and here.
                if self._db.is_duplicate(exc):
                    raise DuplicateError("the certificate %s is already registered for "
                                         "another access key" % cert_id) from exc
                raise
            if cursor.rowcount == 0:
                raise NotFoundError("access key %s not found" % access_key)
        self._run(work, write=True)

    def delete_certificate(self, access_key):
        """Remove an access key's certificate; return False if it had none."""
        def work(cursor):
            cursor.execute(self._sql(
                "UPDATE usercredentials SET CertUniqueId = NULL, CertPem = NULL "
                "WHERE AccessKey = ? AND CertUniqueId IS NOT NULL"), (access_key,))
            return cursor.rowcount > 0
        return self._run(work, write=True)

    def find_credentials_by_certificate(self, cert_id):
        """Return the `Credentials` whose certificate is `cert_id`, or None."""
        def work(cursor):
            cursor.execute(self._sql(
                "SELECT AccessKey, SecretKey, CertUniqueId, CertPem "
                "FROM usercredentials WHERE CertUniqueId = ?"), (cert_id,))
            return cursor.fetchone()
        row = self._run(work)
        return Credentials(*row) if row else None

    # Offering map.

    def offering_map(self):
        """Return {EC2 instance type: CloudStack service offering id}."""
        def work(cursor):
            cursor.execute("SELECT AmazonEC2Offering, CloudStackOffering FROM offering_bundle")
            return dict(cursor.fetchall())
        return self._run(work)

    def set_offering(self, instance_type, offering_id):
        """Map an instance type to a service offering, replacing any earlier mapping."""
        check_text("instance type", instance_type)
        check_text("service offering id", offering_id)
        statement = self._sql(self._db.upsert("offering_bundle",
                                              ("AmazonEC2Offering", "CloudStackOffering"),
                                              ("AmazonEC2Offering",)))
        self._run(lambda cursor: cursor.execute(statement, (instance_type, offering_id)),
                  write=True)

    def delete_offering(self, instance_type):
        """Remove an instance type's mapping; return False if it had none."""
        def work(cursor):
            cursor.execute(self._sql(
                "DELETE FROM offering_bundle WHERE AmazonEC2Offering = ?"), (instance_type,))
            return cursor.rowcount > 0
        return self._run(work, write=True)

    def seed_offerings(self, mapping):
        """Insert `mapping` if the offering map is empty; return the rows inserted.

        Servers that start at once take turns under a lock, so only the
        first one seeds.
        """
        rows = sorted((check_text("instance type", instance_type),
                       check_text("service offering id", offering_id))
                      for instance_type, offering_id in dict(mapping).items())
        if not rows:
            return 0

        def work(cursor):
            cursor.execute("SELECT COUNT(*) FROM offering_bundle")
            (count,) = cursor.fetchone()
            if count:
                return 0
            cursor.executemany(self._sql(
                "INSERT INTO offering_bundle (AmazonEC2Offering, CloudStackOffering) "
                "VALUES (?, ?)"), rows)
            return len(rows)
        inserted = self._run(work, write=True, lock="offering-seed")
        if inserted:
            log.info("seeded the offering map with %d instance types", inserted)
        return inserted

    # EC2 ids.

    def _select_ec2_ids(self, kind, cloudstack_ids):
        def work(cursor):
            found = {}
            for chunk in _chunks(cloudstack_ids):
                cursor.execute(self._sql(
                    "SELECT cloudstack_id, ec2_id FROM ec2_ids WHERE kind = ? "
                    "AND cloudstack_id IN (%s)" % ", ".join("?" * len(chunk))),
                    [kind] + chunk)
                found.update(cursor.fetchall())
            return found
        return self._run(work)

    def ec2_ids(self, kind, cloudstack_ids):
        """Return {CloudStack id: EC2 id} for `kind`, creating the missing EC2 ids.

        Known ids are read in one query per 500.  A new EC2 id is derived
        from (kind, CloudStack id); if another CloudStack id already has it,
        salted variants are tried in order.  The inserts ignore unique-key
        conflicts and the ids are then read back, so servers that create the
        same id at once all return the row that was stored first.
        """
        check_kind(kind)
        requested = _unique("CloudStack id", cloudstack_ids)
        if not requested:
            return {}
        found = self._select_ec2_ids(kind, requested)
        missing = [cloudstack_id for cloudstack_id in requested if cloudstack_id not in found]

        for salt in range(MAX_ID_SALTS):
            if not missing:
                break
            created = self._db.to_db_time(_utc_now())
            # Sorted by primary key so that concurrent inserts lock rows in
            # the same order, which avoids most deadlocks.
            rows = sorted((derive_ec2_id(kind, cloudstack_id, salt), kind, cloudstack_id, created)
                          for cloudstack_id in missing)
            statement = self._sql("%s ec2_ids (ec2_id, kind, cloudstack_id, created) "
                                  "VALUES (?, ?, ?, ?)" % self._db.insert_ignore)
            self._run(lambda cursor: cursor.executemany(statement, rows), write=True)
            found.update(self._select_ec2_ids(kind, missing))
            missing = [cloudstack_id for cloudstack_id in missing if cloudstack_id not in found]
            if missing:
                log.info("%d new %s ids collided with stored ids; trying salt %d",
                         len(missing), kind, salt + 1)
        if missing:
            raise StoreError("cannot allocate EC2 ids of kind %s for %d CloudStack ids "
                             "after %d attempts" % (kind, len(missing), MAX_ID_SALTS))
        return {cloudstack_id: found[cloudstack_id] for cloudstack_id in requested}

    def cloudstack_ids(self, kind, ec2_ids):
        """Return {EC2 id: CloudStack id} for the EC2 ids of `kind` that are known."""
        check_kind(kind)
        requested = _unique("EC2 id", ec2_ids)

        def work(cursor):
            found = {}
            for chunk in _chunks(requested):
                cursor.execute(self._sql(
                    "SELECT ec2_id, cloudstack_id FROM ec2_ids WHERE kind = ? "
                    "AND ec2_id IN (%s)" % ", ".join("?" * len(chunk))),
                    [kind] + chunk)
                found.update(cursor.fetchall())
            return found
        return self._run(work) if requested else {}

    # Reservations.

    def add_reservation(self, reservation_id, owner, vm_ids):
        """Record that the VMs `vm_ids` belong to a reservation of `owner`.

        Adding to an existing reservation of the same owner appends the VMs
        after its current members.  Raises `DuplicateError` if the
        reservation belongs to another owner or a VM to another reservation.
        """
        check_text("reservation id", reservation_id, RESERVATION_ID_LENGTH)
        check_text("owner", owner)
        members = _unique("VM id", vm_ids)

        def work(cursor):
            inserted = self._execute_ignoring_duplicate(
                cursor, "INSERT INTO reservations (reservation_id, owner, created) "
                        "VALUES (?, ?, ?)",
                (reservation_id, owner, self._db.to_db_time(_utc_now())))
            if not inserted:
                cursor.execute(self._sql(
                    "SELECT owner FROM reservations WHERE reservation_id = ?"), (reservation_id,))
                (stored_owner,) = cursor.fetchone()
                if stored_owner != owner:
                    raise DuplicateError("reservation %s belongs to another owner"
                                         % reservation_id)

            current = self._reservations_for(cursor, members)
            elsewhere = sorted(vm for vm, rid in current.items() if rid != reservation_id)
            if elsewhere:
                raise DuplicateError("VMs already in another reservation: %s"
                                     % ", ".join(elsewhere))
            cursor.execute(self._sql(
                "SELECT COALESCE(MAX(launch_index) + 1, 0) FROM reservation_instances "
                "WHERE reservation_id = ?"), (reservation_id,))
            (next_index,) = cursor.fetchone()
            rows = [(vm_id, reservation_id, next_index + position)
                    for position, vm_id in enumerate(vm for vm in members if vm not in current)]
            if rows:
                try:
                    cursor.executemany(self._sql(
                        "INSERT INTO reservation_instances (vm_id, reservation_id, launch_index) "
                        "VALUES (?, ?, ?)"), rows)
                except self._db.integrity_errors as exc:
                    if self._db.is_duplicate(exc):
                        raise DuplicateError("a VM of reservation %s was added to another "
                                             "reservation at the same time" % reservation_id) from exc
                    raise
        self._run(work, write=True)

    def _reservations_for(self, cursor, vm_ids):
        found = {}
        for chunk in _chunks(vm_ids):
            cursor.execute(self._sql(
                "SELECT vm_id, reservation_id FROM reservation_instances "
                "WHERE vm_id IN (%s)" % ", ".join("?" * len(chunk))), chunk)
            found.update(cursor.fetchall())
        return found

    def reservations_for(self, vm_ids):
        """Return {VM id: reservation id} for the VMs that belong to a reservation."""
        requested = _unique("VM id", vm_ids)
        if not requested:
            return {}
        return self._run(lambda cursor: self._reservations_for(cursor, requested))

    def reservation_members(self, reservation_id):
        """Return the VM ids of a reservation in launch order ([] if unknown)."""
        def work(cursor):
            cursor.execute(self._sql(
                "SELECT vm_id FROM reservation_instances WHERE reservation_id = ? "
                "ORDER BY launch_index"), (reservation_id,))
            return [row[0] for row in cursor.fetchall()]
        return self._run(work)

    # Terminated instances.

    def record_terminated(self, owner, descriptions, keep_seconds):
        """Keep the last description of terminated VMs ({VM id: JSON text}).

        Rows older than `keep_seconds` are deleted on the way, so the table
        only ever holds the recent ones.
        """
        check_text("owner", owner)
        now = _utc_now()
        rows = [(check_text("VM id", vm_id), owner, text, self._db.to_db_time(now))
                for vm_id, text in descriptions.items()]
        cutoff = self._db.to_db_time(now - timedelta(seconds=keep_seconds))

        def work(cursor):
            cursor.execute(self._sql("DELETE FROM terminated_instances WHERE terminated_at < ?"),
                           (cutoff,))
            if rows:
                cursor.executemany(self._sql(
                    "REPLACE INTO terminated_instances (vm_id, owner, description, terminated_at) "
                    "VALUES (?, ?, ?, ?)"), rows)
        self._run(work, write=True)

    def recent_terminated(self, owner, keep_seconds):
        """Return {VM id: JSON text} of the owner's VMs terminated within keep_seconds."""
        now = _utc_now()
        cutoff = self._db.to_db_time(now - timedelta(seconds=keep_seconds))

        def work(cursor):
            cursor.execute(self._sql(
                "SELECT vm_id, description FROM terminated_instances "
                "WHERE owner = ? AND terminated_at >= ?"), (owner, cutoff))
            return dict(cursor.fetchall())
        return self._run(work)

    # Details CloudStack does not keep.

    def set_details(self, kind, cloudstack_id, values):
        """Store named values of one resource ({name: text}), replacing earlier ones."""
        check_kind(kind)
        check_text("CloudStack id", cloudstack_id)
        rows = [(kind, cloudstack_id, check_text("detail name", name), value)
                for name, value in values.items()]

        def work(cursor):
            cursor.executemany(self._sql(
                "REPLACE INTO resource_details (kind, cloudstack_id, name, value) "
                "VALUES (?, ?, ?, ?)"), rows)
        if rows:
            self._run(work, write=True)

    def details(self, kind, cloudstack_ids, name):
        """Return {CloudStack id: value} of one named detail for the resources that have it."""
        check_kind(kind)
        requested = _unique("CloudStack id", cloudstack_ids)

        def work(cursor):
            found = {}
            for chunk in _chunks(requested):
                cursor.execute(self._sql(
                    "SELECT cloudstack_id, value FROM resource_details WHERE kind = ? "
                    "AND name = ? AND cloudstack_id IN (%s)" % ", ".join("?" * len(chunk))),
                    [kind, name] + chunk)
                found.update(cursor.fetchall())
            return found
        return self._run(work) if requested else {}

    # SOAP replay protection.

    def remember_signature(self, digest, valid_until):
        """Record a signature digest until valid_until (aware UTC); False if already seen.

        Rows whose time has passed are deleted on the way.
        """
        check_text("signature digest", digest)
        until = self._db.to_db_time(valid_until.astimezone(timezone.utc).replace(
            tzinfo=None, microsecond=0) + timedelta(seconds=1))

        def work(cursor):
            cursor.execute(self._sql("DELETE FROM seen_signatures WHERE valid_until < ?"),
                           (self._db.to_db_time(_utc_now()),))
            return self._execute_ignoring_duplicate(
                cursor, "INSERT INTO seen_signatures (digest, valid_until) VALUES (?, ?)",
                (digest, until))
        return self._run(work, write=True)

    # RunInstances client tokens.

    def claim_client_token(self, owner, token, request_digest):
        """Claim a client token for one RunInstances call.

        Returns None when this call claimed the token, or the stored
        `ClientTokenRecord` when an earlier call had claimed it.  Exactly one
        of several concurrent calls, on any server, gets None.
        """
        check_text("owner", owner)
        check_text("client token", token)
        check_text("request digest", request_digest)

        def insert(cursor):
            return self._execute_ignoring_duplicate(
                cursor, "INSERT INTO client_tokens "
                        "(owner, token, request_digest, reservation_id, created) "
                        "VALUES (?, ?, ?, NULL, ?)",
                (owner, token, request_digest, self._db.to_db_time(_utc_now())))

        def select(cursor):
            cursor.execute(self._sql(
                "SELECT owner, token, request_digest, reservation_id, created "
                "FROM client_tokens WHERE owner = ? AND token = ?"), (owner, token))
            return cursor.fetchone()

        for _ in range(MAX_ATTEMPTS):
            if self._run(insert, write=True):
                return None
            # A new transaction, so that it sees the winner's committed row.
            row = self._run(select)
            if row:
                return ClientTokenRecord(*row[:4], created=self._db.from_db_time(row[4]))
            # The holder released the token in between: try to claim it again.
        raise StoreError("cannot claim client token %s: it was claimed and released "
                         "%d times meanwhile" % (token, MAX_ATTEMPTS))

    def take_over_client_token(self, owner, token, request_digest, stale_seconds):
        """Claim a token whose launch never completed, once its claim is stale_seconds old.

        A server that crashed between claiming a token and recording its
        reservation leaves such a claim.  Returns True when this call took
        it over (its claim time is renewed); only one of several concurrent
        callers does.
        """
        cutoff = self._db.to_db_time(_utc_now() - timedelta(seconds=stale_seconds))

        def work(cursor):
            cursor.execute(self._sql(
                "UPDATE client_tokens SET created = ?, request_digest = ? "
                "WHERE owner = ? AND token = ? AND reservation_id IS NULL AND created < ?"),
                (self._db.to_db_time(_utc_now()), request_digest, owner, token, cutoff))
            return cursor.rowcount == 1
        return self._run(work, write=True)

    def complete_client_token(self, owner, token, reservation_id):
        """Record the reservation that a claimed client token launched."""
        check_text("reservation id", reservation_id, RESERVATION_ID_LENGTH)

        def work(cursor):
            cursor.execute(self._sql(
                "UPDATE client_tokens SET reservation_id = ? WHERE owner = ? AND token = ?"),
                (reservation_id, owner, token))
            if cursor.rowcount == 0:
                raise NotFoundError("client token %s of %s not found" % (token, owner))
        self._run(work, write=True)

    def release_client_token(self, owner, token):
        """Delete a claimed client token (after a failed launch); return False if absent."""
        def work(cursor):
            cursor.execute(self._sql(
                "DELETE FROM client_tokens WHERE owner = ? AND token = ?"), (owner, token))
            return cursor.rowcount > 0
        return self._run(work, write=True)
