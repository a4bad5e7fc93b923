"""EC2 response documents.

Actions return their response content as plain Python data and this module
writes it as EC2 XML in the namespace of the request's Version:

* a dict becomes child elements in insertion order, which must follow the
  order of the schema's sequence;
* a list becomes `<item>` children (an empty list an empty element, as the
  schema wants for required sets);
* None is left out; booleans are written `true`/`false`; datetimes in
  ISO 8601 UTC with milliseconds;
* a character that XML 1.0 does not allow is written as U+FFFD
  REPLACEMENT CHARACTER.  These are the C0 controls other than tab, line
  feed and carriage return, lone surrogates, U+FFFE and U+FFFF.  A value
  stored with one of them (in CloudStack, or before such parameters were
  rejected) then cannot break every response that lists it.
"""

import datetime
import re

from lxml import etree

NAMESPACE_TEMPLATE = "http://ec2.amazonaws.com/doc/%s/"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# The complement of the XML 1.0 Char production (section 2.2).
NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
REPLACEMENT_CHARACTER = "\ufffd"


def namespace_for(version):
    return NAMESPACE_TEMPLATE % version


def format_time(value):
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (value.microsecond // 1000)


def xml_safe(text):
    """Return text with each character XML 1.0 does not allow replaced by U+FFFD."""
    return NOT_XML_CHAR.sub(REPLACEMENT_CHARACTER, text)


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return format_time(value)
    return xml_safe(str(value))


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
    etree.SubElement(error, "Code").text = xml_safe(code)
    etree.SubElement(error, "Message").text = xml_safe(message)
    etree.SubElement(root, "RequestID").text = xml_safe(request_id)
    return serialize(root)
