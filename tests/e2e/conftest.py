"""Fixtures for end-to-end tests: a simulated cloud behind CloudBridge, per store backend."""

import pytest

from tests.databases import mysql_database, sqlite_config
from tests.harness import Cloud, assert_recorded_responses_valid

# Instance types mapped by every cloud fixture, to the simulator's offerings.
INSTANCE_TYPES = {"m1.small": "Small Instance", "m1.large": "Medium Instance",
                  "c1.xlarge": "Huge Instance"}


def make_cloud(db_config):
    cloud = Cloud(db_config)
    cloud.register_users()
    offerings = cloud.offerings()
    for instance_type, offering_name in INSTANCE_TYPES.items():
        cloud.map_offering(instance_type, offerings[offering_name])
    cloud.responses.clear()
    return cloud


@pytest.fixture(scope="module", params=["sqlite", "mysql"])
def cloud(request, tmp_path_factory):
    if request.param == "sqlite":
        cloud = make_cloud(sqlite_config(tmp_path_factory.mktemp("store")))
        yield cloud
        cloud.stop()
    else:
        with mysql_database() as db_config:
            cloud = make_cloud(db_config)
            yield cloud
            cloud.stop()


@pytest.fixture(autouse=True)
def responses_match_schema(request):
    """After each test, every successful 2010-11-15 response must match the schema."""
    yield
    if "cloud" in request.fixturenames:
        assert_recorded_responses_valid(request.getfixturevalue("cloud"))
