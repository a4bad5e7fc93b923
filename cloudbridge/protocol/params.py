"""Query API parameters: flat dotted names into lists and structures.

EC2 writes lists as `InstanceId.1`, `InstanceId.2` and structures as
`Filter.1.Name`, `Filter.1.Value.1` or `IpPermissions.1.IpRanges.2.CidrIp`.
`nest()` turns the flat map into a tree of dicts (numbered members become
lists ordered by their number), which the SOAP layer can produce directly
from its XML as well.

`Parameters.structure()` and `structures()` return `Structure` mappings,
which raise InvalidParameterValue naming the parameter when a request sends
nested parameters (`Placement.AvailabilityZone.1`) where a single value is
read.  Members of a numbered list are named by their position in the list,
which is the number a client sends when it numbers from 1 without gaps.
"""

from collections.abc import Mapping

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


def _dotted(prefix, name):
    return "%s.%s" % (prefix, name) if prefix else name


def _wrap(value, name):
    """Return a nested value with its dicts as Structures; single values stay as they are."""
    if isinstance(value, dict):
        return Structure(value, name)
    if isinstance(value, list):
        return [_wrap(item, "%s.%d" % (name, position))
                for position, item in enumerate(value, 1)]
    return value


def _strings(value, name):
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, str):
        return [value]
    raise errors.InvalidParameterValue("Parameter %s must be a list of values" % name)


def _structure(value, name):
    return Structure(value if isinstance(value, dict) else {}, name)


def _structures(value, name):
    if value is None:
        return []
    if isinstance(value, list):
        return [Structure(member, "%s.%d" % (name, position))
                for position, member in enumerate(value, 1) if isinstance(member, dict)]
    raise errors.InvalidParameterValue("Parameter %s must be a numbered list" % name)


def _not_single_value(name, value):
    """Return the InvalidParameterValue for nested parameters sent where one value is read."""
    if isinstance(value, dict):
        example = "%s.%s" % (name, next(iter(value)))
    else:
        example = "%s.1" % name
    return errors.InvalidParameterValue(
        "Parameter %s must be a single value, but the request sends nested parameters "
        "such as %s." % (name, example))


class Structure(Mapping):
    """The fields of one structure parameter, such as `Placement` or `IpPermissions.1`.

    `string(field)` returns a single value and raises InvalidParameterValue
    when the request sends nested parameters under the field.  `get(field)`
    and `structure[field]` also return a numbered list of structures
    (`Add.1.UserId`) as a list of Structures, because callers read member
    lists that way.  `in`, iteration, `len()`, `items()` and `values()`
    see every field as sent, nested ones as Structures and lists.
    """

    def __init__(self, fields, name=""):
        self._fields = fields
        self.name = name        # the dotted name as sent, e.g. "IpPermissions.1"

    def _name(self, field):
        return _dotted(self.name, field)

    def __getitem__(self, field):
        value = self._fields[field]
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            return _wrap(value, self._name(field))
        if isinstance(value, (dict, list)):
            raise _not_single_value(self._name(field), value)
        return value

    def __contains__(self, field):
        return field in self._fields

    def __iter__(self):
        return iter(self._fields)

    def __len__(self):
        return len(self._fields)

    def __repr__(self):
        return "Structure(%r, %r)" % (self._fields, self.name)

    def get(self, field, default=None):
        # NOTE: a single-value field sent as `Field.1.Name` comes back here as a
        # list of Structures, but string() raises InvalidParameterValue for it.
        return self[field] if field in self._fields else default

    def items(self):
        return [(field, _wrap(value, self._name(field))) for field, value in self._fields.items()]

    def values(self):
        return [value for _, value in self.items()]

    def string(self, field, default=None):
        """Return the single value of a field, or `default` when it is absent."""
        value = self._fields.get(field)
        if value is None:
            return default
        if isinstance(value, (dict, list)):
            raise _not_single_value(self._name(field), value)
        return value

    def strings(self, field):
        """Values of a numbered list `Field.1, Field.2, ...` (a bare `Field` counts as one)."""
        return _strings(self._fields.get(field), self._name(field))

    def structure(self, field):
        return _structure(self._fields.get(field), self._name(field))

    def structures(self, field):
        """Members of a numbered list of structures (`Field.N.Name`)."""
        return _structures(self._fields.get(field), self._name(field))


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
        return _strings(self.tree.get(name), name)

    def structure(self, name):
        """Return the fields of `Name.Field` parameters as a Structure (empty when absent)."""
        return _structure(self.tree.get(name), name)

    def structures(self, name):
        """Members of a numbered list of structures (`Name.N.Field`) as Structures."""
        return _structures(self.tree.get(name), name)

    def filters(self):
        """Filter.N.Name / Filter.N.Value.M as a list of (name, [values])."""
        result = []
        for member in self.structures("Filter"):
            name = member.string("Name")
            if not name:
                raise errors.MissingParameter("Each Filter.N must have a Name")
            values = member.strings("Value")
            if not values:
                raise errors.MissingParameter("Filter %s must have at least one Value" % name)
            result.append((name, values))
        return result
