"""The WSGI application behind CherryPy: routing, body limits and the access log.

Paths, as the original CloudBridge served them:
  /bridge/rest/AmazonEC2 (with or without "/")  the Query API
  /bridge/services/AmazonEC2                    SOAP
  /bridge                                       Query when the request has an Action, else SOAP
  /bridge/health                                200 while the database and CloudStack respond
"""

import logging
import time

from cloudbridge import errors
from cloudbridge.health import health_check
from cloudbridge.protocol.dispatch import Dispatcher, new_request_id
from cloudbridge.protocol.query import XML_CONTENT_TYPE, QueryResult, handle_query
from cloudbridge.protocol.request import HttpRequest, parse_query_params
from cloudbridge.protocol.soap import handle_soap
from cloudbridge.protocol.xml import error_document

LOG = logging.getLogger(__name__)
ACCESS_LOG = logging.getLogger("cloudbridge.access")

# Requests carry at most user data (16 KB before base64) or a certificate.
MAX_BODY_BYTES = 1024 * 1024
QUERY_PATHS = ("/bridge/rest/AmazonEC2", "/bridge/rest/AmazonEC2/")
SOAP_PATHS = ("/bridge/services/AmazonEC2", "/bridge/services/AmazonEC2/")
BRIDGE_PATHS = ("/bridge", "/bridge/")
HEALTH_PATH = "/bridge/health"


def _headers(environ):
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = value
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    return headers


def _too_large():
    return errors.ClientError("The request body is larger than %d bytes." % MAX_BODY_BYTES,
                              code="RequestEntityTooLarge", status=413)


def _read(stream, size):
    try:
        return stream.read(size)
    except (ValueError, OSError) as exc:
        # cheroot raises ValueError for malformed chunked coding and OSError for a
        # chunk beyond its own limit or a connection that fails mid-body.
        raise errors.ClientError("Failed to read the request body: %s" % exc) from None


def _read_body(environ):
    """Read the request body: Content-Length bytes, or a chunked body up to its end.

    Reads at most MAX_BODY_BYTES + 1 bytes and raises RequestEntityTooLarge
    (413) for a longer body, and InvalidParameterValue for a Content-Length
    that is not a number of bytes.
    """
    stream = environ["wsgi.input"]
    declared = (environ.get("CONTENT_LENGTH") or "").strip()
    if declared:
        if not (declared.isascii() and declared.isdigit()):
            raise errors.InvalidParameterValue(
                "Invalid Content-Length header '%s': expected the body size in bytes, "
                "0 or more." % declared)
        length = int(declared)
        if length > MAX_BODY_BYTES:
            raise _too_large()
        return _read(stream, length) if length else b""
    if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return b""
    # NOTE: cheroot reads each chunk whole before returning any of it, so one
    # chunk larger than MAX_BODY_BYTES is bounded only by the web server's own
    # max_request_body_size (100 MB by default in CherryPy 18, no limit in a
    # bare cheroot server).
    body = _read(stream, MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise _too_large()
    return body


def build_request(environ):
    headers = _headers(environ)
    request = HttpRequest(method=environ.get("REQUEST_METHOD", "GET").upper(),
                          path=environ.get("PATH_INFO", ""),
                          query_string=environ.get("QUERY_STRING", ""),
                          headers=headers, body=_read_body(environ),
                          remote_addr=environ.get("REMOTE_ADDR", ""))
    request.params = parse_query_params(request.query_string, request.body,
                                        form=request.is_form_post())
    return request


def is_soap(request):
    return "soapaction" in request.headers or request.content_type in ("text/xml",
                                                                       "application/soap+xml")


class BridgeApplication:
    def __init__(self, config, store, soap_handler=handle_soap):
        self.config = config
        self.store = store
        self.dispatcher = Dispatcher(config, store)
        self.soap_handler = soap_handler

    def __call__(self, environ, start_response):
        started = time.monotonic()
        request_id = new_request_id()
        path = environ.get("PATH_INFO", "")
        try:
            request = build_request(environ)
            result = self.route(request, path, request_id)
        except errors.EC2Error as exc:
            LOG.info("request %s rejected: %s %s", request_id, exc.code, exc.message)
            result = QueryResult(exc.status, error_document(exc.code, exc.message, request_id))
        except Exception:
            LOG.exception("request %s failed unexpectedly", request_id)
            result = QueryResult(500, error_document(
                "InternalError", "An internal error occurred.", request_id))

        ACCESS_LOG.info("%s %s %s %s %d %.3f", request_id, environ.get("REMOTE_ADDR", "-"),
                        result.access_key or "-", result.action or "-", result.status,
                        time.monotonic() - started)
        start_response("%d %s" % (result.status, _reason(result.status)),
                       [("Content-Type", result.content_type),
                        ("Content-Length", str(len(result.body)))])
        return [result.body]

    def route(self, request, path, request_id):
        if path == HEALTH_PATH and request.method in ("GET", "HEAD"):
            result = self.handle_health()
            if request.method == "HEAD":
                result.body = b""
            return result
        if request.method not in ("GET", "POST"):
            raise errors.ClientError("The HTTP method %s is not allowed; use GET or POST."
                                     % request.method, code="MethodNotAllowed", status=405)
        if path in QUERY_PATHS:
            return handle_query(self.dispatcher, request, request_id)
        if path in SOAP_PATHS or (path in BRIDGE_PATHS and "Action" not in request.params
                                  and is_soap(request)):
            return self.handle_soap(request, request_id)
        if path in BRIDGE_PATHS:
            return handle_query(self.dispatcher, request, request_id)
        raise errors.ClientError("No EC2 endpoint at %s; the Query API is at "
                                 "/bridge/rest/AmazonEC2." % path, code="NotFound", status=404)

    def handle_health(self):
        """Return 200 while the database and CloudStack respond, else 503 (for load balancers)."""
        status, body, content_type = health_check(self.config, self.store)
        result = QueryResult(status, body, action="health")
        result.content_type = content_type
        return result

    def handle_soap(self, request, request_id):
        if self.soap_handler is None:
            raise errors.UnsupportedOperation("The SOAP endpoint is not available on this "
                                              "server; use the Query API at "
                                              "/bridge/rest/AmazonEC2.")
        return self.soap_handler(self.dispatcher, request, request_id)


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large",
            500: "Internal Server Error", 503: "Service Unavailable"}


def _reason(status):
    return _REASONS.get(status, "Error")


__all__ = ["BridgeApplication", "XML_CONTENT_TYPE"]
