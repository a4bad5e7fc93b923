"""Database schema: the DDL for each dialect and the upgrade steps.

Schema versions:

1. The original Java CloudBridge's tables: `usercredentials(ID, AccessKey,
   SecretKey, CertUniqueId)` and `offering_bundle(ID, AmazonEC2Offering,
   CloudStackOffering)`, without a `schema_version` table.
2. Those two tables keep their names and columns, so a database of the
   original upgrades in place.  `usercredentials` gains `CertPem` and all key
   columns are VARCHAR(255), wide enough for CloudStack UUIDs.  The new
   tables are `ec2_ids`, `reservations`, `reservation_instances`,
   `client_tokens` and `schema_version`.
3. `terminated_instances`: the last description of each instance a user
   terminated, because CloudStack hides destroyed VMs from their owners
   while EC2 lists terminated instances for about an hour.
   `resource_details`: values EC2 shows that CloudStack does not keep or
   return (a snapshot's description, an instance's user data).
   `seen_signatures`: digests of the SOAP signatures accepted while their
   timestamps are valid, so that a captured request is not run twice.

Upgrades add and widen; they never drop a table, a column or a row.  The
original's S3 tables (`sbucket`, `sobject` ...) are left as they are.
"""

import logging

from cloudbridge.store.errors import StoreError
from cloudbridge.store.records import SchemaStatus

log = logging.getLogger(__name__)

CURRENT_VERSION = 3

# utf8mb4_bin compares like SQLite: case-sensitive, byte by byte.
MYSQL_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

