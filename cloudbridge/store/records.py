"""Records returned by the store."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional


@dataclass(frozen=True)
class Credentials:
    """A user's key pair and the X.509 certificate registered for SOAP."""

    access_key: str
    # repr=False keeps the secret out of logs and tracebacks.
    secret_key: str = field(repr=False)
    cert_id: Optional[str] = None
    cert_pem: Optional[str] = field(default=None, repr=False)


@dataclass(frozen=True)
class ClientTokenRecord:
    """A RunInstances client token claimed by `owner`.

    `reservation_id` stays None until the launch completes; `created` is an
    aware datetime in UTC.
    """

    owner: str
    token: str
    request_digest: str
    reservation_id: Optional[str]
    created: datetime


@dataclass(frozen=True)
class SchemaStatus:
    """Schema versions before and after `Store.ensure_schema`.

    Version 0 is an empty database; version 1 is the original Java
    CloudBridge's `usercredentials` and `offering_bundle` tables.
    """

    before: int
    after: int

    @property
    def created(self):
        return self.before == 0

    @property
    def upgraded(self):
        return 0 < self.before < self.after
