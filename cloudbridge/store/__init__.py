"""CloudBridge's database: user keys, the offering map, EC2 ids, reservations
and RunInstances client tokens, on SQLite (one server) or MySQL/MariaDB
(several servers sharing one database).
"""

from cloudbridge.store.base import Store
from cloudbridge.store.errors import DuplicateError, NotFoundError, StoreError
from cloudbridge.store.records import ClientTokenRecord, Credentials, SchemaStatus
from cloudbridge.store.schema import CURRENT_VERSION

__all__ = [
    "CURRENT_VERSION", "ClientTokenRecord", "Credentials", "DuplicateError",
    "NotFoundError", "SchemaStatus", "Store", "StoreError", "open_store",
]


def open_store(config):
    """Return a `Store` on the database that `config` (a `Config`) describes.

    Connections open on first use, so this succeeds even while the database
    is down; call `ensure_schema()` or `ping()` to check it.
    """
    if config.db_type == "sqlite":
        from cloudbridge.store.sqlite import SQLiteDatabase
        return Store(SQLiteDatabase(config.db_file, config.describe_database()))
    if config.db_type == "mysql":
        from cloudbridge.store.mysql import MySQLDatabase
        return Store(MySQLDatabase(config))
    raise ValueError("unknown database type %r: expected sqlite or mysql" % (config.db_type,))
