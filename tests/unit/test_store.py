"""Tests of cloudbridge.store on SQLite and on MariaDB."""

import re
import socket
import sqlite3
import threading
from contextlib import closing
from datetime import datetime, timedelta, timezone

import pytest

from cloudbridge.config import Config
from cloudbridge.store import (CURRENT_VERSION, ClientTokenRecord, Credentials,
                               DuplicateError, NotFoundError, StoreError, open_store)
from cloudbridge.store.ids import derive_ec2_id
from tests.databases import (mysql_database, mysql_root_connection, sqlite_config,
                             store, store_config)  # noqa: F401

UUID_1 = "5a1c0b8e-7f3d-4c2a-9e61-0d7b3f2a8c41"
UUID_2 = "c3f9e2d1-0a4b-4e5f-8a6b-7c8d9e0f1a2b"
EC2_ID = re.compile(r"^i-[0-9a-f]{17}$")
THREADS = 12


def run_sql(config, statement, params=()):
    """Run one statement directly on the database behind `config`; return its rows."""
    if config.db_type == "sqlite":
        with closing(sqlite3.connect(config.db_file)) as conn:
            with conn:
                return conn.execute(statement, params).fetchall()
    with mysql_root_connection(config.db_name) as conn, conn.cursor() as cursor:
        cursor.execute(statement.replace("?", "%s"), params)
        return list(cursor.fetchall())


def run_in_threads(count, function):
    """Call function(index) in `count` threads released at once; return the results."""
    barrier = threading.Barrier(count)
    results = [None] * count
    errors = []

    def target(index):
        try:
            barrier.wait()
            results[index] = function(index)
        except Exception as exc:  # reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.fixture
def second_store(store_config):
    """Another Store on the same database, like a second server behind a load balancer."""
    opened = open_store(store_config)
    yield opened
    opened.close()


def free_local_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Schema and connection.

def test_ensure_schema_creates_then_keeps(store_config):
    opened = open_store(store_config)
    try:
        first = opened.ensure_schema()
        second = opened.ensure_schema()
    finally:
        opened.close()
    assert (first.before, first.after) == (0, CURRENT_VERSION)
    assert first.created
    assert (second.before, second.after) == (CURRENT_VERSION, CURRENT_VERSION)
    assert not second.created
    assert not second.upgraded


def test_ensure_schema_concurrent_servers(store_config):
    stores = [open_store(store_config) for _ in range(4)]
    try:
        statuses = run_in_threads(4, lambda i: stores[i].ensure_schema())
        assert sorted(status.before for status in statuses) == [0] + [CURRENT_VERSION] * 3
        assert all(status.after == CURRENT_VERSION for status in statuses)
        assert stores[0].schema_version() == CURRENT_VERSION
    finally:
        for opened in stores:
            opened.close()
    assert run_sql(store_config, "SELECT version FROM schema_version") == [(CURRENT_VERSION,)]


def test_ensure_schema_recreates_missing_table(store, store_config):
    store.ec2_ids("i", ["vm-a"])
    run_sql(store_config, "DROP TABLE client_tokens")
    status = store.ensure_schema()
    assert status.before == CURRENT_VERSION
    assert store.claim_client_token("owner", "token", "digest") is None
    assert store.ec2_ids("i", ["vm-a"]) == {"vm-a": derive_ec2_id("i", "vm-a")}


def test_ensure_schema_rejects_newer_version(store, store_config):
    run_sql(store_config, "INSERT INTO schema_version (version, applied) VALUES (?, ?)",
            (CURRENT_VERSION + 1, "2030-01-01 00:00:00"))
    with pytest.raises(StoreError) as error:
        store.ensure_schema()
    assert "schema version %d" % (CURRENT_VERSION + 1) in str(error.value)
    assert "upgrade CloudBridge" in str(error.value)


def test_ping_succeeds(store):
    assert store.ping() is None


