"""WS-Security verification of SOAP envelopes signed by signxml, and safe XML parsing."""

import base64
import copy
import datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from cloudbridge import errors
from cloudbridge.protocol import wssec
from cloudbridge.protocol.safe_xml import UnsafeXMLError, parse_xml
from tests.soap_client import (BODY_ID, SOAP_NS, TIMESTAMP_ID, TOKEN_ID, WSSE_NS, WSU_NS,
                               make_certificate, operation_element, serialize,
                               sign_envelope, signed_request, unsigned_envelope)

VERSION = "2010-11-15"
EC2_NS = "http://ec2.amazonaws.com/doc/2010-11-15/"
DESCRIBE = {"instancesSet": [{"instanceId": "i-00000001"}]}
UTC = datetime.timezone.utc
DS_NS = "http://www.w3.org/2000/09/xmldsig#"


@pytest.fixture(scope="module")
def signer():
    return make_certificate("alice")


def signed(signer, content=DESCRIBE, **options):
    key, certificate = signer
    return parse_xml(signed_request("DescribeInstances", VERSION, content, key, certificate,
                                    **options))


def body_of(envelope):
    return envelope.find("{%s}Body" % SOAP_NS)


def security_of(envelope):
    return envelope.find("{%s}Header/{%s}Security" % (SOAP_NS, WSSE_NS))


def test_verify_rsa_sha1(signer):
    envelope = signed(signer)
    result = wssec.verify_envelope(envelope)
    assert result.certificate == signer[1]
    assert result.body is body_of(envelope)
    assert result.expires - result.created == datetime.timedelta(minutes=5)


def test_verify_rsa_sha256(signer):
    envelope = signed(signer, signature_algorithm="rsa-sha256", digest_algorithm="sha256")
    assert wssec.verify_envelope(envelope).certificate == signer[1]


def test_verify_reference_prefix_list(signer):
    # "soap" is in scope but unused in the Timestamp, so only the PrefixList
    # puts its declaration into the digested form.
    envelope = signed(signer, inclusive_ns_prefixes=["soap"])
    signed_info = envelope.find(".//{%s}SignedInfo" % DS_NS)
    assert b'PrefixList="soap"' in etree.tostring(signed_info)
    assert wssec.verify_envelope(envelope).certificate == signer[1]


def test_verify_signed_info_prefix_list(signer):
    # signxml cannot canonicalize SignedInfo in its final place, so the
    # signature value is recomputed here with lxml and cryptography.
    key, certificate = signer
    envelope = signed(signer)
    signed_info = envelope.find(".//{%s}SignedInfo" % DS_NS)
    method = signed_info.find("{%s}CanonicalizationMethod" % DS_NS)
    etree.SubElement(method, "{http://www.w3.org/2001/10/xml-exc-c14n#}InclusiveNamespaces",
                     PrefixList="soap wsse")
    canonical = etree.tostring(signed_info, method="c14n", exclusive=True,
                               inclusive_ns_prefixes=["soap", "wsse"])
    assert b"xmlns:soap=" in canonical
    value = key.sign(canonical, padding.PKCS1v15(), hashes.SHA1())
    envelope.find(".//{%s}SignatureValue" % DS_NS).text = base64.b64encode(value).decode()
    assert wssec.verify_envelope(envelope).certificate == certificate

    method[0].set("PrefixList", "wsse")
    with pytest.raises(errors.SignatureDoesNotMatch):
        wssec.verify_envelope(envelope)


def test_verify_java_tools_layout(signer):
    # As ec2-api-tools 1.6 send it: wsu and the EC2 namespace are declared on
    # the Body, and the Signature and token reference carry ids of their own.
    envelope = etree.Element("{%s}Envelope" % SOAP_NS, nsmap={"soap": SOAP_NS})
    etree.SubElement(envelope, "{%s}Header" % SOAP_NS)
    body = etree.SubElement(envelope, "{%s}Body" % SOAP_NS, {"{%s}Id" % WSU_NS: BODY_ID},
                            nsmap={"wsu": WSU_NS, "ns1": EC2_NS})
    operation = etree.SubElement(body, "{%s}DescribeInstances" % EC2_NS)
    etree.SubElement(operation, "{%s}instancesSet" % EC2_NS)
    etree.SubElement(operation, "{%s}filterSet" % EC2_NS)
    sign_envelope(envelope, *signer)
    envelope.find(".//{%s}Signature" % DS_NS).set("Id", "Signature-1")
    envelope.find(".//{%s}SecurityTokenReference" % WSSE_NS).set("{%s}Id" % WSU_NS, "STRId-1")

    sent = serialize(envelope)
    assert b'<ns1:DescribeInstances><ns1:instancesSet/><ns1:filterSet/>' in sent
    result = wssec.verify_envelope(parse_xml(sent))
    assert result.certificate == signer[1]