# Table name -> dialect -> CREATE statement, in creation order.
TABLES = {
    "usercredentials": {
        "mysql": """
            CREATE TABLE IF NOT EXISTS usercredentials (
                ID BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                AccessKey VARCHAR(255) NOT NULL,
                SecretKey VARCHAR(255) NOT NULL,
                CertUniqueId VARCHAR(255) NULL,
                CertPem TEXT NULL,
                UNIQUE KEY uk_usercredentials_accesskey (AccessKey),
                UNIQUE KEY uk_usercredentials_certuniqueid (CertUniqueId)
            ) %s""" % MYSQL_OPTIONS,
        "sqlite": """
            CREATE TABLE IF NOT EXISTS usercredentials (
                ID INTEGER PRIMARY KEY AUTOINCREMENT,
                AccessKey VARCHAR(255) NOT NULL UNIQUE,
                SecretKey VARCHAR(255) NOT NULL,
                CertUniqueId VARCHAR(255) NULL UNIQUE,
                CertPem TEXT NULL
            )""",
    },
    "offering_bundle": {
        "mysql": """
            CREATE TABLE IF NOT EXISTS offering_bundle (
                ID INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                AmazonEC2Offering VARCHAR(255) NOT NULL,
                CloudStackOffering VARCHAR(255) NOT NULL,
                UNIQUE KEY one_offering (AmazonEC2Offering)
            ) %s""" % MYSQL_OPTIONS,
        "sqlite": """
            CREATE TABLE IF NOT EXISTS offering_bundle (
                ID INTEGER PRIMARY KEY AUTOINCREMENT,
                AmazonEC2Offering VARCHAR(255) NOT NULL UNIQUE,
                CloudStackOffering VARCHAR(255) NOT NULL
            )""",
    },
    # One row per EC2 id; the unique key on (kind, cloudstack_id) makes two
    # servers that insert the same resource at once end with one row.
    "ec2_ids": {
        "mysql": """
            CREATE TABLE IF NOT EXISTS ec2_ids (
                ec2_id VARCHAR(64) NOT NULL PRIMARY KEY,
                kind VARCHAR(32) NOT NULL,
                cloudstack_id VARCHAR(255) NOT NULL,
                created DATETIME NOT NULL,
                UNIQUE KEY uk_ec2_ids_cloudstack (kind, cloudstack_id)
            ) %s""" % MYSQL_OPTIONS,
        "sqlite": """
            CREATE TABLE IF NOT EXISTS ec2_ids (
                ec2_id VARCHAR(64) NOT NULL PRIMARY KEY,
                kind VARCHAR(32) NOT NULL,
                cloudstack_id VARCHAR(255) NOT NULL,
                created TEXT NOT NULL,
                UNIQUE (kind, cloudstack_id)
            )""",
    },
    "reservations": {
        "mysql": """
            CREATE TABLE IF NOT EXISTS reservations (
                reservation_id VARCHAR(64) NOT NULL PRIMARY KEY,
                owner VARCHAR(255) NOT NULL,
                created DATETIME NOT NULL
            ) %s""" % MYSQL_OPTIONS,
        "sqlite": """
            CREATE TABLE IF NOT EXISTS reservations (
                reservation_id VARCHAR(64) NOT NULL PRIMARY KEY,
                owner VARCHAR(255) NOT NULL,
                created TEXT NOT NULL
            )""",
    },
    # A VM belongs to at most one reservation; launch_index keeps the order
    # in which RunInstances listed the VMs.
    "reservation_instances": {
        "mysql": """
            CREATE TABLE IF NOT EXISTS reservation_instances (
                vm_id VARCHAR(255) NOT NULL PRIMARY KEY,
                reservation_id VARCHAR(64) NOT NULL,
                launch_index INT NOT NULL,
                KEY ix_reservation_instances_reservation (reservation_id, launch_index),
                CONSTRAINT fk_reservation_instances_reservation
                    FOREIGN KEY (reservation_id) REFERENCES reservations (reservation_id)
                    ON DELETE CASCADE
            ) %s""" % MYSQL_OPTIONS,
        "sqlite": """
            CREATE TABLE IF NOT EXISTS reservation_instances (
                vm_id VARCHAR(255) NOT NULL PRIMARY KEY,
                reservation_id VARCHAR(64) NOT NULL
                    REFERENCES reservations (reservation_id) ON DELETE CASCADE,
                launch_index INTEGER NOT NULL
            )""",
    },
    "client_tokens": {
        "mysql": """
            CREATE TABLE IF NOT EXISTS client_tokens (
                owner VARCHAR(255) NOT NULL,
                token VARCHAR(255) NOT NULL,
                request_digest VARCHAR(255) NOT NULL,
                reservation_id VARCHAR(64) NULL,
                created DATETIME NOT NULL,
                PRIMARY KEY (owner, token)
            ) %s""" % MYSQL_OPTIONS,
        "sqlite": """
            CREATE TABLE IF NOT EXISTS client_tokens (
                owner VARCHAR(255) NOT NULL,
                token VARCHAR(255) NOT NULL,
                request_digest VARCHAR(255) NOT NULL,
                reservation_id VARCHAR(64) NULL,
                created TEXT NOT NULL,
                PRIMARY KEY (owner, token)
            )""",
    },
    # description is the CloudStack VM as JSON, taken when it was terminated.
    "terminated_instances": {
        "mysql": """
            CREATE TABLE IF NOT EXISTS terminated_instances (
                vm_id VARCHAR(255) NOT NULL PRIMARY KEY,
                owner VARCHAR(255) NOT NULL,
                description TEXT NOT NULL,
                terminated_at DATETIME NOT NULL,
                KEY ix_terminated_instances_owner (owner, terminated_at)
            ) %s""" % MYSQL_OPTIONS,
        "sqlite": """
            CREATE TABLE IF NOT EXISTS terminated_instances (
                vm_id VARCHAR(255) NOT NULL PRIMARY KEY,
                owner VARCHAR(255) NOT NULL,
                description TEXT NOT NULL,
                terminated_at TEXT NOT NULL
            )""",
    },
    # kind is the EC2 id prefix of the resource ("i", "snap" ...).
    "resource_details": {
        "mysql": """
            CREATE TABLE IF NOT EXISTS resource_details (
                kind VARCHAR(32) NOT NULL,
                cloudstack_id VARCHAR(255) NOT NULL,
                name VARCHAR(64) NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (kind, cloudstack_id, name)
            ) %s""" % MYSQL_OPTIONS,
        "sqlite": """
            CREATE TABLE IF NOT EXISTS resource_details (
                kind VARCHAR(32) NOT NULL,
                cloudstack_id VARCHAR(255) NOT NULL,
                name VARCHAR(64) NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (kind, cloudstack_id, name)
            )""",
    },
    "seen_signatures": {
        "mysql": """
            CREATE TABLE IF NOT EXISTS seen_signatures (
                digest VARCHAR(64) NOT NULL PRIMARY KEY,
                valid_until DATETIME NOT NULL,
                KEY ix_seen_signatures_valid_until (valid_until)
            ) %s""" % MYSQL_OPTIONS,
        "sqlite": """
            CREATE TABLE IF NOT EXISTS seen_signatures (
                digest VARCHAR(64) NOT NULL PRIMARY KEY,
                valid_until TEXT NOT NULL
            )""",
    },
    # One row per schema version applied; the current version is the maximum.
    "schema_version": {
        "mysql": """
            CREATE TABLE IF NOT EXISTS schema_version (
                version INT NOT NULL PRIMARY KEY,
                applied DATETIME NOT NULL
            ) %s""" % MYSQL_OPTIONS,
        "sqlite": """
            CREATE TABLE IF NOT EXISTS schema_version (
                version INTEGER NOT NULL PRIMARY KEY,
                applied TEXT NOT NULL
            )""",
    },
}

