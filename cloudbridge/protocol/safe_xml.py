"""Parse untrusted XML request bodies without entity expansion or network access.

The parser never loads a DTD, substitutes no entities and fetches nothing,
and every document that declares a DOCTYPE is rejected outright: SOAP 1.1
forbids a DTD in an envelope, and rejecting it closes entity-expansion
("billion laughs") and external-entity attacks.  Comments and processing
instructions are dropped while parsing, so text split by a comment reads as
one string, as exclusive canonicalization without comments sees it.
"""

from lxml import etree


class UnsafeXMLError(ValueError):
    """A request body that is not well-formed XML or that declares a DOCTYPE."""


def _parser():
    # One parser per call: lxml parsers are not safe to share between threads.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True,
                           remove_pis=True)


def parse_xml(data):
    """Parse `data` (bytes) and return the root element, or raise UnsafeXMLError."""
    if not data or not data.strip():
        raise UnsafeXMLError("The request body is empty; expected an XML document.")
    # The cheap byte check rejects the usual UTF-8 payloads before libxml2
    # reads the internal subset; the docinfo check below catches other encodings.
    if b"<!DOCTYPE" in data.upper():
        raise UnsafeXMLError("The request declares a DOCTYPE, which is not allowed.")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise UnsafeXMLError("The request body is not well-formed XML: %s" % exc) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXMLError("The request declares a DOCTYPE, which is not allowed.")
    return root