def test_ping_closed_store_raises(store_config):
    opened = open_store(store_config)
    opened.close()
    with pytest.raises(StoreError) as error:
        opened.ping()
    assert "closed" in str(error.value)


def test_ping_mysql_down_raises():
    config = Config(path="ec2-service.properties", db_type="mysql", db_host="127.0.0.1",
                    db_port=free_local_port(), db_name="cloudbridge", db_user="cloud",
                    db_password="secret-password")
    opened = open_store(config)
    try:
        with pytest.raises(StoreError) as error:
            opened.ping()
        with pytest.raises(StoreError):
            opened.ensure_schema()
    finally:
        opened.close()
    message = str(error.value)
    assert "mysql://cloud@127.0.0.1:%d/cloudbridge" % config.db_port in message
    assert "secret-password" not in message


def test_ping_sqlite_unopenable_raises(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    config = sqlite_config(tmp_path)
    config.db_file = str(blocker / "cloudbridge.db")
    opened = open_store(config)
    with pytest.raises(StoreError) as error:
        opened.ping()
    assert str(blocker) in str(error.value)


def test_open_store_unknown_type(tmp_path):
    config = sqlite_config(tmp_path)
    config.db_type = "postgres"
    with pytest.raises(ValueError):
        open_store(config)


def test_sqlite_uses_wal(tmp_path):
    config = sqlite_config(tmp_path)
    opened = open_store(config)
    opened.ensure_schema()
    opened.close()
    assert run_sql(config, "PRAGMA journal_mode") == [("wal",)]


def test_killed_mysql_connection_replaced():
    with mysql_database() as config:
        opened = open_store(config)
        try:
            opened.ensure_schema()
            opened.put_user_keys("AK1", "SK1")
            with mysql_root_connection() as admin, admin.cursor() as cursor:
                cursor.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s",
                               (config.db_name,))
                killed = {row[0] for row in cursor.fetchall()}
                assert killed
                for connection_id in killed:
                    cursor.execute("KILL %d" % connection_id)

                credentials = opened.get_credentials("AK1")
                opened.ping()

                cursor.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s",
                               (config.db_name,))
                current = {row[0] for row in cursor.fetchall()}
        finally:
            opened.close()
    assert credentials == Credentials("AK1", "SK1", None, None)
    assert current
    assert not current & killed


# Credentials.

def test_credentials_unknown_key(store):
    assert store.get_credentials("AKUNKNOWN") is None
    assert store.find_credentials_by_certificate("no-such-cert") is None


def test_put_user_keys_inserts_and_overwrites(store):
    store.put_user_keys("AK1", "SK1")
    assert store.get_credentials("AK1") == Credentials("AK1", "SK1", None, None)
    store.put_user_keys("AK1", "SK2")
    assert store.get_credentials("AK1") == Credentials("AK1", "SK2", None, None)


def test_put_user_keys_keeps_certificate(store):
    store.put_user_keys("AK1", "SK1")
    store.set_certificate("AK1", "fp-1", "PEM-1")
    store.put_user_keys("AK1", "SK2")
    assert store.get_credentials("AK1") == Credentials("AK1", "SK2", "fp-1", "PEM-1")


def test_access_keys_case_sensitive(store):
    store.put_user_keys("abc", "lower")
    store.put_user_keys("ABC", "upper")
    assert store.get_credentials("abc").secret_key == "lower"
    assert store.get_credentials("ABC").secret_key == "upper"


def test_credentials_repr_hides_secret(store):
    store.put_user_keys("AK1", "very-secret-key")
    store.set_certificate("AK1", "fp-1", "-----BEGIN CERTIFICATE-----")
    text = repr(store.get_credentials("AK1"))
    assert "AK1" in text
    assert "very-secret-key" not in text
    assert "BEGIN CERTIFICATE" not in text


def test_set_certificate_and_find(store):
    store.put_user_keys("AK1", "SK1")
    store.set_certificate("AK1", "fp-1", "PEM-1")
    expected = Credentials("AK1", "SK1", "fp-1", "PEM-1")
    assert store.get_credentials("AK1") == expected
    assert store.find_credentials_by_certificate("fp-1") == expected


