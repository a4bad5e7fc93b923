"""Query API parameters: flat dotted names into lists and structures.

EC2 writes lists as `InstanceId.1`, `InstanceId.2` and structures as
`Filter.1.Name`, `Filter.1.Value.1` or `IpPermissions.1.IpRanges.2.CidrIp`.
`nest()` turns the flat map into a tree of dicts (numbered members become
lists ordered by their number), which the SOAP layer can produce directly
from its XML as well.
"""

from cloudbridge import errors
from cloudbridge.protocol.xml import NOT_XML_CHAR


def check_xml_chars(name, value):
    """Raise InvalidParameterValue if a value contains a character XML 1.0 does not allow.

    Such a value could not be written in any response that returns it.
    """
    match = NOT_XML_CHAR.search(value)
    if match is not None:
        raise errors.InvalidParameterValue(
            "Value for parameter %s contains the character U+%04X, which XML 1.0 does not "
            "allow. Remove control characters other than tab, line feed and carriage "
            "return." % (name, ord(match.group())))


def nest(params):
    """Turn {"A.1.B": v} into {"A": [{"B": v}]}; numbered levels become lists."""
    tree = {}
    for name, value in params.items():
        node = tree
        parts = name.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        last = parts[-1]
        if isinstance(node.get(last), dict):
            continue  # "A" and "A.1" both sent: the structured form wins
        node[last] = value
    return _listify(tree)


def _listify(node):
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


class Parameters:
    """Typed access to one request's parameters, raising EC2 errors."""

    def __init__(self, tree):
        self.tree = tree

    @classmethod
    def from_query(cls, params):
        """Nest decoded Query parameters, rejecting values that XML 1.0 cannot carry."""
        for name, value in params.items():
            check_xml_chars(name, value)
        return cls(nest(params))

    def get(self, name, default=None):
        value = self.tree.get(name, default)
        return value if not isinstance(value, (dict, list)) else default

    def require(self, name):
        value = self.get(name)
        if value is None or value == "":
            raise errors.MissingParameter("The request must contain the parameter %s" % name)
        return value

    def integer(self, name, default=None, minimum=None):
        value = self.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise errors.InvalidParameterValue(
                "Value (%s) for parameter %s is invalid. Expected an integer." % (value, name))
        if minimum is not None and number < minimum:
            raise errors.InvalidParameterValue(
                "Value (%s) for parameter %s is invalid. It must be at least %d."
                % (value, name, minimum))
        return number

    def boolean(self, name, default=None):
        value = self.get(name)
        if value is None or value == "":
            return default
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise errors.InvalidParameterValue(
            "Value (%s) for parameter %s is invalid. Expected true or false." % (value, name))

    def strings(self, name):
        """Values of a numbered list `Name.1, Name.2, ...` (a bare `Name` counts as one)."""
        value = self.tree.get(name)
        if value is None:
            return []
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)]
        if isinstance(value, str):
            return [value]
        raise errors.InvalidParameterValue("Parameter %s must be a list of values" % name)

    def structure(self, name):
        value = self.tree.get(name)
        return value if isinstance(value, dict) else {}

    def structures(self, name):
        """Members of a numbered list of structures (`Name.N.Field`)."""
        value = self.tree.get(name)
        if value is None:
            return []
        if isinstance(value, list):
            return [v for v in value if isinstance(v, dict)]
        raise errors.InvalidParameterValue("Parameter %s must be a numbered list" % name)

    def filters(self):
        """Filter.N.Name / Filter.N.Value.M as a list of (name, [values])."""
        result = []
        for member in self.structures("Filter"):
            name = member.get("Name")
            if not isinstance(name, str) or not name:
                raise errors.MissingParameter("Each Filter.N must have a Name")
            values = member.get("Value")
            if isinstance(values, str):
                values = [values]
            if not isinstance(values, list) or not values:
                raise errors.MissingParameter("Filter %s must have at least one Value" % name)
            result.append((name, [v for v in values if isinstance(v, str)]))
        return result
