import pytest

from cloudbridge import errors
from cloudbridge.ec2.filters import TAGS, apply_filters

TABLE = {
    "name": lambda item: item["name"],
    "size": lambda item: item["size"],
    "group": lambda item: item["groups"],
    TAGS: lambda item: item["tags"],
}
ITEMS = [
    {"name": "web-1", "size": 10, "groups": ["web", "ssh"], "tags": {"Role": "web"}},
    {"name": "db-1", "size": 20, "groups": ["db"], "tags": {"Role": "db", "Backup": "yes"}},
]


def names(items):
    return [i["name"] for i in items]


def test_values_of_one_filter_are_ored():
    assert names(apply_filters(ITEMS, [("name", ["web-1", "db-1"])], TABLE, "x")) == \
        ["web-1", "db-1"]


def test_filters_are_anded():
    assert names(apply_filters(ITEMS, [("name", ["web-1", "db-1"]), ("size", ["20"])],
                               TABLE, "x")) == ["db-1"]


def test_wildcards():
    assert names(apply_filters(ITEMS, [("name", ["web-*"])], TABLE, "x")) == ["web-1"]
    assert names(apply_filters(ITEMS, [("name", ["?b-1"])], TABLE, "x")) == ["db-1"]


def test_list_values_match_any():
    assert names(apply_filters(ITEMS, [("group", ["ssh"])], TABLE, "x")) == ["web-1"]


def test_tag_filters():
    assert names(apply_filters(ITEMS, [("tag:Role", ["db"])], TABLE, "x")) == ["db-1"]
    assert names(apply_filters(ITEMS, [("tag-key", ["Backup"])], TABLE, "x")) == ["db-1"]
    assert names(apply_filters(ITEMS, [("tag-value", ["web"])], TABLE, "x")) == ["web-1"]


def test_unknown_filter_is_invalid_parameter_value():
    with pytest.raises(errors.InvalidFilter) as raised:
        apply_filters(ITEMS, [("colour", ["red"])], TABLE, "DescribeThings")
    assert raised.value.code == "InvalidParameterValue"
    assert "colour" in raised.value.message
