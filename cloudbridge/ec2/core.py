"""The action registry and the per-request context the actions receive."""

import logging
from dataclasses import dataclass, field

from cloudbridge import errors
from cloudbridge.cloudstack.client import CloudStackClient

LOG = logging.getLogger(__name__)

# The API version of the WSDL; the first version with security group ids
# and other later elements follows it.
BASE_VERSION = "2010-11-15"
SUPPORTED_VERSIONS = ("2010-11-15", "2011-01-01", "2011-02-28", "2011-05-15",
                      "2011-07-15", "2011-11-01", "2011-12-01", "2011-12-15",
                      "2012-03-01", "2012-04-01", "2012-05-01", "2012-06-01",
                      "2012-06-15", "2012-07-20", "2012-08-15", "2012-10-01",
                      "2012-12-01", "2013-02-01", "2013-06-15", "2013-07-15",
                      "2013-08-15", "2013-10-01", "2013-10-15", "2014-02-01",
                      "2014-05-01", "2014-06-15", "2014-09-01", "2014-10-01",
                      "2015-03-01", "2015-04-15", "2015-10-01", "2016-04-01",
                      "2016-09-15", "2016-11-15")


@dataclass
class Action:
    name: str
    handler: object
    authenticated: bool = True


ACTIONS = {}


def action(name, authenticated=True):
    """Register an EC2 action handler: handler(ctx) returns the response content."""
    def register(handler):
        ACTIONS[name] = Action(name, handler, authenticated)
        return handler
    return register


def find_action(name):
    found = ACTIONS.get(name)
    if found is None:
        raise errors.InvalidAction("The action %s is not valid for this web service." % name)
    return found


@dataclass
class RequestContext:
    request_id: str
    action: str
    version: str
    params: object            # cloudbridge.protocol.params.Parameters
    config: object            # cloudbridge.config.Config
    store: object             # cloudbridge.store.Store
    credentials: object = None  # cloudbridge.store.Credentials of the caller
    _cloudstack: object = field(default=None, repr=False)

    @property
    def access_key(self):
        return self.credentials.access_key if self.credentials else None

    @property
    def cloudstack(self):
        """The CloudStack client signed with the caller's own keys."""
        if self._cloudstack is None:
            if self.credentials is None:
                raise errors.AuthFailure("This action requires a signed request.")
            self._cloudstack = CloudStackClient.from_config(
                self.config, self.credentials.access_key, self.credentials.secret_key)
        return self._cloudstack

    @property
    def uses_base_version(self):
        """True for the 2010-11-15 shape (group names in groupId, no later elements)."""
        return self.version <= BASE_VERSION