def test_verify_after_reserialization(signer):
    envelope = signed(signer)
    reparsed = parse_xml(etree.tostring(envelope, encoding="UTF-8"))
    assert wssec.verify_envelope(reparsed).certificate == signer[1]


def test_tampered_body(signer):
    envelope = signed(signer)
    instance_id = body_of(envelope).find(".//{%s}instanceId" % EC2_NS)
    instance_id.text = "i-00000002"
    with pytest.raises(errors.SignatureDoesNotMatch) as raised:
        wssec.verify_envelope(envelope)
    assert "Body" in raised.value.message


def test_added_element_in_body(signer):
    envelope = signed(signer)
    operation = body_of(envelope)[0]
    etree.SubElement(operation, "{%s}filterSet" % EC2_NS)
    with pytest.raises(errors.SignatureDoesNotMatch):
        wssec.verify_envelope(envelope)


def test_tampered_timestamp(signer):
    envelope = signed(signer)
    expires = envelope.find(".//{%s}Expires" % WSU_NS)
    expires.text = "2999-01-01T00:00:00.000Z"
    with pytest.raises(errors.SignatureDoesNotMatch) as raised:
        wssec.verify_envelope(envelope)
    assert "Timestamp" in raised.value.message


def test_signed_by_another_key(signer):
    other_key, _ = make_certificate("mallory")
    envelope = parse_xml(signed_request("DescribeInstances", VERSION, DESCRIBE, other_key,
                                        signer[1]))
    with pytest.raises(errors.SignatureDoesNotMatch) as raised:
        wssec.verify_envelope(envelope)
    assert "signature value" in raised.value.message


def test_token_replaced_by_another_certificate(signer):
    envelope = signed(signer)
    _, other_certificate = make_certificate("bob")
    other = signed((signer[0], other_certificate))
    token = envelope.find(".//{%s}BinarySecurityToken" % WSSE_NS)
    token.text = other.find(".//{%s}BinarySecurityToken" % WSSE_NS).text
    with pytest.raises(errors.SignatureDoesNotMatch):
        wssec.verify_envelope(envelope)


def test_expired_timestamp(signer):
    created = datetime.datetime.now(UTC) - datetime.timedelta(minutes=6)
    envelope = signed(signer, created=created)
    with pytest.raises(errors.RequestExpired) as raised:
        wssec.verify_envelope(envelope)
    assert "expired" in raised.value.message


@pytest.mark.parametrize("offset_minutes", [-16, 16])
def test_created_beyond_skew(signer, offset_minutes):
    created = datetime.datetime.now(UTC) + datetime.timedelta(minutes=offset_minutes)
    envelope = signed(signer, created=created, lifetime=datetime.timedelta(hours=1))
    with pytest.raises(errors.RequestExpired) as raised:
        wssec.verify_envelope(envelope)
    assert "15 minutes" in raised.value.message


@pytest.mark.parametrize("offset_minutes", [-14, 14])
def test_created_within_skew(signer, offset_minutes):
    created = datetime.datetime.now(UTC) + datetime.timedelta(minutes=offset_minutes)
    envelope = signed(signer, created=created, lifetime=datetime.timedelta(hours=1))
    assert wssec.verify_envelope(envelope).created == created.replace(
        microsecond=created.microsecond // 1000 * 1000)


def test_timestamp_without_expires(signer):
    now = datetime.datetime(2026, 12, 4, 19, 50, tzinfo=UTC)
    timestamp = etree.fromstring(
        '<wsu:Timestamp xmlns:wsu="%s"><wsu:Created>2026-12-04T19:49:03.066Z</wsu:Created>'
        '</wsu:Timestamp>' % WSU_NS)
    created, expires = wssec.check_timestamp(timestamp, now)
    assert created == datetime.datetime(2026, 12, 4, 19, 49, 3, 66000, tzinfo=UTC)
    assert expires is None


def test_timestamp_expires_before_created():
    now = datetime.datetime(2026, 12, 4, 19, 50, tzinfo=UTC)
    timestamp = etree.fromstring(
        '<wsu:Timestamp xmlns:wsu="%s"><wsu:Created>2026-12-04T19:49:03Z</wsu:Created>'
        '<wsu:Expires>2026-12-04T19:49:00Z</wsu:Expires></wsu:Timestamp>' % WSU_NS)
    with pytest.raises(errors.AuthFailure):
        wssec.check_timestamp(timestamp, now)


@pytest.mark.parametrize("text, expected", [
    ("2026-12-04T19:49:03.066Z", datetime.datetime(2026, 12, 4, 19, 49, 3, 66000, tzinfo=UTC)),
    ("2026-12-04T19:49:03Z", datetime.datetime(2026, 12, 4, 19, 49, 3, tzinfo=UTC)),
    ("2026-12-04T21:49:03+02:00", datetime.datetime(2026, 12, 4, 19, 49, 3, tzinfo=UTC)),
    (" 2026-12-04T19:49:03.1234567Z\n",
     datetime.datetime(2026, 12, 4, 19, 49, 3, 123456, tzinfo=UTC)),
])
def test_parse_datetime(text, expected):
    assert wssec.parse_datetime(text) == expected


@pytest.mark.parametrize("text", ["2026-12-04T19:49:03", "2026-12-04 19:49:03Z",
                                  "2026-13-04T19:49:03Z", ""])
def test_parse_datetime_invalid(text):
    with pytest.raises(errors.AuthFailure):
        wssec.parse_datetime(text)


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00",
                                  "2026-12-04T19:49:03+99:00", "2026-12-04T19:49:03+14:30",
                                  "2026-12-04T19:49:03+01:60"])