def test_set_certificate_unknown_key(store):
    with pytest.raises(NotFoundError) as error:
        store.set_certificate("AKUNKNOWN", "fp-1", "PEM-1")
    assert isinstance(error.value, LookupError)
    assert isinstance(error.value, StoreError)
    assert "AKUNKNOWN" in str(error.value)


def test_set_certificate_duplicate(store):
    store.put_user_keys("AK1", "SK1")
    store.put_user_keys("AK2", "SK2")
    store.set_certificate("AK1", "fp-1", "PEM-1")
    with pytest.raises(DuplicateError):
        store.set_certificate("AK2", "fp-1", "PEM-1")
    assert store.get_credentials("AK2").cert_id is None
    assert store.find_credentials_by_certificate("fp-1").access_key == "AK1"


def test_set_certificate_again_same_key(store):
    store.put_user_keys("AK1", "SK1")
    store.set_certificate("AK1", "fp-1", "PEM-1")
    store.set_certificate("AK1", "fp-1", "PEM-1")
    store.set_certificate("AK1", "fp-2", "PEM-2")
    assert store.get_credentials("AK1") == Credentials("AK1", "SK1", "fp-2", "PEM-2")
    assert store.find_credentials_by_certificate("fp-1") is None
    store.put_user_keys("AK2", "SK2")
    store.set_certificate("AK2", "fp-1", "PEM-1")
    assert store.find_credentials_by_certificate("fp-1").access_key == "AK2"


def test_set_certificate_race_one_winner(store, second_store):
    for index in range(THREADS):
        store.put_user_keys("AK%d" % index, "SK")
    stores = (store, second_store)

    def attempt(index):
        try:
            stores[index % 2].set_certificate("AK%d" % index, "fp-shared", "PEM")
            return "set"
        except DuplicateError:
            return "duplicate"

    results = run_in_threads(THREADS, attempt)
    assert results.count("set") == 1
    assert results.count("duplicate") == THREADS - 1
    winner = "AK%d" % results.index("set")
    assert store.find_credentials_by_certificate("fp-shared").access_key == winner


def test_delete_certificate(store):
    store.put_user_keys("AK1", "SK1")
    store.set_certificate("AK1", "fp-1", "PEM-1")
    assert store.delete_certificate("AK1") is True
    assert store.delete_certificate("AK1") is False
    assert store.delete_certificate("AKUNKNOWN") is False
    assert store.get_credentials("AK1") == Credentials("AK1", "SK1", None, None)
    assert store.find_credentials_by_certificate("fp-1") is None


def test_credentials_invalid_arguments(store):
    with pytest.raises(ValueError):
        store.put_user_keys("", "SK1")
    with pytest.raises(ValueError):
        store.put_user_keys("AK1", "x" * 256)
    store.put_user_keys("AK1", "SK1")
    with pytest.raises(ValueError):
        store.set_certificate("AK1", "", "PEM")
    with pytest.raises(ValueError):
        store.set_certificate("AK1", "fp-1", "")


# Offering map.

def test_offering_map_upsert_and_delete(store):
    assert store.offering_map() == {}
    store.set_offering("m1.small", UUID_1)
    store.set_offering("m1.large", "17")
    store.set_offering("m1.small", UUID_2)
    assert store.offering_map() == {"m1.small": UUID_2, "m1.large": "17"}
    assert store.delete_offering("m1.large") is True
    assert store.delete_offering("m1.large") is False
    assert store.offering_map() == {"m1.small": UUID_2}


def test_offering_long_ids(store):
    long_id = "offering-" + "x" * 246
    store.set_offering("cc1.4xlarge", long_id)
    assert store.offering_map() == {"cc1.4xlarge": long_id}
    with pytest.raises(ValueError):
        store.set_offering("cc1.4xlarge", long_id + "y")


