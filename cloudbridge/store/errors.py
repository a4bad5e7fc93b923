"""Exceptions raised by the store."""


class StoreError(Exception):
    """The database failed: unreachable, locked, or in an unexpected state."""


class DuplicateError(StoreError):
    """A value that must be unique is already stored for another key."""


class NotFoundError(StoreError, LookupError):
    """The row to change does not exist."""