def test_parse_datetime_out_of_range(text):
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.parse_datetime(text)
    assert text in raised.value.message


def test_unsigned_envelope():
    envelope = unsigned_envelope(operation_element("DescribeInstances", VERSION, DESCRIBE))
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.verify_envelope(envelope)
    assert "not signed" in raised.value.message


def test_envelope_without_header():
    envelope = unsigned_envelope(operation_element("DescribeInstances", VERSION, DESCRIBE))
    envelope.remove(envelope.find("{%s}Header" % SOAP_NS))
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.verify_envelope(envelope)
    assert "not signed" in raised.value.message


def test_body_not_referenced(signer):
    envelope = signed(signer, references=(TIMESTAMP_ID,))
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.verify_envelope(envelope)
    assert "does not cover the SOAP Body" in raised.value.message


def test_timestamp_not_referenced(signer):
    envelope = signed(signer, references=(BODY_ID,))
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.verify_envelope(envelope)
    assert "does not cover the wsu:Timestamp" in raised.value.message


def test_wrapped_body_moved_into_header(signer):
    envelope = signed(signer)
    original = body_of(envelope)
    wrapper = etree.SubElement(envelope.find("{%s}Header" % SOAP_NS), "{urn:attack}Wrapper")
    wrapper.append(original)
    forged = etree.SubElement(envelope, "{%s}Body" % SOAP_NS)
    forged.append(operation_element("TerminateInstances", VERSION, DESCRIBE))
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.verify_envelope(envelope)
    assert "exactly one SOAP Body" in raised.value.message


def test_wrapped_body_copied_into_other_element(signer):
    # The signed content stays in the header under another element name that
    # keeps the Body's wsu:Id; the processed Body is new and carries no id.
    envelope = signed(signer)
    original = body_of(envelope)
    wrapper = etree.SubElement(envelope.find("{%s}Header" % SOAP_NS), "{urn:attack}Wrapper")
    wrapper.attrib.update(original.attrib)
    for child in list(original):
        wrapper.append(child)
    del original.attrib["{%s}Id" % WSU_NS]
    original.append(operation_element("TerminateInstances", VERSION, DESCRIBE))
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.verify_envelope(envelope)
    assert "must point at the SOAP Body" in raised.value.message


def test_duplicate_wsu_id(signer):
    envelope = signed(signer)
    copy_of_body = copy.deepcopy(body_of(envelope))
    copy_of_body.tag = "{urn:attack}Wrapper"
    envelope.find("{%s}Header" % SOAP_NS).append(copy_of_body)
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.verify_envelope(envelope)
    assert "more than one element" in raised.value.message


def test_second_security_header(signer):
    envelope = signed(signer)
    header = envelope.find("{%s}Header" % SOAP_NS)
    header.append(copy.deepcopy(security_of(envelope)))
    for element in header[1].iter():
        element.attrib.pop("{%s}Id" % WSU_NS, None)
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.verify_envelope(envelope)
    assert "more than one wsse:Security" in raised.value.message


def test_key_info_not_pointing_at_token(signer):
    envelope = signed(signer)
    reference = envelope.find(".//{%s}SecurityTokenReference/{%s}Reference"
                              % (WSSE_NS, WSSE_NS))
    reference.set("URI", "#" + TIMESTAMP_ID)
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.verify_envelope(envelope)
    assert "KeyInfo must refer to the BinarySecurityToken" in raised.value.message


