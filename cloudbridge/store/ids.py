"""EC2 identifiers derived from CloudStack ids.

An EC2 id is `<kind>-` followed by 17 lower-case hex digits, the first 17
digits of SHA-256 over the kind and the CloudStack id.  Deriving instead of
drawing at random lets two servers that meet the same new CloudStack
resource at once choose the same EC2 id.  Only when that id already belongs
to another CloudStack id does the store try salted variants, in order.
"""

import hashlib
import re

EC2_ID_DIGITS = 17
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,31}$")
EC2_ID_PATTERN = re.compile(r"^([a-z][a-z0-9]{0,31})-[0-9a-f]{%d}$" % EC2_ID_DIGITS)
MAX_ID_LENGTH = 255


def check_kind(kind):
    """Return `kind` if it is a valid EC2 id prefix such as "i" or "eipalloc"."""
    if not isinstance(kind, str) or not KIND_PATTERN.match(kind):
        raise ValueError("invalid EC2 id kind %r: expected 1 to 32 lower-case "
                         "letters and digits, starting with a letter" % (kind,))
    return kind


def check_text(name, value, max_length=MAX_ID_LENGTH):
    """Return `value` if it is a non-empty string of at most `max_length` characters."""
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise ValueError("invalid %s %r: expected a non-empty string of at most "
                         "%d characters" % (name, value, max_length))
    return value


def derive_ec2_id(kind, cloudstack_id, salt=0):
    """Return the EC2 id for a CloudStack id; `salt` > 0 gives the retry variants."""
    source = "%s:%s" % (kind, cloudstack_id)
    if salt:
        source = "%s:%d" % (source, salt)
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    return "%s-%s" % (kind, digest[:EC2_ID_DIGITS])


def is_ec2_id(value, kind=None):
    """Return True if `value` has the form of an EC2 id (of `kind`, if given)."""
    if not isinstance(value, str):
        return False
    match = EC2_ID_PATTERN.match(value)
    return bool(match) and (kind is None or match.group(1) == kind)
