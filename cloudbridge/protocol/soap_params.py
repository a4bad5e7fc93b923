"""Turn a SOAP request element into Query API parameter names.

The EC2 WSDL (document/literal) and the Query API describe the same
requests, so one set of generic rules covers most operations:

* an element name becomes its Query name with the first letter upper-cased
  (`imageId` -> `ImageId`), and a nested element joins with a dot
  (`placement/availabilityZone` -> `Placement.AvailabilityZone`);
* a list (`<item>` children) is numbered from 1.  A `...Set` whose items
  hold one simple value is flattened to that value's name
  (`instancesSet/item/instanceId` -> `InstanceId.N`); other lists keep their
  structure under the list's name without `Set`
  (`filterSet/item/valueSet/item/value` -> `Filter.N.Value.M`,
  `ipPermissions/item/ipRanges/item/cidrIp` -> `IpPermissions.N.IpRanges.M.CidrIp`);
* empty elements are left out: in the WSDL they are empty lists or
  structures.  The exceptions are `value` (an empty tag value means
  something) and the `noDevice` flag.

`RENAMES` lists the operations whose Query names do not follow these rules,
and `ATTRIBUTE_SELECTORS` the operations that name an attribute by an empty
element where the Query API sends `Attribute=<name>`.
"""

import re

from cloudbridge import errors
from cloudbridge.ec2.core import BASE_VERSION

# Lists whose items keep their structure even when an item has one value,
# because DeleteTags may send tagSet/item/key alone, which is Tag.N.Key.
STRUCTURED_SETS = frozenset({"tagSet", "filterSet", "dhcpConfigurationSet"})

# Empty elements that carry meaning by being present.
KEPT_EMPTY = frozenset({"value", "noDevice"})

ATTRIBUTE_SELECTORS = frozenset({
    "DescribeInstanceAttribute", "ResetInstanceAttribute",
    "DescribeImageAttribute", "ResetImageAttribute",
    "DescribeSnapshotAttribute", "ResetSnapshotAttribute",
})

# Per operation: (pattern on the generic Query name, replacement).  Until
# 2010-11-15 RunInstances sent group names in groupSet/item/groupId; later
# versions send ids there and names in groupName.
_RUN_INSTANCES = [(r"UserData\.Data", "UserData"), (r"GroupName\.(\d+)", r"SecurityGroup.\1")]
RENAMES = {
    "RunInstances": _RUN_INSTANCES + [(r"GroupId\.(\d+)", r"SecurityGroupId.\1")],
    "DescribeImages": [(r"User\.(\d+)", r"ExecutableBy.\1")],
    "DescribeSnapshots": [(r"User\.(\d+)", r"RestorableBy.\1")],
    "ModifyImageAttribute": [(r"ProductCodes\.(\d+)\.ProductCode", r"ProductCode.\1")],
    # CloudBridge's own operations are not in the WSDL; these accept the
    # lower-case parameter names of their Query form as element names.
    "SetUserKeys": [("Accesskey", "AccessKey"), ("Secretkey", "SecretKey")],
    "SetOfferMapping": [("Amazonoffer", "AmazonOffer"), ("Cloudoffer", "CloudOffer")],
    "DeleteOfferMapping": [("Amazonoffer", "AmazonOffer")],
}
BASE_VERSION_RENAMES = {
    "RunInstances": _RUN_INSTANCES + [(r"GroupId\.(\d+)", r"SecurityGroup.\1")],
}


def query_name(element_name):
    """Return the Query API spelling of a WSDL element name (`imageId` -> `ImageId`)."""
    return element_name[:1].upper() + element_name[1:]


def _local_name(element):
    return element.tag.rsplit("}", 1)[-1]


def _namespace(element):
    return element.tag[1:].split("}", 1)[0] if element.tag.startswith("{") else ""


def _elements(parent, namespace):
    children = []
    for child in parent:
        if not isinstance(child.tag, str):
            continue
        if not child.tag.startswith("{%s}" % namespace):
            raise errors.InvalidParameterValue(
                "The element %s in the request is not in the request's namespace %s."
                % (child.tag, namespace))
        children.append(child)
    return children


def _is_list(children):
    return bool(children) and all(_local_name(child) == "item" for child in children)


def _single_value_name(item, namespace):
    """Return the name of an item's only child if it is a simple value, else None."""
    children = _elements(item, namespace)
    if len(children) != 1 or _elements(children[0], namespace):
        return None
    return _local_name(children[0])


class _Flattener:
    def __init__(self, namespace):
        self.namespace = namespace
        self.params = {}

    def put(self, name, value):
        if name in self.params:
            raise errors.InvalidParameterValue(
                "The request repeats the element for parameter %s." % name)
        self.params[name] = value

    def members(self, parent, prefix):
        for child in _elements(parent, self.namespace):
            self.member(child, prefix)

    def member(self, element, prefix):
        name = _local_name(element)
        children = _elements(element, self.namespace)
        if _is_list(children):
            self.list(name, children, prefix)
        elif children:
            self.members(element, prefix + query_name(name) + ".")
        elif (element.text or "").strip() or name in KEPT_EMPTY:
            self.put(prefix + query_name(name), element.text or "")

    def list(self, name, items, prefix):
        value_names = [_single_value_name(item, self.namespace) for item in items]
        if name.endswith("Set") and name not in STRUCTURED_SETS and all(value_names):
            for number, item in enumerate(items, 1):
                value = _elements(item, self.namespace)[0]
                self.put("%s%s.%d" % (prefix, query_name(_local_name(value)), number),
                         value.text or "")
            return
        list_name = query_name(name[:-3] if name.endswith("Set") else name)
        for number, item in enumerate(items, 1):
            self.members(item, "%s%s.%d." % (prefix, list_name, number))


def _attribute_selector(operation, children):
    """Return the attribute an ...Attribute operation names by an empty element, or None."""
    selected = [_local_name(child) for child in children
                if not len(child) and not (child.text or "").strip()]
    if len(selected) > 1:
        raise errors.InvalidParameterCombination(
            "%s names more than one attribute (%s); name one."
            % (operation, ", ".join(selected)))
    return selected[0] if selected else None


def _rename(params, rules):
    renamed = {}
    for name, value in params.items():
        for pattern, replacement in rules:
            match = re.fullmatch(pattern, name)
            if match:
                name = match.expand(replacement)
                break
        if name in renamed:
            raise errors.InvalidParameterCombination(
                "The request sets parameter %s twice." % name)
        renamed[name] = value
    return renamed


def query_params(operation, version):
    """Flatten a SOAP operation element into {Query parameter name: value}.

    `operation` is the element inside the SOAP Body (e.g. `DescribeInstances`)
    and `version` the API version of its namespace.  Raises
    InvalidParameterValue for elements outside that namespace or repeated
    elements.
    """
    namespace = _namespace(operation)
    action = _local_name(operation)
    flattener = _Flattener(namespace)
    children = _elements(operation, namespace)
    selector = None
    if action in ATTRIBUTE_SELECTORS:
        selector = _attribute_selector(action, children)
    for child in children:
        if _local_name(child) != selector:
            flattener.member(child, "")
    if selector is not None:
        flattener.put("Attribute", selector)
    rules = RENAMES.get(action, [])
    if version <= BASE_VERSION:
        rules = BASE_VERSION_RENAMES.get(action, rules)
    return _rename(flattener.params, rules)
