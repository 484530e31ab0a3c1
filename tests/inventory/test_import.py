"""Stock imports: all or nothing, every bad line reported with its number and French reason."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from core.errors import RuleViolation, ValidationFailed
from core.networks import Network
from inventory import services
from inventory.models import PhoneNumber, SimCard
from tests.factories.inventory import (
    PhoneNumberFactory,
    SimCardFactory,
    make_iccid,
    make_m2m_number,
    make_msisdn,
)
from tests.factories.partners import PartnerFactory

pytestmark = pytest.mark.django_db


def _bad_luhn(iccid: str) -> str:
    return iccid[:-1] + str((int(iccid[-1]) + 1) % 10)


@pytest.fixture
def partner():
    return PartnerFactory(slug="import-test")


@pytest.mark.parametrize("sep", [";", ","])
def test_import_sims_accepts_both_separators_trailing_f_and_sans_pin(partner, sep):
    lines = [
        sep.join(["ICCID", "PIN", "PUK", "Réseau"]),
        sep.join([make_iccid(1) + "F", "1234", "12345678", "orange"]),
        sep.join([make_iccid(2, network="bouygues", length=20), "", "87654321", "Bouygues Telecom"]),
        "",
    ]
    assert services.sim_import_csv(partner=partner, data="\n".join(lines).encode()) == 2
    sims = {s.iccid: s for s in SimCard.objects.filter(partner=partner)}
    assert sims[make_iccid(1)].pin == "1234"
    assert sims[make_iccid(2, network="bouygues", length=20)].pin is None  # sans PIN
    assert {s.network for s in sims.values()} == {Network.ORANGE, Network.BOUYGUES}
    assert {s.state for s in sims.values()} == {SimCard.State.IN_STOCK}


def test_import_sims_is_all_or_nothing_and_reports_every_bad_line(partner):
    retired = SimCardFactory(partner=partner)
    with transaction.atomic():
        services.sim_retire(partner=partner, iccids=[retired.iccid])
    known = SimCardFactory()
    text = "\n".join(
        [
            "iccid;pin;puk;network",
            f"{make_iccid(10)};1234;12345678;orange",  # 2 ok
            f"{_bad_luhn(make_iccid(11))};1234;12345678;orange",  # 3 Luhn
            f"{make_iccid(12)};12;12345678;orange",  # 4 PIN
            f"{make_iccid(13)};1234;1234;orange",  # 5 PUK
            f"{make_iccid(14)};1234;12345678;sfr",  # 6 network
            f"{make_iccid(10)};1234;12345678;orange",  # 7 duplicate of line 2
            f"{retired.iccid};1234;12345678;orange",  # 8 retired (R-CON-6)
            f"{known.iccid};1234;12345678;orange",  # 9 already known
            f"8944{make_iccid(15)[4:]};1234;12345678;orange",  # 10 not French
        ]
    )
    with pytest.raises(ValidationFailed) as exc:
        services.sim_import_csv(partner=partner, data=text)
    errors = exc.value.errors
    assert [e.line for e in errors] == [3, 4, 5, 6, 7, 8, 9, 10]
    assert [e.field for e in errors] == ["iccid", "pin", "puk", "network", "iccid", "iccid", "iccid", "iccid"]
    assert errors[0].message.startswith("Ligne 3 : ") and "Luhn" in errors[0].message
    assert "ligne 2" in errors[4].message
    assert errors[5].rule == "R-CON-6" and "résiliée" in errors[5].message
    assert "déjà enregistré" in errors[6].message
    assert "8 ligne(s) en erreur : aucune carte SIM importée." == exc.value.message
    assert SimCard.objects.filter(partner=partner).count() == 1  # only the retired one: nothing imported


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("", "vide"), ("numero;code\n1;2", "en-tête attendu"), ("iccid;pin;puk;network\n", "aucune carte SIM")],
)
def test_import_sims_bad_files(partner, content, fragment):
    with pytest.raises(ValidationFailed) as exc:
        services.sim_import_csv(partner=partner, data=content)
    assert fragment in exc.value.errors[0].message


def test_import_sims_command_with_progress(partner, tmp_path):
    path = tmp_path / "sims.csv"
    rows = [f"{make_iccid(n, network='bouygues')};;{n:08d};bouygues" for n in range(2500)]
    path.write_text("iccid;pin;puk;network\n" + "\n".join(rows), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_sims", str(path), "--partner", "import-test", stdout=out, stderr=err)
    assert "2500 carte(s) SIM importée(s)" in out.getvalue()
    assert "Vérification" in err.getvalue() and "Import" in err.getvalue()  # tqdm bars
    assert SimCard.objects.filter(partner=partner, pin__isnull=True).count() == 2500


def test_import_sims_command_reports_lines_and_imports_nothing(partner, tmp_path):
    path = tmp_path / "sims.csv"
    path.write_text(
        f"iccid,pin,puk,network\n{make_iccid(1)},1234,12345678,orange\n{make_iccid(2)},1234,1,orange\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="aucune carte SIM importée"):
        call_command("import_sims", str(path), "--partner", "import-test", "--no-progress", stderr=err)
    assert "Ligne 3 : Le code PUK doit comporter exactement 8 chiffres." in err.getvalue()
    assert SimCard.objects.count() == 0
    with pytest.raises(CommandError, match="Partenaire inconnu"):
        call_command("import_sims", str(path), "--partner", "nobody")


def test_import_numbers_csv_and_range(partner, tmp_path):
    text = "\n".join(
        [
            "msisdn;network;kind",
            f"{make_msisdn(1)};bouygues;mobile",
            f"+33 {make_msisdn(2)[1:]};bouygues;",
            f"{make_m2m_number(3)};orange;",
        ]
    )
    assert services.number_import_csv(partner=partner, data=text) == 3
    assert PhoneNumber.objects.get(msisdn=make_msisdn(2)).kind == PhoneNumber.Kind.MOBILE
    assert PhoneNumber.objects.get(msisdn=make_m2m_number(3)).kind == PhoneNumber.Kind.M2M_DATA
    out = io.StringIO()
    call_command(
        "import_numbers",
        "--partner",
        "import-test",
        "--range",
        "0660000000",
        "0660000099",
        "--network",
        "bouygues",
        stdout=out,
    )
    assert "100 numéro(s) ajouté(s)" in out.getvalue()
    assert PhoneNumber.objects.filter(partner=partner, state=PhoneNumber.State.AVAILABLE).count() == 103


def test_import_numbers_reports_bad_lines(partner):
    retired = PhoneNumberFactory(partner=partner)
    with transaction.atomic():
        services.number_retire(partner=partner, msisdns=[retired.msisdn])
    text = "\n".join(
        [
            "msisdn,network",
            "0712345678,bouygues",  # 071 unallocated
            f"{make_m2m_number(1)},bouygues",  # 0700 numbers are Orange's
            f"{retired.msisdn},bouygues",  # R-CON-6
            f"{make_msisdn(5)},free",
        ]
    )
    with pytest.raises(ValidationFailed) as exc:
        services.number_import_csv(partner=partner, data=text)
    assert [e.line for e in exc.value.errors] == [2, 3, 4, 5]
    assert exc.value.errors[2].rule == "R-CON-6"
    assert PhoneNumber.objects.count() == 1


@pytest.mark.parametrize(
    ("first", "last", "fragment"),
    [
        ("0660000010", "0660000001", "croissante"),
        ("0639000000", "0639000010", "tranche mobile"),
        ("0660000000", "0660020000", "au plus"),
    ],
)
def test_import_number_range_refusals(partner, first, last, fragment):
    with pytest.raises(RuleViolation) as exc:
        services.number_import_range(partner=partner, network=Network.BOUYGUES, first=first, last=last)
    assert fragment in exc.value.message
    assert PhoneNumber.objects.count() == 0


def test_import_number_range_overlapping_known_numbers_names_each_and_adds_nothing(partner):
    PhoneNumberFactory(partner=partner, msisdn="0660000002")
    PhoneNumberFactory(msisdn="0660000004")  # another partner's pool
    with pytest.raises(ValidationFailed) as exc:
        services.number_import_range(
            partner=partner, network=Network.BOUYGUES, first="0660000000", last="0660000009"
        )
    assert ["0660000002" in e.message for e in exc.value.errors] == [True, False]
    assert "0660000004" in exc.value.errors[1].message
    assert PhoneNumber.objects.count() == 2
