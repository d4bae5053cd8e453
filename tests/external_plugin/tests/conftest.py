"""The example plugin's own tests stand on the harness Liuzhi ships (``liuzhi.testing``), like any
third party's: SQLite by default, PostgreSQL with LIUZHI_TEST_DATABASE_URL."""

import pytest

pytest_plugins = ["liuzhi.testing"]


@pytest.fixture
def liuzhi_plugin() -> str:
    return "example_pillar"


@pytest.fixture(scope="session")
def liuzhi_demo_tenants() -> bool:
    return False  # the tests make their own districts