def test_seed_offerings_only_when_empty(store):
    assert store.seed_offerings({}) == 0
    assert store.seed_offerings({"m1.small": UUID_1, "m1.large": UUID_2}) == 2
    assert store.seed_offerings({"m1.small": "other", "c1.medium": "new"}) == 0
    assert store.offering_map() == {"m1.small": UUID_1, "m1.large": UUID_2}


def test_seed_offerings_skips_when_set(store):
    store.set_offering("m1.xlarge", UUID_1)
    assert store.seed_offerings({"m1.small": UUID_2}) == 0
    assert store.offering_map() == {"m1.xlarge": UUID_1}


def test_seed_offerings_concurrent_servers(store, second_store):
    stores = (store, second_store)
    mappings = [{"m1.small": "offering-%d" % i, "m1.large": "large-%d" % i}
                for i in range(THREADS)]
    inserted = run_in_threads(THREADS, lambda i: stores[i % 2].seed_offerings(mappings[i]))
    assert sorted(inserted) == [0] * (THREADS - 1) + [2]
    winner = [i for i, count in enumerate(inserted) if count][0]
    assert store.offering_map() == mappings[winner]


# EC2 ids.

def test_ec2_ids_created_deterministic(store):
    result = store.ec2_ids("i", [UUID_1, UUID_2])
    assert set(result) == {UUID_1, UUID_2}
    assert all(EC2_ID.match(ec2_id) for ec2_id in result.values())
    assert result[UUID_1] == derive_ec2_id("i", UUID_1)
    assert result[UUID_1] != result[UUID_2]
    assert store.ec2_ids("i", [UUID_2, UUID_1]) == result


def test_ec2_ids_kinds_distinct(store):
    instance = store.ec2_ids("i", [UUID_1])[UUID_1]
    volume = store.ec2_ids("vol", [UUID_1])[UUID_1]
    address = store.ec2_ids("eipalloc", [UUID_1])[UUID_1]
    assert instance.startswith("i-")
    assert volume.startswith("vol-")
    assert address.startswith("eipalloc-")
    assert instance[2:] != volume[4:]
    assert store.cloudstack_ids("vol", [volume]) == {volume: UUID_1}
    assert store.cloudstack_ids("i", [volume]) == {}


def test_ec2_ids_duplicates_and_empty(store, store_config):
    assert store.ec2_ids("i", []) == {}
    assert store.cloudstack_ids("i", []) == {}
    result = store.ec2_ids("i", ["7", "7", "8"])
    assert list(result) == ["7", "8"]
    assert run_sql(store_config, "SELECT COUNT(*) FROM ec2_ids") == [(2,)]


def test_ec2_ids_bulk_over_chunk(store):
    cloudstack_ids = ["vm-%05d" % i for i in range(1234)]
    result = store.ec2_ids("i", cloudstack_ids)
    assert len(result) == 1234
    assert len(set(result.values())) == 1234
    assert result["vm-01000"] == derive_ec2_id("i", "vm-01000")
    reverse = store.cloudstack_ids("i", list(result.values()))
    assert reverse == {ec2_id: cloudstack_id for cloudstack_id, ec2_id in result.items()}


def test_cloudstack_ids_only_known(store):
    known = store.ec2_ids("ami", [UUID_1])[UUID_1]
    unknown = derive_ec2_id("ami", UUID_2)
    assert store.cloudstack_ids("ami", [known, unknown, "ami-nothex"]) == {known: UUID_1}
    assert store.cloudstack_ids("ami", [unknown]) == {}


def test_ec2_ids_collision_uses_salt(store, store_config):
    taken = derive_ec2_id("snap", "snapshot-a")
    run_sql(store_config, "INSERT INTO ec2_ids (ec2_id, kind, cloudstack_id, created) "
                          "VALUES (?, ?, ?, ?)", (taken, "snap", "other-snapshot",
                                                  "2020-01-01 00:00:00"))
    result = store.ec2_ids("snap", ["snapshot-a"])
    assert result == {"snapshot-a": derive_ec2_id("snap", "snapshot-a", 1)}
    assert store.cloudstack_ids("snap", [taken]) == {taken: "other-snapshot"}


