"""GetPasswordData: the VM password CloudStack keeps encrypted with the VM's SSH key.

CloudStack encrypts the generated password of a password-enabled template
with the public key of the VM's key pair (RSA, PKCS#1 v1.5) and returns it
in base64.  EC2's passwordData has the same form, so the owner of the key
pair decrypts it with the private key, as with EC2.
"""

import datetime
import logging
import re

from cloudbridge.cloudstack.errors import CloudStackError, translate
from cloudbridge.ec2 import ids
from cloudbridge.ec2.core import action
from cloudbridge.ec2.instances import find_vms

LOG = logging.getLogger(__name__)

# CloudStack rejects getVMPassword with 431 "No password for VM with id '...'
# found." for a VM without an encrypted password, such as a VM of a template
# that is not password-enabled or one launched without a key pair.
_NO_PASSWORD = re.compile(r"no password", re.IGNORECASE)
PARAM_ERROR = 431


@action("GetPasswordData")
def get_password_data(ctx):
    instance_id = ctx.params.require("InstanceId")
    vm = find_vms(ctx, [instance_id])[0][1]
    try:
        found = ctx.cloudstack.request_raw("getVMPassword", id=vm["id"])
        password_data = (found.get("password") or {}).get("encryptedpassword") or ""
    except CloudStackError as exc:
        if exc.errorcode != PARAM_ERROR or not _NO_PASSWORD.search(exc.errortext or ""):
            raise translate(exc) from exc
        # EC2 returns an empty passwordData while an instance has no password.
        password_data = ""
    return {
        "instanceId": ids.to_ec2(ctx, ids.INSTANCE, [vm["id"]])[vm["id"]],
        # CloudStack does not say when the password was set, so this is the
        # time it was read.
        "timestamp": datetime.datetime.now(datetime.timezone.utc),
        "passwordData": password_data,
    }
