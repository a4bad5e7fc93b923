"""Run one EC2 action for any protocol (Query API or SOAP).

The protocol layer parses and authenticates the request; `Dispatcher`
finds the action, builds its context and returns the response element, or
raises an EC2Error.  Unexpected exceptions become InternalError here, with
the traceback in the log and never in the response.
"""

import importlib
import logging
import pkgutil
import uuid

from cloudbridge import errors, ec2
from cloudbridge.ec2.core import SUPPORTED_VERSIONS, RequestContext, find_action
from cloudbridge.protocol.xml import response_element

LOG = logging.getLogger(__name__)


def load_actions():
    """Import every module of cloudbridge.ec2: importing one registers its actions."""
    for module in pkgutil.iter_modules(ec2.__path__):
        importlib.import_module("%s.%s" % (ec2.__name__, module.name))


load_actions()


def new_request_id():
    return str(uuid.uuid4())


def check_version(version):
    if not version:
        raise errors.MissingParameter("The request must contain the parameter Version")
    if version not in SUPPORTED_VERSIONS:
        raise errors.InvalidParameterValue(
            "API version %s is not supported; use a version from %s to %s."
            % (version, SUPPORTED_VERSIONS[0], SUPPORTED_VERSIONS[-1]))


class Dispatcher:
    def __init__(self, config, store):
        self.config = config
        self.store = store

    def execute(self, action_name, version, params, credentials, request_id):
        """Run an action; return its response element (raises EC2Error)."""
        found = find_action(action_name)
        ctx = RequestContext(request_id=request_id, action=action_name, version=version,
                             params=params, config=self.config, store=self.store,
                             credentials=credentials)
        content = found.handler(ctx)
        return response_element(action_name, version, request_id, content)