def test_ec2_ids_stable_after_restart(store_config):
    first = open_store(store_config)
    first.ensure_schema()
    created = first.ec2_ids("r", ["res-1", "res-2"])
    first.close()
    reopened = open_store(store_config)
    try:
        assert reopened.ec2_ids("r", ["res-2", "res-1"]) == created
    finally:
        reopened.close()


def test_ec2_ids_two_servers_agree(store, second_store):
    created = store.ec2_ids("sg", ["group-1"])
    assert second_store.ec2_ids("sg", ["group-1", "group-2"])["group-1"] == created["group-1"]
    assert store.ec2_ids("sg", ["group-2"]) == {"group-2": derive_ec2_id("sg", "group-2")}


def test_ec2_ids_concurrent_same_ids(store, second_store, store_config):
    cloudstack_ids = ["new-vm-%d" % i for i in range(40)]
    stores = (store, second_store)
    results = run_in_threads(THREADS,
                             lambda i: stores[i % 2].ec2_ids("i", list(reversed(cloudstack_ids))
                                                             if i % 3 else cloudstack_ids))
    assert all(result == results[0] for result in results)
    assert results[0] == {c: derive_ec2_id("i", c) for c in cloudstack_ids}
    rows = run_sql(store_config, "SELECT cloudstack_id, COUNT(*) FROM ec2_ids GROUP BY cloudstack_id")
    assert len(rows) == 40
    assert all(count == 1 for _, count in rows)


def test_ec2_ids_invalid_arguments(store):
    for kind in ("", "I", "1x", "i-", None):
        with pytest.raises(ValueError):
            store.ec2_ids(kind, ["vm"])
    with pytest.raises(ValueError):
        store.ec2_ids("i", "vm-1")
    with pytest.raises(ValueError):
        store.ec2_ids("i", [""])
    with pytest.raises(ValueError):
        store.ec2_ids("i", [42])
    with pytest.raises(ValueError):
        store.cloudstack_ids("i", "i-0123456789abcdef0")


# Reservations.

def test_reservation_members_and_lookup(store):
    store.add_reservation("r-1", "owner-a", ["vm-1", "vm-2", "vm-3"])
    assert store.reservation_members("r-1") == ["vm-1", "vm-2", "vm-3"]
    assert store.reservations_for(["vm-3", "vm-1", "vm-9"]) == {"vm-3": "r-1", "vm-1": "r-1"}
    assert store.reservations_for([]) == {}
    assert store.reservation_members("r-unknown") == []


def test_add_reservation_appends_same_owner(store):
    store.add_reservation("r-1", "owner-a", ["vm-2", "vm-1"])
    store.add_reservation("r-1", "owner-a", ["vm-1", "vm-3"])
    assert store.reservation_members("r-1") == ["vm-2", "vm-1", "vm-3"]


def test_add_reservation_empty(store):
    store.add_reservation("r-empty", "owner-a", [])
    assert store.reservation_members("r-empty") == []
    with pytest.raises(DuplicateError):
        store.add_reservation("r-empty", "owner-b", ["vm-1"])


def test_add_reservation_other_owner(store):
    store.add_reservation("r-1", "owner-a", ["vm-1"])
    with pytest.raises(DuplicateError):
        store.add_reservation("r-1", "owner-b", ["vm-2"])
    assert store.reservation_members("r-1") == ["vm-1"]
    assert store.reservations_for(["vm-2"]) == {}


