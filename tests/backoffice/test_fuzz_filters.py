"""hypothesis fuzzes the search and filter parameters of the back-office lists (issue 10 item 3): random text —
unicode, ``%``, ``_``, quotes, very long — and huge or odd numbers in every parameter of the contracts, clients,
SIMs and numbers pages never give a 500. A NUL is the middleware's 400 (tests/test_bad_input.py); any other answer
is the page itself (200), or its partial for htmx."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.networks import Network
from tests.factories.catalog import load_test_catalog
from tests.factories.contracts import ContractFactory, add_stock
from tests.factories.partners import ClientAccountFactory

# A page and the query parameters its list view reads.
LIST_PAGES = {
    "/contrats/": ["state", "client", "offer", "number", "sim", "page"],
    "/clients/": ["q", "page"],
    "/commandes/": ["q", "page"],
    "/stock/": ["state", "network", "client", "q", "page"],
    "/stock/esim/": ["state", "client", "q", "page"],
    "/stock/numeros/": ["state", "network", "client", "kind", "q", "page"],
}

HUGE_NUMBERS = st.integers(min_value=-(10**30), max_value=10**30).map(str)
TRICKY = st.sampled_from(
    ["%", "_", "%_%", "'", '"', "\\", "' OR 1=1 --", "²", "١٢٣", "０１", "9" * 40, "-1", "0", "1e309", "NaN"]
)
TEXT = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=60)
LONG = st.text(alphabet="a%_'é9", min_size=500, max_size=3000)
VALUES = st.one_of(TEXT, TRICKY, HUGE_NUMBERS, LONG)


@pytest.fixture
def fuzz_client(db, client, partner, staff):
    load_test_catalog()
    client_account = ClientAccountFactory(partner=partner)
    add_stock(partner, Network.ORANGE, sims=3, numbers=3)
    ContractFactory(order__client=client_account, order__partner=partner)
    client.force_login(staff)
    return client


@pytest.mark.parametrize("path", sorted(LIST_PAGES))
@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_backoffice_list_filters_never_give_a_500(fuzz_client, path, data):
    names = LIST_PAGES[path]
    params = data.draw(st.dictionaries(st.sampled_from(names), VALUES, min_size=1, max_size=len(names)))
    htmx = data.draw(st.booleans())
    response = fuzz_client.get(path, params, **({"HTTP_HX_REQUEST": "true"} if htmx else {}))
    assert response.status_code == 200, (path, params, response.status_code)
