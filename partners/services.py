"""Writes of the tenancy domain (STYLE 1)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.errors import RuleViolation

from .models import ClientAccount, Partner, PartnerMembership, Site, User
from .validators import normalize_phone, normalize_siret, validate_siret

CLIENT_FIELDS = (
    "account_type",
    "company_name",
    "siret",
    "last_name",
    "first_name",
    "country",
    "postal_code",
    "address",
    "city",
    "mobile",
    "landline",
    "email",
)
CLIENT_REQUIRED = ("company_name", "siret", "email")  # R-BO-1: starred fields


def unique_partner_slug(name: str, *, exclude_id: int | None = None) -> str:
    """R-SC-2: the self-care subdomain is made from the company name, unique among partners."""
    base = slugify(name)[:50].strip("-") or "partenaire"
    slug, n = base, 2
    qs = Partner.objects.all()
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    while qs.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


@transaction.atomic
def partner_create(
    *, name: str, is_init_sys: bool = False, is_rezocean: bool = False, slug: str | None = None
) -> Partner:
    partner = Partner(
        name=name,
        slug=slug or unique_partner_slug(name),
        is_init_sys=is_init_sys,
        is_rezocean=is_rezocean,
    )
    partner.full_clean()
    partner.save()
    return partner


@transaction.atomic
def partner_staff_create(
    *,
    partner: Partner,
    username: str,
    password: str,
    email: str = "",
    role: str = PartnerMembership.Role.STAFF,
    first_name: str = "",
    last_name: str = "",
) -> User:
    user = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
    )
    PartnerMembership.objects.create(user=user, partner=partner, role=role)
    return user


def _clean_client_data(data: dict) -> dict:
    cleaned = {
        k: (data[k].strip() if isinstance(data[k], str) else data[k]) for k in CLIENT_FIELDS if k in data
    }
    if "siret" in cleaned:
        cleaned["siret"] = normalize_siret(cleaned["siret"])
    if "country" in cleaned:
        cleaned["country"] = (cleaned["country"] or "").upper()
    return cleaned


def _validate_client(client: ClientAccount) -> None:
    """R-BO-1: required fields and a valid SIRET, reported as a RuleViolation naming the field."""
    for field in CLIENT_REQUIRED:
        if not getattr(client, field):
            label = ClientAccount._meta.get_field(field).verbose_name
            raise RuleViolation(
                _("Le champ « %(label)s » est obligatoire.") % {"label": label},
                field=field,
                rule="R-BO-1",
            )
    try:
        validate_siret(client.siret)
    except ValidationError as exc:
        raise RuleViolation(exc.messages[0], field="siret", rule="R-BO-1") from None
    if not (len(client.country) == 2 and client.country.isascii() and client.country.isalpha()):
        raise RuleViolation(
            _("Le pays doit être un code ISO à deux lettres (exemple : FR)."), field="country", rule="R-BO-1"
        )
    if (
        client.country == "FR"
        and client.postal_code
        and not (len(client.postal_code) == 5 and client.postal_code.isdigit())
    ):
        raise RuleViolation(
            _("Un code postal français comporte 5 chiffres."), field="postal_code", rule="R-BO-1"
        )
    for field, kind in (("mobile", "mobile"), ("landline", "landline")):
        try:
            setattr(client, field, normalize_phone(getattr(client, field), kind=kind, region=client.country))
        except ValidationError as exc:
            raise RuleViolation(exc.messages[0], field=field, rule="R-BO-1") from None
    try:
        client.full_clean(exclude=["partner"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise RuleViolation(messages[0], field=field, rule="R-BO-1") from None
    duplicate = ClientAccount.objects.filter(partner_id=client.partner_id, siret=client.siret)
    if client.pk:
        duplicate = duplicate.exclude(pk=client.pk)
    if duplicate.exists():
        raise RuleViolation(_("Un client de votre compte a déjà ce SIRET."), field="siret", rule="R-BO-1")


@transaction.atomic
def client_create(*, partner: Partner, **data) -> ClientAccount:
    client = ClientAccount(partner=partner, **_clean_client_data(data))
    _validate_client(client)
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError:  # a concurrent create with the same SIRET
        raise RuleViolation(
            _("Un client de votre compte a déjà ce SIRET."), field="siret", rule="R-BO-1"
        ) from None
    return client


@transaction.atomic
def client_update(*, client: ClientAccount, **data) -> ClientAccount:
    client = ClientAccount.objects.select_for_update().get(pk=client.pk)
    cleaned = _clean_client_data(data)
    for key, value in cleaned.items():
        setattr(client, key, value)
    _validate_client(client)
    client.save(update_fields=[*cleaned.keys(), "updated_at"])
    return client


@transaction.atomic
def site_create(
    *, client: ClientAccount, name: str, address: str = "", postal_code: str = "", city: str = ""
) -> Site:
    return Site.objects.create(
        partner_id=client.partner_id,
        client=client,
        name=name,
        address=address,
        postal_code=postal_code,
        city=city,
    )


@transaction.atomic
def staff_api_token_rotate(*, user: User):
    """Give a partner staff user a new API token (the old one stops working at once)."""
    from rest_framework.authtoken.models import Token

    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)
