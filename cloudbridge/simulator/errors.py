"""CloudStack error codes and the exception the simulator raises for them.

Codes are `ApiErrorCode` HTTP codes; `cserrorcode` values come from
`CSExceptionErrorCode` (9999 for a bare `ServerApiException`).
"""

UNAUTHORIZED = 401
MALFORMED_PARAMETER_ERROR = 430
PARAM_ERROR = 431
UNSUPPORTED_ACTION_ERROR = 432
INTERNAL_ERROR = 530
ACCOUNT_ERROR = 531
ACCOUNT_RESOURCE_LIMIT_ERROR = 532
INSUFFICIENT_CAPACITY_ERROR = 533
RESOURCE_UNAVAILABLE_ERROR = 534
RESOURCE_ALLOCATION_ERROR = 535
RESOURCE_IN_USE_ERROR = 536
NETWORK_RULE_CONFLICT_ERROR = 537

# CSExceptionErrorCode values of the exceptions the service layer throws.
CS_SERVER_API = 9999
CS_INVALID_PARAMETER = 4350
CS_PERMISSION_DENIED = 4365
CS_CLOUD_RUNTIME = 4250
CS_INSUFFICIENT_CAPACITY = 4325
CS_RESOURCE_ALLOCATION = 4370
CS_RESOURCE_IN_USE = 4375
CS_RESOURCE_UNAVAILABLE = 4380
CS_NETWORK_RULE_CONFLICT = 4360
CS_ACCOUNT_LIMIT = 4280

AUTH_FAILED_TEXT = "unable to verify user credentials and/or request signature"


class CSError(Exception):
    """An API error: HTTP status = ``code``; ``cserrorcode`` may be None
    (then the body has none, as for authentication failures)."""

    def __init__(self, code, text, cserrorcode=CS_SERVER_API):
        super().__init__(text)
        self.code = code
        self.text = text
        self.cserrorcode = cserrorcode

    def __repr__(self):
        return "CSError(%d, %r)" % (self.code, self.text)


def invalid(text):
    """InvalidParameterValueException wrapped in a ServerApiException."""
    return CSError(PARAM_ERROR, text, CS_INVALID_PARAMETER)


def denied(text):
    """PermissionDeniedException."""
    return CSError(ACCOUNT_ERROR, text, CS_PERMISSION_DENIED)


def internal(text):
    """CloudRuntimeException or a plain failure inside a command."""
    return CSError(INTERNAL_ERROR, text, CS_CLOUD_RUNTIME)


def capacity(text):
    return CSError(INSUFFICIENT_CAPACITY_ERROR, text, CS_INSUFFICIENT_CAPACITY)


def in_use(text):
    return CSError(RESOURCE_IN_USE_ERROR, text, CS_RESOURCE_IN_USE)


def allocation(text):
    return CSError(RESOURCE_ALLOCATION_ERROR, text, CS_RESOURCE_ALLOCATION)


def conflict(text):
    return CSError(NETWORK_RULE_CONFLICT_ERROR, text, CS_NETWORK_RULE_CONFLICT)