def test_key_info_missing(signer):
    envelope = signed(signer)
    key_info = envelope.find(".//{%s}KeyInfo" % DS_NS)
    key_info.getparent().remove(key_info)
    with pytest.raises(errors.AuthFailure):
        wssec.verify_envelope(envelope)


def test_token_with_wrong_value_type(signer):
    envelope = signed(signer)
    token = envelope.find(".//{%s}BinarySecurityToken" % WSSE_NS)
    token.set("ValueType", "urn:other")
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.verify_envelope(envelope)
    assert "ValueType" in raised.value.message


def test_token_not_a_certificate(signer):
    envelope = signed(signer)
    envelope.find(".//{%s}BinarySecurityToken" % WSSE_NS).text = "bm90IGEgY2VydA=="
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.verify_envelope(envelope)
    assert "DER X.509" in raised.value.message


def test_reference_to_unknown_id(signer):
    envelope = signed(signer)
    token = envelope.find(".//{%s}BinarySecurityToken" % WSSE_NS)
    token.set("{%s}Id" % WSU_NS, "CertId-renamed")
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.verify_envelope(envelope)
    assert "#%s matches no wsu:Id" % TOKEN_ID in raised.value.message


def test_unsupported_signature_method(signer):
    envelope = signed(signer)
    method = envelope.find(".//{%s}SignatureMethod" % DS_NS)
    method.set("Algorithm", "http://www.w3.org/2000/09/xmldsig#hmac-sha1")
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.verify_envelope(envelope)
    assert "not supported" in raised.value.message


def test_certificate_validity_period(signer):
    certificate = signer[1]
    later = certificate.not_valid_after_utc + datetime.timedelta(seconds=1)
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.check_certificate_validity(certificate, later)
    assert "expired" in raised.value.message
    earlier = certificate.not_valid_before_utc - datetime.timedelta(seconds=1)
    with pytest.raises(errors.AuthFailure):
        wssec.check_certificate_validity(certificate, earlier)


class NaiveValidityCertificate:
    """A certificate as cryptography before 42 has it: validity times naive, in UTC."""

    not_valid_before = datetime.datetime(2026, 1, 1)
    not_valid_after = datetime.datetime(2027, 1, 1)


def test_certificate_validity_without_utc_properties():
    certificate = NaiveValidityCertificate()
    assert wssec.certificate_validity(certificate) == (
        datetime.datetime(2026, 1, 1, tzinfo=UTC), datetime.datetime(2027, 1, 1, tzinfo=UTC))
    wssec.check_certificate_validity(certificate, datetime.datetime(2026, 6, 1, tzinfo=UTC))
    with pytest.raises(errors.AuthFailure) as raised:
        wssec.check_certificate_validity(certificate,
                                         datetime.datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert "expired at 2027-01-01T00:00:00+00:00" in raised.value.message
    with pytest.raises(errors.AuthFailure):
        wssec.check_certificate_validity(certificate,
                                         datetime.datetime(2025, 12, 31, 23, 59, tzinfo=UTC))


def test_not_a_soap11_envelope():
    envelope = etree.fromstring(
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>')
    with pytest.raises(errors.ClientError) as raised:
        wssec.verify_envelope(envelope)
    assert "SOAP 1.1" in raised.value.message


def test_parse_xml_accepts_signed_request(signer):
    key, certificate = signer
    root = parse_xml(serialize(sign_envelope(
        unsigned_envelope(operation_element("DescribeInstances", VERSION, DESCRIBE)),
        key, certificate)))
    assert root.tag == "{%s}Envelope" % SOAP_NS


def test_parse_xml_rejects_entity_expansion():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
            b'<lolz>&lol3;</lolz>')
    with pytest.raises(UnsafeXMLError) as raised:
        parse_xml(bomb)
    assert "DOCTYPE" in str(raised.value)


def test_parse_xml_rejects_external_entity():
    payload = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
               b'<a>&xxe;</a>')
    with pytest.raises(UnsafeXMLError):
        parse_xml(payload)


def test_parse_xml_rejects_doctype_in_utf16():
    payload = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'
    with pytest.raises(UnsafeXMLError) as raised:
        parse_xml(payload.encode("utf-16"))
    assert "DOCTYPE" in str(raised.value)


@pytest.mark.parametrize("payload", [b"", b"   ", b"<a>", b"not xml"])
def test_parse_xml_rejects_malformed(payload):
    with pytest.raises(UnsafeXMLError):
        parse_xml(payload)


def test_parse_xml_drops_comments():
    root = parse_xml(b"<a><b>i-1<!-- note -->23</b><?pi data?></a>")
    assert root[0].text == "i-123"
    assert len(root) == 1
