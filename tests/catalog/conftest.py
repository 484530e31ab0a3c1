import pytest

from tests.factories.catalog import load_test_catalog


@pytest.fixture
def catalog(db):
    """The real catalog data file, loaded into the test database."""
    return load_test_catalog()
