"""Translation of CloudStack errors into EC2 errors.

CloudStack reports failures as an HTTP status equal to its `errorcode` (431
for a bad parameter, 530 for an internal or failed-job error, 533 for missing
capacity ...) plus a free-text `errortext`.  The table below picks the EC2
code from the errorcode and, where one errorcode covers several EC2 cases,
from the text.  The first matching row wins.
"""

import logging
import re

from cloudbridge import errors

LOG = logging.getLogger(__name__)


class CloudStackError(Exception):
    """A CloudStack API error, kept for logs before it is translated."""

    def __init__(self, command, errorcode, errortext, cserrorcode=None):
        super().__init__("%s failed with %s: %s" % (command, errorcode, errortext))
        self.command = command
        self.errorcode = errorcode
        self.errortext = errortext
        self.cserrorcode = cserrorcode


_MISSING = r"(does not exist|doesn't exist|not found|unable to find|cannot find|invalid .*id)"


def _missing(noun):
    """A pattern for "<noun> ... does not exist" and "unable to find <noun>" alike."""
    return r"(%s).*%s|%s.*(%s)" % (noun, _MISSING, _MISSING, noun)


# (errorcode or None for any, pattern on the errortext or None, EC2 error class, EC2 code)
TRANSLATIONS = [
    (431, _missing(r"virtual ?machine|vm_instance|\bvm\b|user ?vm"), errors.InvalidInstanceIDNotFound, None),
    (431, _missing(r"template|vm_template|image") + r"|valid template", errors.InvalidAMIIDNotFound, None),
    (431, _missing(r"zone"), errors.InvalidZoneNotFound, None),
    (431, _missing(r"volume"), errors.InvalidVolumeNotFound, None),
    (431, _missing(r"snapshot"), errors.InvalidSnapshotNotFound, None),
    (431, r"key ?pair.*already exist", errors.ClientError, "InvalidKeyPair.Duplicate"),
    (431, _missing(r"key ?pair"), errors.InvalidKeyPairNotFound, None),
    (431, r"public key is invalid|invalid public key", errors.ClientError, "InvalidKeyPair.Format"),
    (431, r"security ?group.*already exis", errors.ClientError, "InvalidGroup.Duplicate"),
    (431, _missing(r"security ?group"), errors.InvalidGroupNotFound, None),
    (431, _missing(r"ip ?address"), errors.InvalidAddressNotFound, None),
    (431, r"(must be|is not|not in) .*(stopped|running)|state", errors.IncorrectInstanceState, None),
    (431, None, errors.InvalidParameterValue, None),
    (430, None, errors.InvalidParameterValue, None),
    (401, None, errors.AuthFailure, None),
    (531, None, errors.AuthFailure, None),
    (532, r"user_vm", errors.InstanceLimitExceeded, None),
    (535, r"user_vm", errors.InstanceLimitExceeded, None),
    (535, r"'volume'", errors.ClientError, "VolumeLimitExceeded"),
    (535, r"'snapshot'", errors.ClientError, "SnapshotLimitExceeded"),
    (535, r"public_ip", errors.ClientError, "AddressLimitExceeded"),
    (532, None, errors.ClientError, "ResourceLimitExceeded"),
    (535, None, errors.ClientError, "ResourceLimitExceeded"),
    (533, None, errors.InsufficientInstanceCapacity, None),
    (534, r"address|\bip\b", errors.ClientError, "AddressLimitExceeded"),
    (534, None, errors.InsufficientInstanceCapacity, None),
    (536, r"\bgroup\b", errors.ClientError, "InvalidGroup.InUse"),
    (536, None, errors.DependencyViolation, None),
    (537, None, errors.ClientError, "InvalidPermission.Duplicate"),
    (530, r"already attached|not attached|is attached", errors.IncorrectState, None),
    # Failures inside a job are 530 whatever their cause (CloudStack 4.2).
    (530, r"nonexistent (group|account)", errors.InvalidGroupNotFound, None),
    (530, r"maximum number of data disks", errors.ClientError, "AttachmentLimitExceeded"),
    (530, r"(must be|is not|not in) .*(stopped|running)", errors.IncorrectInstanceState, None),
]

_COMPILED = [(code, re.compile(pattern, re.IGNORECASE) if pattern else None, cls, ec2_code)
             for code, pattern, cls, ec2_code in TRANSLATIONS]


def translate(error):
    """Return the EC2 error for a CloudStackError (InternalError if no row matches)."""
    for code, pattern, cls, ec2_code in _COMPILED:
        if code is not None and code != error.errorcode:
            continue
        if pattern is not None and not pattern.search(error.errortext or ""):
            continue
        return cls(error.errortext or "CloudStack %s failed" % error.command, code=ec2_code)
    # CloudStack's text for an unexpected failure can name its hosts and
    # exceptions: it goes to the log, and the client gets the command only.
    LOG.error("CloudStack %s failed with %s: %s", error.command, error.errorcode,
              error.errortext)
    return errors.InternalError("CloudStack %s failed; the CloudBridge log has the details."
                                % error.command)