def test_add_reservation_vm_elsewhere_atomic(store):
    store.add_reservation("r-1", "owner-a", ["vm-1"])
    with pytest.raises(DuplicateError) as error:
        store.add_reservation("r-2", "owner-a", ["vm-2", "vm-1"])
    assert "vm-1" in str(error.value)
    assert store.reservation_members("r-2") == []
    assert store.reservations_for(["vm-1", "vm-2"]) == {"vm-1": "r-1"}
    store.add_reservation("r-2", "owner-a", ["vm-2"])
    assert store.reservation_members("r-2") == ["vm-2"]


# Client tokens.

def test_claim_client_token_then_existing(store):
    assert store.claim_client_token("owner-a", "token-1", "digest-1") is None
    record = store.claim_client_token("owner-a", "token-1", "digest-2")
    assert isinstance(record, ClientTokenRecord)
    assert record.owner == "owner-a"
    assert record.token == "token-1"
    assert record.request_digest == "digest-1"
    assert record.reservation_id is None
    assert record.created.tzinfo == timezone.utc
    # Stored in UTC: a local-time timestamp would be hours off on most hosts.
    assert abs(record.created - datetime.now(timezone.utc)) < timedelta(minutes=10)


def test_client_tokens_per_owner(store):
    assert store.claim_client_token("owner-a", "token-1", "digest-a") is None
    assert store.claim_client_token("owner-b", "token-1", "digest-b") is None
    assert store.claim_client_token("owner-b", "token-1", "x").request_digest == "digest-b"


def test_complete_client_token(store):
    store.claim_client_token("owner-a", "token-1", "digest-1")
    store.complete_client_token("owner-a", "token-1", "r-0123456789abcdef0")
    record = store.claim_client_token("owner-a", "token-1", "digest-1")
    assert record.reservation_id == "r-0123456789abcdef0"
    with pytest.raises(NotFoundError):
        store.complete_client_token("owner-a", "token-unknown", "r-0123456789abcdef0")


def test_release_client_token(store):
    store.claim_client_token("owner-a", "token-1", "digest-1")
    assert store.release_client_token("owner-a", "token-1") is True
    assert store.release_client_token("owner-a", "token-1") is False
    assert store.claim_client_token("owner-a", "token-1", "digest-2") is None
    assert store.claim_client_token("owner-a", "token-1", "x").request_digest == "digest-2"


def test_claim_client_token_race(store, second_store):
    stores = (store, second_store)
    results = run_in_threads(
        THREADS, lambda i: stores[i % 2].claim_client_token("owner-a", "race", "digest-%d" % i))
    winners = [i for i, result in enumerate(results) if result is None]
    assert len(winners) == 1
    losers = [result for result in results if result is not None]
    assert len(losers) == THREADS - 1
    assert {record.request_digest for record in losers} == {"digest-%d" % winners[0]}


# Upgrade from the original CloudBridge's schema (version 1).

ORIGINAL_DDL = {
    "mysql": [
        "CREATE TABLE usercredentials (ID BIGINT NOT NULL AUTO_INCREMENT, "
        "AccessKey VARCHAR(150) NOT NULL, SecretKey VARCHAR(150) NOT NULL, "
        "CertUniqueId VARCHAR(200), PRIMARY KEY (ID)) ENGINE=InnoDB DEFAULT CHARSET=latin1",
        "ALTER TABLE usercredentials ADD UNIQUE one_key_per_user (AccessKey)",
        "ALTER TABLE usercredentials ADD UNIQUE one_cert_per_user (CertUniqueId)",
        "ALTER TABLE usercredentials ADD INDEX i_access_key (AccessKey)",
        "CREATE TABLE offering_bundle (ID INT NOT NULL AUTO_INCREMENT, "
        "AmazonEC2Offering VARCHAR(100) NOT NULL, CloudStackOffering VARCHAR(20) NOT NULL, "
        "PRIMARY KEY (ID), UNIQUE KEY one_offering (AmazonEC2Offering)) ENGINE=InnoDB",
        # An S3 table of the original, which the upgrade must leave alone.
        "CREATE TABLE sbucket (ID BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, "
        "Name VARCHAR(64) NOT NULL)",
    ],
    "sqlite": [
        "CREATE TABLE usercredentials (ID INTEGER PRIMARY KEY AUTOINCREMENT, "
        "AccessKey VARCHAR(150) NOT NULL UNIQUE, SecretKey VARCHAR(150) NOT NULL, "
        "CertUniqueId VARCHAR(200) UNIQUE)",
        "CREATE TABLE offering_bundle (ID INTEGER PRIMARY KEY AUTOINCREMENT, "
        "AmazonEC2Offering VARCHAR(100) NOT NULL UNIQUE, CloudStackOffering VARCHAR(20) NOT NULL)",
        "CREATE TABLE sbucket (ID INTEGER PRIMARY KEY AUTOINCREMENT, Name VARCHAR(64) NOT NULL)",
    ],
}