# Table name -> the indexes SQLite creates apart from its CREATE TABLE.
SQLITE_EXTRA_INDEXES = {
    "reservation_instances": "CREATE INDEX IF NOT EXISTS ix_reservation_instances_reservation "
                             "ON reservation_instances (reservation_id, launch_index)",
    "terminated_instances": "CREATE INDEX IF NOT EXISTS ix_terminated_instances_owner "
                            "ON terminated_instances (owner, terminated_at)",
}

ORIGINAL_TABLES = ("usercredentials", "offering_bundle")


def create_tables(db, cursor, names):
    for name in names:
        cursor.execute(TABLES[name][db.name])
    if db.name == "sqlite":
        for name in names:
            if name in SQLITE_EXTRA_INDEXES:
                cursor.execute(SQLITE_EXTRA_INDEXES[name])


def read_version(db, cursor):
    """Return the schema version of the database; 0 when it has no CloudBridge table."""
    tables = db.table_names(cursor)
    if "schema_version" in tables:
        cursor.execute("SELECT MAX(version) FROM schema_version")
        (version,) = cursor.fetchone()
        if version is not None:
            return int(version)
    if any(name in tables for name in ORIGINAL_TABLES):
        return 1
    return 0


def _upgrade_to_2(db, cursor):
    tables = db.table_names(cursor)

    if "usercredentials" in tables:
        if db.name == "mysql":
            # The original used VARCHAR(150) and (in its fallback table)
            # VARCHAR(1000) without unique keys.  Strict mode makes the
            # ALTER fail, rather than truncate, if a stored key is longer.
            cursor.execute(
                "ALTER TABLE usercredentials"
                " CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,"
                " MODIFY AccessKey VARCHAR(255) NOT NULL,"
                " MODIFY SecretKey VARCHAR(255) NOT NULL,"
                " MODIFY CertUniqueId VARCHAR(255) NULL")
        if "certpem" not in db.column_names(cursor, "usercredentials"):
            cursor.execute("ALTER TABLE usercredentials ADD COLUMN CertPem TEXT NULL")
        _add_unique_index(db, cursor, "usercredentials", "AccessKey",
                          "uk_usercredentials_accesskey")
        _add_unique_index(db, cursor, "usercredentials", "CertUniqueId",
                          "uk_usercredentials_certuniqueid")

    if "offering_bundle" in tables:
        if db.name == "mysql":
            # CloudStackOffering was VARCHAR(20), too short for a UUID.
            cursor.execute(
                "ALTER TABLE offering_bundle"
                " CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,"
                " MODIFY AmazonEC2Offering VARCHAR(255) NOT NULL,"
                " MODIFY CloudStackOffering VARCHAR(255) NOT NULL")
        _add_unique_index(db, cursor, "offering_bundle", "AmazonEC2Offering", "one_offering")

    # NOTE: these use the current DDL; a later version that changes one of
    # these tables must copy its version-2 DDL into this step.
    create_tables(db, cursor, ("ec2_ids", "reservations", "reservation_instances",
                               "client_tokens", "schema_version"))


def _upgrade_to_3(db, cursor):
    # NOTE: uses the current DDL, as _upgrade_to_2 does.
    create_tables(db, cursor, ("terminated_instances", "resource_details", "seen_signatures"))


def _add_unique_index(db, cursor, table, column, index_name):
    if not db.has_unique_index(cursor, table, column):
        log.info("adding unique index %s on %s(%s)", index_name, table, column)
        cursor.execute("CREATE UNIQUE INDEX %s ON %s (%s)" % (index_name, table, column))


# (version, step): the step turns a database of the previous version into
# this version.  Steps check before they alter, so a step interrupted by a
# crash runs again cleanly (MySQL commits each DDL statement on its own).
UPGRADES = (
    (2, _upgrade_to_2),
    (3, _upgrade_to_3),
)


def ensure_schema(db, cursor, now):
    """Create or upgrade the schema on `cursor`, which holds the schema lock.

    `now` is the naive UTC time recorded for each version applied.
    """
    before = read_version(db, cursor)
    if before > CURRENT_VERSION:
        raise StoreError("the database %s has schema version %d, newer than version %d "
                         "that this CloudBridge supports: upgrade CloudBridge"
                         % (db.description, before, CURRENT_VERSION))

    applied = []
    if before == 0:
        applied.append(CURRENT_VERSION)
    else:
        for version, step in UPGRADES:
            if version > before:
                log.info("upgrading %s to schema version %d", db.description, version)
                step(db, cursor)
                applied.append(version)

    # Also recreates any table that has gone missing.
    create_tables(db, cursor, TABLES)
    for version in applied:
        cursor.execute(db.sql("INSERT INTO schema_version (version, applied) VALUES (?, ?)"),
                       (version, db.to_db_time(now)))
    return SchemaStatus(before=before, after=max([before] + applied))
