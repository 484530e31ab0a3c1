"""Stock CSV imports (issue 10, item 2): size cap, streaming parse with bounded memory, bounded error list,
imports reserved to partner admins."""

import io
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import override_settings

from core.errors import ValidationFailed
from inventory import services
from inventory.models import PhoneNumber, SimCard
from partners.models import PartnerMembership
from tests.factories.inventory import make_iccid, make_msisdn
from tests.factories.partners import MembershipFactory, PartnerFactory

pytestmark = pytest.mark.django_db

HOST = {"HTTP_HOST": "localhost"}
SIM_HEADER = "iccid;pin;puk;network\n"


def _sim_lines(count: int, *, start: int = 0) -> str:
    return "".join(f"{make_iccid(start + i)};1234;12345678;orange\n" for i in range(count))


@pytest.fixture
def admin():
    return MembershipFactory(role=PartnerMembership.Role.ADMIN)


@pytest.fixture
def collaborator(admin):
    return MembershipFactory(partner=admin.partner, role=PartnerMembership.Role.STAFF)


# --- size cap --------------------------------------------------------------------------------------------


@override_settings(IMPORT_MAX_BYTES=2000)
def test_an_oversize_sim_file_is_refused_in_french_before_reading_and_nothing_is_imported(client, admin):
    client.force_login(admin.user)
    content = (SIM_HEADER + _sim_lines(100)).encode()  # 4,122 bytes
    assert len(content) > 2000
    response = client.post("/stock/sims/importer/", {"file": SimpleUploadedFile("s.csv", content)}, **HOST)
    assert response.status_code == 400
    text = response.content.decode()
    assert "Fichier trop volumineux" in text
    assert "un import est limité à 2,0\xa0Kio" in text  # the limit, named in French units
    assert SimCard.objects.count() == 0


@override_settings(IMPORT_MAX_BYTES=2000)
def test_an_oversize_number_file_is_refused_and_a_file_under_the_cap_is_taken(client, admin):
    client.force_login(admin.user)
    big = "msisdn;network\n" + "".join(f"{make_msisdn(i)};bouygues\n" for i in range(200))
    response = client.post(
        "/stock/numeros/importer/", {"file": SimpleUploadedFile("n.csv", big.encode())}, **HOST
    )
    assert response.status_code == 400
    assert "Fichier trop volumineux" in response.content.decode()
    assert PhoneNumber.objects.count() == 0
    small = "msisdn;network\n" + "".join(f"{make_msisdn(i)};bouygues\n" for i in range(10))
    response = client.post(
        "/stock/numeros/importer/", {"file": SimpleUploadedFile("n.csv", small.encode())}, **HOST
    )
    assert response.status_code == 302
    assert PhoneNumber.objects.count() == 10


def test_the_default_cap_is_5_mb_and_django_upload_limits_stay_at_their_defaults(settings):
    assert settings.IMPORT_MAX_BYTES == 5 * 1024 * 1024
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 2621440
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE == 2621440


# --- streaming, bounded memory ---------------------------------------------------------------------------


ROWS = 50_000
PEAK_LIMIT = 20_000_000  # bytes; the whole-content importer peaked at ~51 MB on these 50,000 rows (2 MB file)


def test_50000_sims_import_from_a_stream_with_bounded_memory():
    partner = PartnerFactory()
    content = (SIM_HEADER + _sim_lines(ROWS)).encode()
    upload = TemporaryUploadedFile("s.csv", "text/csv", len(content), None)  # what Django gives over 2.5 MB
    upload.write(content)
    del content
    tracemalloc.start()
    try:
        count = services.sim_import_csv(partner=partner, data=upload)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        upload.close()
    assert count == ROWS
    assert SimCard.objects.filter(partner=partner, state=SimCard.State.IN_STOCK).count() == ROWS
    assert peak < PEAK_LIMIT, f"peak traced memory {peak / 1e6:.1f} MB"


