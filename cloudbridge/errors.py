"""EC2 errors.

Every error a client can see is an `EC2Error` carrying its EC2 code and HTTP
status.  `cloudbridge.protocol.xml.error_document` writes it as the Query
API's `<Response><Errors>` document, `cloudbridge.protocol.soap` as a SOAP Fault.  Codes are written without the
`Client.`/`Server.` prefixes, as EC2 writes them on the Query API.
"""


class EC2Error(Exception):
    """Base class: an EC2 error with its code, HTTP status and message."""

    code = "InternalError"
    status = 500

    def __init__(self, message, code=None, status=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    @property
    def is_client_error(self):
        return self.status < 500

    def __str__(self):
        return "%s: %s" % (self.code, self.message)


class ClientError(EC2Error):
    """An error in the request: HTTP 400 unless a subclass sets another status."""

    code = "InvalidRequest"
    status = 400


class ServerError(EC2Error):
    code = "InternalError"
    status = 500


# Authentication and request shape.

class AuthFailure(ClientError):
    code = "AuthFailure"
    status = 401


class SignatureDoesNotMatch(ClientError):
    code = "SignatureDoesNotMatch"
    status = 403


class RequestExpired(ClientError):
    code = "RequestExpired"


class MissingParameter(ClientError):
    code = "MissingParameter"


class InvalidParameterValue(ClientError):
    code = "InvalidParameterValue"


class InvalidParameterCombination(ClientError):
    code = "InvalidParameterCombination"


class InvalidAction(ClientError):
    code = "InvalidAction"


class UnsupportedOperation(ClientError):
    code = "UnsupportedOperation"


class InvalidFilter(ClientError):
    # EC2 rejects an unknown filter name with InvalidParameterValue.
    code = "InvalidParameterValue"


class IdempotentParameterMismatch(ClientError):
    code = "IdempotentParameterMismatch"


class IncorrectState(ClientError):
    code = "IncorrectState"


class IncorrectInstanceState(ClientError):
    code = "IncorrectInstanceState"


class InstanceLimitExceeded(ClientError):
    code = "InstanceLimitExceeded"


class DependencyViolation(ClientError):
    code = "DependencyViolation"


class PermissionDenied(ClientError):
    # EC2's code for "the caller may not do this" (admin-only extensions).
    code = "UnauthorizedOperation"
    status = 403


# Resources that do not exist (or are not the caller's).

class NotFound(ClientError):
    code = "InvalidParameterValue"


class InvalidInstanceIDNotFound(NotFound):
    code = "InvalidInstanceID.NotFound"


class InvalidInstanceIDMalformed(ClientError):
    code = "InvalidInstanceID.Malformed"


class InvalidAMIIDNotFound(NotFound):
    code = "InvalidAMIID.NotFound"


class InvalidAMIIDMalformed(ClientError):
    code = "InvalidAMIID.Malformed"


class InvalidZoneNotFound(NotFound):
    code = "InvalidZone.NotFound"


class InvalidKeyPairNotFound(NotFound):
    code = "InvalidKeyPair.NotFound"


class InvalidGroupNotFound(NotFound):
    code = "InvalidGroup.NotFound"


class InvalidVolumeNotFound(NotFound):
    code = "InvalidVolume.NotFound"


class InvalidSnapshotNotFound(NotFound):
    code = "InvalidSnapshot.NotFound"


class InvalidAddressNotFound(NotFound):
    code = "InvalidAddress.NotFound"


# Server side.

class InternalError(ServerError):
    code = "InternalError"


class Unavailable(ServerError):
    code = "Unavailable"
    status = 503


class InsufficientInstanceCapacity(ServerError):
    code = "InsufficientInstanceCapacity"
    status = 500


# Security groups, volumes and snapshots.

class InvalidGroupDuplicate(ClientError):
    code = "InvalidGroup.Duplicate"


class InvalidGroupInUse(ClientError):
    code = "InvalidGroup.InUse"


class InvalidGroupReserved(ClientError):
    code = "InvalidGroup.Reserved"


class InvalidPermissionNotFound(ClientError):
    code = "InvalidPermission.NotFound"


class InvalidPermissionDuplicate(ClientError):
    code = "InvalidPermission.Duplicate"


class InvalidPermissionMalformed(ClientError):
    code = "InvalidPermission.Malformed"


class VolumeInUse(ClientError):
    code = "VolumeInUse"


class InvalidVolumeZoneMismatch(ClientError):
    code = "InvalidVolume.ZoneMismatch"


class InvalidAttachmentNotFound(ClientError):
    code = "InvalidAttachment.NotFound"


# Key pairs, elastic IP addresses and tagged resources.

class InvalidKeyPairDuplicate(ClientError):
    code = "InvalidKeyPair.Duplicate"


class InvalidKeyPairFormat(ClientError):
    code = "InvalidKeyPair.Format"


class InvalidAllocationIDNotFound(NotFound):
    code = "InvalidAllocationID.NotFound"


class InvalidID(ClientError):
    # EC2's code for a resource id of no known form (CreateTags, DeleteTags).
    code = "InvalidID"


# Images.

class InvalidAMINameMalformed(ClientError):
    code = "InvalidAMIName.Malformed"


class InvalidAMINameDuplicate(ClientError):
    code = "InvalidAMIName.Duplicate"


class InvalidAMIAttributeItemValue(ClientError):
    code = "InvalidAMIAttributeItemValue"


class InvalidAssociationIDNotFound(NotFound):
    code = "InvalidAssociationID.NotFound"
