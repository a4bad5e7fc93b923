import pytest

from cloudbridge import errors
from cloudbridge.cloudstack.errors import CloudStackError, translate

# (errorcode, errortext as CloudStack writes it, EC2 code, HTTP status)
CASES = [
    (431, "Unable to execute API command stopvirtualmachine due to invalid value. "
          "Object vm_instance(uuid: 1234) does not exist.", "InvalidInstanceID.NotFound", 400),
    (431, "Please specify a valid template ID.", "InvalidAMIID.NotFound", 400),
    (431, "Unable to find volume by id 99", "InvalidVolume.NotFound", 400),
    (431, "A key pair with name 'Test' already exists.", "InvalidKeyPair.Duplicate", 400),
    (431, "Unable to create security group, a group with name web already exisits.",
     "InvalidGroup.Duplicate", 400),
    (431, "Unable to execute API command deployvirtualmachine due to missing parameter zoneid",
     "InvalidParameterValue", 400),
    (401, "unable to verify user credentials and/or request signature", "AuthFailure", 401),
    (531, "Account alice does not have permission", "AuthFailure", 401),
    (533, "Unable to create a deployment for VM", "InsufficientInstanceCapacity", 500),
    (535, "Maximum number of resources of type 'user_vm' for account name=alice has been "
          "exceeded.", "InstanceLimitExceeded", 400),
    (535, "Maximum number of resources of type 'volume' for account name=alice has been "
          "exceeded.", "VolumeLimitExceeded", 400),
    (535, "Maximum number of resources of type 'network' for account name=alice has been "
          "exceeded.", "ResourceLimitExceeded", 400),
    (536, "Cannot delete security group web because it is in use", "InvalidGroup.InUse", 400),
    (537, "The range specified conflicts with another rule", "InvalidPermission.Duplicate", 400),
    (530, "Please specify a volume that is not attached to any VM.", "IncorrectState", 400),
    (530, "Internal error executing command", "InternalError", 500),
    (530, "Nonexistent group web for account bob/ROOT is given, unable to authorize",
     "InvalidGroup.NotFound", 400),
    (530, "The specified VM already has the maximum number of data disks (6).",
     "AttachmentLimitExceeded", 400),
    (536, "Cannot delete group when it's in use", "InvalidGroup.InUse", 400),
    (599, "something new", "InternalError", 500),
]


@pytest.mark.parametrize("errorcode, errortext, code, status", CASES)
def test_translation_table(errorcode, errortext, code, status):
    translated = translate(CloudStackError("someCommand", errorcode, errortext))
    assert isinstance(translated, errors.EC2Error)
    assert translated.code == code
    assert translated.status == status