# The table the original created when usercredentials was missing at start-up.
FALLBACK_DDL = {
    "mysql": "CREATE TABLE usercredentials (id INT AUTO_INCREMENT PRIMARY KEY, "
             "AccessKey VARCHAR(1000), SecretKey VARCHAR(1000), CertUniqueId VARCHAR(1000))",
    "sqlite": "CREATE TABLE usercredentials (id INTEGER PRIMARY KEY AUTOINCREMENT, "
              "AccessKey VARCHAR(1000), SecretKey VARCHAR(1000), CertUniqueId VARCHAR(1000))",
}


def test_upgrade_from_original_schema(store_config):
    for statement in ORIGINAL_DDL[store_config.db_type]:
        run_sql(store_config, statement)
    run_sql(store_config, "INSERT INTO usercredentials (AccessKey, SecretKey, CertUniqueId) "
                          "VALUES (?, ?, ?)", ("AKOLD", "SKOLD", "CN=old, serial=7"))
    run_sql(store_config, "INSERT INTO usercredentials (AccessKey, SecretKey) VALUES (?, ?)",
            ("AKNOCERT", "SKNOCERT"))
    run_sql(store_config, "INSERT INTO offering_bundle (AmazonEC2Offering, CloudStackOffering) "
                          "VALUES (?, ?)", ("m1.small", "11"))
    run_sql(store_config, "INSERT INTO sbucket (Name) VALUES (?)", ("bucket",))

    opened = open_store(store_config)
    try:
        assert opened.schema_version() == 1
        status = opened.ensure_schema()
        assert (status.before, status.after) == (1, CURRENT_VERSION)
        assert status.upgraded
        assert opened.schema_version() == CURRENT_VERSION

        assert opened.get_credentials("AKOLD") == Credentials("AKOLD", "SKOLD",
                                                              "CN=old, serial=7", None)
        assert opened.find_credentials_by_certificate("CN=old, serial=7").access_key == "AKOLD"
        assert opened.get_credentials("AKNOCERT") == Credentials("AKNOCERT", "SKNOCERT",
                                                                 None, None)
        assert opened.offering_map() == {"m1.small": "11"}

        # Version 2 features on the upgraded tables.
        opened.set_offering("m1.large", UUID_1)
        opened.set_certificate("AKNOCERT", "f" * 64, "PEM")
        with pytest.raises(DuplicateError):
            opened.set_certificate("AKNOCERT", "CN=old, serial=7", "PEM")
        opened.put_user_keys("AKOLD", "SKNEW")
        assert opened.ec2_ids("i", [UUID_2]) == {UUID_2: derive_ec2_id("i", UUID_2)}
        assert opened.claim_client_token("owner", "token", "digest") is None

        again = opened.ensure_schema()
        assert (again.before, again.after) == (CURRENT_VERSION, CURRENT_VERSION)
        assert opened.get_credentials("AKOLD") == Credentials("AKOLD", "SKNEW",
                                                              "CN=old, serial=7", None)
        assert opened.offering_map() == {"m1.small": "11", "m1.large": UUID_1}
    finally:
        opened.close()
    assert run_sql(store_config, "SELECT Name FROM sbucket") == [("bucket",)]


