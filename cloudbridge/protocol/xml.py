"""EC2 response documents.

Actions return their response content as plain Python data and this module
writes it as EC2 XML in the namespace of the request's Version:

* a dict becomes child elements in insertion order, which must follow the
  order of the schema's sequence;
* a list becomes `<item>` children (an empty list an empty element, as the
  schema wants for required sets);
* None is left out; booleans are written `true`/`false`; datetimes in
  ISO 8601 UTC with milliseconds.
"""

import datetime

from lxml import etree

NAMESPACE_TEMPLATE = "http://ec2.amazonaws.com/doc/%s/"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def namespace_for(version):
    return NAMESPACE_TEMPLATE % version


def format_time(value):
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (value.microsecond // 1000)


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return format_time(value)
    return str(value)


def append_value(parent, namespace, name, value):
    if value is None:
        return
    element = etree.SubElement(parent, "{%s}%s" % (namespace, name))
    fill(element, namespace, value)


def fill(element, namespace, value):
    if isinstance(value, dict):
        for name, child in value.items():
            append_value(element, namespace, name, child)
    elif isinstance(value, (list, tuple)):
        for item in value:
            append_value(element, namespace, "item", item)
    else:
        element.text = _text(value)


def response_element(action, version, request_id, content):
    """Build `<{action}Response xmlns=...><requestId/>...content...` as an element."""
    namespace = namespace_for(version)
    root = etree.Element("{%s}%sResponse" % (namespace, action), nsmap={None: namespace})
    append_value(root, namespace, "requestId", request_id)
    fill(root, namespace, content)
    return root


def serialize(element):
    """Serialize an element as a UTF-8 document with the XML declaration."""
    return XML_DECLARATION + etree.tostring(element, encoding="UTF-8")


def error_document(code, message, request_id):
    """The Query API's error body, exactly as EC2 writes it (no namespace)."""
    root = etree.Element("Response")
    error = etree.SubElement(etree.SubElement(root, "Errors"), "Error")
    etree.SubElement(error, "Code").text = code
    etree.SubElement(error, "Message").text = message
    etree.SubElement(root, "RequestID").text = request_id
    return serialize(root)
