"""The Describe filter engine.

Each resource family declares a table from filter name to a function that
returns the item's value (or list of values) for that filter.  As in EC2, the
values of one filter are OR-ed, different filters are AND-ed, `*` and `?`
are wildcards, and an unknown filter name is an InvalidParameterValue.
`tag:<key>`, `tag-key` and `tag-value` work for every table that has a
`TAGS` entry returning the item's tags as a dict.
"""

import fnmatch
import re

from cloudbridge import errors

TAGS = "tags"


def _as_strings(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        result = []
        for item in value:
            result.extend(_as_strings(item))
        return result
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(value)]


def _pattern(value):
    if "*" not in value and "?" not in value:
        return None
    return re.compile(fnmatch.translate(value), re.DOTALL)


def _matches(actual_values, wanted):
    for want in wanted:
        pattern = _pattern(want)
        for actual in actual_values:
            if (pattern.match(actual) if pattern else actual == want):
                return True
    return False


def _getter(table, name, resource):
    if name in table and name != TAGS:
        return table[name]
    tags = table.get(TAGS)
    if tags is not None:
        if name.startswith("tag:"):
            key = name[4:]
            return lambda item: _as_strings(tags(item).get(key))
        if name == "tag-key":
            return lambda item: list(tags(item).keys())
        if name == "tag-value":
            return lambda item: list(tags(item).values())
    raise errors.InvalidFilter("The filter '%s' is invalid for %s." % (name, resource))


def apply_filters(items, filters, table, resource):
    """Keep the items that match every (name, values) filter."""
    if not filters:
        return list(items)
    checks = [(_getter(table, name, resource), values) for name, values in filters]
    return [item for item in items
            if all(_matches(_as_strings(get(item)), values) for get, values in checks)]


def validate_filters(filters, table, resource):
    """Raise for unknown filter names before any CloudStack call is made."""
    for name, _ in filters:
        _getter(table, name, resource)
