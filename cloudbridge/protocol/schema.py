"""The EC2 2010-11-15 XML schema, taken from the WSDL kept in this package."""

import functools
import os

from lxml import etree

WSDL_PATH = os.path.join(os.path.dirname(__file__), "AmazonEC2.wsdl")
XSD_NAMESPACE = "http://www.w3.org/2001/XMLSchema"
SCHEMA_VERSION = "2010-11-15"


@functools.lru_cache(maxsize=1)
def ec2_schema():
    """Return the lxml XMLSchema of the WSDL's `types` section."""
    wsdl = etree.parse(WSDL_PATH, etree.XMLParser(resolve_entities=False, no_network=True))
    schema_element = wsdl.find(".//{%s}schema" % XSD_NAMESPACE)
    return etree.XMLSchema(etree.ElementTree(schema_element))


def validation_errors(document):
    """Return the schema errors of an EC2 response (bytes or element); [] when valid."""
    if isinstance(document, bytes):
        document = etree.fromstring(document, etree.XMLParser(resolve_entities=False))
    schema = ec2_schema()
    if schema.validate(document):
        return []
    return ["line %d: %s" % (e.line, e.message) for e in schema.error_log]
