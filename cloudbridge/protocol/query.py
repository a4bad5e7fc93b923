"""The EC2 Query API: signed GET or form POST requests, XML answers."""

import logging

from cloudbridge import errors
from cloudbridge.ec2.core import ACTIONS
from cloudbridge.protocol import auth
from cloudbridge.protocol.dispatch import check_version
from cloudbridge.protocol.params import Parameters
from cloudbridge.protocol.xml import error_document, serialize

LOG = logging.getLogger(__name__)

XML_CONTENT_TYPE = "text/xml; charset=UTF-8"


class QueryResult:
    """What the web layer sends back and writes in the access log."""

    def __init__(self, status, body, action=None, access_key=None):
        self.status = status
        self.body = body
        self.action = action
        self.access_key = access_key
        self.content_type = XML_CONTENT_TYPE


def handle_query(dispatcher, request, request_id):
    action_name = request.params.get("Action")
    access_key = request.params.get("AWSAccessKeyId")
    try:
        if not action_name:
            raise errors.MissingParameter("The request must contain the parameter Action")
        known = ACTIONS.get(action_name)
        credentials = None
        if known is None or known.authenticated:
            looked_up = {}

            def lookup_secret(key):
                looked_up[key] = dispatcher.store.get_credentials(key)
                return looked_up[key].secret_key if looked_up[key] else None

            access_key = auth.authenticate(request, lookup_secret).access_key
            credentials = looked_up[access_key]
        version = request.params.get("Version")
        check_version(version)
        params = Parameters.from_query(request.params)
        element = dispatcher.execute(action_name, version, params, credentials, request_id)
        return QueryResult(200, serialize(element), action_name, access_key)
    except errors.EC2Error as exc:
        log = LOG.info if exc.is_client_error else LOG.error
        log("request %s %s failed: %s %s", request_id, action_name, exc.code, exc.message)
        return QueryResult(exc.status, error_document(exc.code, exc.message, request_id),
                           action_name, access_key)
    except Exception:
        LOG.exception("request %s %s failed unexpectedly", request_id, action_name)
        return QueryResult(500, error_document(
            "InternalError", "An internal error occurred; the request id is in the "
            "server log.", request_id), action_name, access_key)
