"""Platform staff upload a partner's logo in Django admin through the same checks and 120×60 fitting as the
partner's settings page (R-SC-2)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from partners.models import Partner, User
from tests.factories.partners import PartnerFactory

pytestmark = pytest.mark.django_db


def _png(size=(300, 100)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (200, 10, 10, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.fr", "pw-root-123"))
    return client


def _post(staff_client, partner, upload):
    return staff_client.post(
        f"/admin/partners/partner/{partner.pk}/change/",
        {
            "name": partner.name,
            "slug": partner.slug,
            "notification_email": "",
            "notify_selfcare_orders": "on",
            "logo": upload,
        },
    )


def test_R_SC_2_admin_logo_is_fitted_into_120x60(staff_client):
    partner = PartnerFactory()
    response = _post(staff_client, partner, SimpleUploadedFile("logo.png", _png(), "image/png"))
    assert response.status_code == 302, response.content.decode()[:2000]
    partner.refresh_from_db()
    with Image.open(partner.logo.path) as stored:
        assert stored.size == (120, 60)
        assert stored.format == "PNG"


def test_R_SC_2_admin_refuses_a_file_that_is_not_an_image(staff_client):
    partner = PartnerFactory()
    response = _post(staff_client, partner, SimpleUploadedFile("logo.png", b"not an image", "image/png"))
    assert response.status_code == 200
    assert not Partner.objects.get(pk=partner.pk).logo