def test_utf8_bom_and_latin1_files_are_still_read_from_a_stream():
    partner = PartnerFactory()
    bom = ("\ufeff" + "iccid;pin;puk;réseau\n" + _sim_lines(2)).encode("utf-8")
    assert services.sim_import_csv(partner=partner, data=io.BytesIO(bom)) == 2
    latin1 = ("iccid;pin;puk;réseau\n" + _sim_lines(2, start=10)).encode("latin-1")
    assert services.sim_import_csv(partner=partner, data=io.BytesIO(latin1)) == 2
    # a file valid UTF-8 for its first 64 KB chunk, Latin-1 further on: still Latin-1 as a whole
    late = (SIM_HEADER + _sim_lines(2000, start=100)).encode() + "# é\n".encode("latin-1")
    with pytest.raises(ValidationFailed) as exc:
        services.sim_import_csv(partner=partner, data=io.BytesIO(late))
    assert "# é" in str(exc.value.errors[0].message) or exc.value.errors[0].line == 2002
    assert SimCard.objects.filter(partner=partner).count() == 4


# --- bounded error list, all or nothing ------------------------------------------------------------------


def test_a_file_with_thousands_of_bad_lines_reports_the_first_50_counts_the_rest_and_imports_nothing():
    partner = PartnerFactory()
    bad = "".join(f"8933{i:015d};1234;12345678;orange\n" for i in range(3000))  # Luhn keys mostly wrong
    content = SIM_HEADER + _sim_lines(10) + bad + _sim_lines(10, start=5000)
    with pytest.raises(ValidationFailed) as exc:
        services.sim_import_csv(partner=partner, data=content.encode())
    errors = exc.value.errors
    assert len(errors) == services.MAX_IMPORT_ERRORS == 50
    assert [e.line for e in errors] == sorted(e.line for e in errors)
    assert errors[0].line == 12
    bad_lines = exc.value.more + 50
    assert bad_lines > 2000
    assert f"{bad_lines} ligne(s) en erreur" in exc.value.message
    assert SimCard.objects.count() == 0


def test_the_import_page_shows_the_bounded_list_and_the_count_of_the_others(client, admin):
    client.force_login(admin.user)
    content = SIM_HEADER + "".join(f"8933{i:015d};1;2;orange\n" for i in range(120))
    response = client.post(
        "/stock/sims/importer/", {"file": SimpleUploadedFile("s.csv", content.encode())}, **HOST
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert text.count("Ligne ") == 50
    assert "autres erreurs" in text
    assert SimCard.objects.count() == 0


def test_duplicates_across_check_batches_and_known_iccids_are_still_caught():
    partner = PartnerFactory()
    services.sim_import_csv(partner=partner, data=(SIM_HEADER + _sim_lines(1, start=9000)).encode())
    content = SIM_HEADER + _sim_lines(6000) + _sim_lines(1) + _sim_lines(1, start=9000)
    with pytest.raises(ValidationFailed) as exc:
        services.sim_import_csv(partner=partner, data=content.encode())
    assert [e.line for e in exc.value.errors] == [6002, 6003]
    assert "déjà à la ligne 2" in exc.value.errors[0].message
    assert "déjà enregistré" in exc.value.errors[1].message
    assert SimCard.objects.count() == 1


# --- partner admins only ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/stock/sims/importer/", "/stock/numeros/importer/"])
def test_a_collaborator_gets_403_on_the_import_pages_and_posts(client, collaborator, url):
    client.force_login(collaborator.user)
    assert client.get(url, **HOST).status_code == 403
    content = SIM_HEADER + _sim_lines(2)
    response = client.post(url, {"file": SimpleUploadedFile("s.csv", content.encode())}, **HOST)
    assert response.status_code == 403
    assert SimCard.objects.count() == 0
    assert PhoneNumber.objects.count() == 0


def test_the_import_entries_are_hidden_from_a_collaborator_and_shown_to_an_admin(client, admin, collaborator):
    client.force_login(collaborator.user)
    assert "/stock/sims/importer/" not in client.get("/stock/", **HOST).content.decode()
    assert "/stock/numeros/importer/" not in client.get("/stock/numeros/", **HOST).content.decode()
    client.force_login(admin.user)
    assert "/stock/sims/importer/" in client.get("/stock/", **HOST).content.decode()
    assert "/stock/numeros/importer/" in client.get("/stock/numeros/", **HOST).content.decode()
    content = SIM_HEADER + _sim_lines(2)
    response = client.post(
        "/stock/sims/importer/", {"file": SimpleUploadedFile("s.csv", content.encode())}, **HOST
    )
    assert response.status_code == 302
    assert SimCard.objects.filter(partner=admin.partner).count() == 2
