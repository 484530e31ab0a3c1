"""R-ROA-5: the SIM profile used abroad — France and Belgium (direct agreement with Proximus) domestic,
every other country international — shown in the contract's "Informations techniques"."""

import pytest
from django.urls import reverse

from contracts import rules
from tests.factories.contracts import ContractFactory, offer
from tests.factories.partners import ClientAccountFactory


@pytest.mark.parametrize(
    ("country", "profile"),
    [
        ("FR", "domestic"),
        ("fr", "domestic"),
        ("BE", "domestic"),  # direct roaming agreement with Proximus
        ("LU", "international"),  # a neighbour in the EU is still abroad for the SIM
        ("DE", "international"),
        ("ES", "international"),
        ("CH", "international"),
        ("US", "international"),
        ("MA", "international"),
    ],
)
def test_R_ROA_5_sim_profile_by_country(country, profile):
    assert rules.sim_profile(country) == profile


def test_R_ROA_5_sim_profile_needs_a_country():
    with pytest.raises(ValueError):
        rules.sim_profile("")


@pytest.mark.parametrize("network", ["orange", "bouygues"])
def test_R_ROA_5_technical_settings_show_the_roaming_profile(network):
    sections = rules.technical_settings(network=network, msisdn="0612345678")
    section = next(s for s in sections if s.rule == "R-ROA-5")
    assert section.title == "Profil SIM en itinérance"
    assert section.rows == [
        ("France", "Domestique"),
        ("Belgique (accord direct Proximus)", "Domestique"),
        ("Autres pays", "International"),
    ]
    # additive: the R-SET sections are still all there
    assert {"R-SET-1", "R-SET-4"} <= {s.rule for s in sections}


@pytest.mark.django_db
def test_R_ROA_5_contract_technical_tab_shows_the_roaming_profile(catalog, client, partner, staff):
    contract = ContractFactory(
        order__client=ClientAccountFactory(partner=partner), order__offer=offer("BY-ILL-10G-B")
    )
    client.force_login(staff)
    body = client.get(
        reverse("backoffice:contract_tab", kwargs={"contract_id": contract.pk, "tab": "technique"})
    ).content.decode()
    assert "Profil SIM en itinérance" in body and "R-ROA-5" in body
    assert "Belgique (accord direct Proximus)" in body and "Domestique" in body and "International" in body