def test_upgrade_fallback_table_adds_unique_keys(store_config):
    run_sql(store_config, FALLBACK_DDL[store_config.db_type])
    run_sql(store_config, "INSERT INTO usercredentials (AccessKey, SecretKey) VALUES (?, ?)",
            ("AK1", "SK1"))
    opened = open_store(store_config)
    try:
        status = opened.ensure_schema()
        assert (status.before, status.after) == (1, CURRENT_VERSION)
        assert opened.get_credentials("AK1") == Credentials("AK1", "SK1", None, None)
        opened.put_user_keys("AK1", "SK2")
        opened.put_user_keys("AK2", "SK2")
        opened.set_certificate("AK1", "fp-1", "PEM")
        with pytest.raises(DuplicateError):
            opened.set_certificate("AK2", "fp-1", "PEM")
    finally:
        opened.close()
    rows = run_sql(store_config, "SELECT AccessKey FROM usercredentials ORDER BY AccessKey")
    assert [row[0] for row in rows] == ["AK1", "AK2"]


def test_terminated_instances_recent_only(store):
    store.record_terminated("AK1", {"vm-1": '{"id": "vm-1"}', "vm-2": '{"id": "vm-2"}'}, 3600)
    store.record_terminated("AK2", {"vm-3": '{"id": "vm-3"}'}, 3600)
    assert store.recent_terminated("AK1", 3600) == {"vm-1": '{"id": "vm-1"}',
                                                    "vm-2": '{"id": "vm-2"}'}
    assert store.recent_terminated("AK2", 3600) == {"vm-3": '{"id": "vm-3"}'}
    store.record_terminated("AK1", {"vm-1": '{"id": "vm-1", "x": 1}'}, 3600)
    assert store.recent_terminated("AK1", 3600)["vm-1"] == '{"id": "vm-1", "x": 1}'
    # A negative window reaches into the future: nothing stored is that recent.
    assert store.recent_terminated("AK1", -60) == {}


def test_resource_details(store):
    store.set_details("snap", "cs-1", {"description": "nightly"})
    store.set_details("snap", "cs-2", {"description": "weekly"})
    store.set_details("i", "cs-1", {"userData": "aGVsbG8="})
    assert store.details("snap", ["cs-1", "cs-2", "cs-3"], "description") == {
        "cs-1": "nightly", "cs-2": "weekly"}
    assert store.details("i", ["cs-1"], "userData") == {"cs-1": "aGVsbG8="}
    store.set_details("snap", "cs-1", {"description": "changed"})
    assert store.details("snap", ["cs-1"], "description") == {"cs-1": "changed"}
    assert store.details("snap", [], "description") == {}


def test_take_over_stale_client_token(store):
    assert store.claim_client_token("AK1", "tok", "digest") is None
    # A fresh claim is not stale.
    assert store.take_over_client_token("AK1", "tok", "digest", 60) is False
    # A claim older than the lease (here: any claim, with a negative lease) is taken once.
    assert store.take_over_client_token("AK1", "tok", "digest", -60) is True
    store.complete_client_token("AK1", "tok", "r-0123456789abcdef0")
    assert store.take_over_client_token("AK1", "tok", "digest", -60) is False
    assert store.claim_client_token("AK1", "tok", "digest").reservation_id == \
        "r-0123456789abcdef0"


def test_remember_signature_once(store):
    from datetime import datetime, timedelta, timezone

    later = datetime.now(timezone.utc) + timedelta(minutes=15)
    assert store.remember_signature("a" * 64, later) is True
    assert store.remember_signature("a" * 64, later) is False
    assert store.remember_signature("b" * 64, later) is True
    # A digest whose time has passed is forgotten on the next call.
    past = datetime.now(timezone.utc) - timedelta(minutes=1)
    assert store.remember_signature("c" * 64, past) is True
    assert store.remember_signature("d" * 64, later) is True
    assert store.remember_signature("c" * 64, later) is True
