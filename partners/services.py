"""Writes of the tenancy domain (STYLE 1)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.errors import RuleViolation

from .models import ApiToken, ClientAccount, Partner, PartnerMembership, Site, User
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
def client_contact_update(
    *,
    client: ClientAccount,
    last_name: str,
    first_name: str,
    email: str,
    mobile: str,
    landline: str,
    address: str,
    postal_code: str,
    city: str,
) -> ClientAccount:
    """The client's contact details, changed by the client itself (self-care « Mon compte »): checked exactly
    like the back-office client form (R-BO-1, :func:`client_update`); the first refusal raises and nothing is
    saved. Only the contact: the identity the partner bills (account type, company name, SIRET, country) stays
    with the partner's back-office."""
    return client_update(
        client=client,
        last_name=last_name,
        first_name=first_name,
        email=email,
        mobile=mobile,
        landline=landline,
        address=address,
        postal_code=postal_code,
        city=city,
    )


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


# --- API tokens (issue 10 item 6) ------------------------------------------------------------------------

API_TOKEN_SCHEME = "alk_"  # every new secret starts with it (easy to spot in a leaked log or repository)
API_TOKEN_NAME_MAX = 100


def api_token_hash(secret: str) -> str:
    """What the database keeps of a secret: its hex SHA-256 (the secrets are 256 random bits: no salt needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str, now: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """A new named API token for an active partner staff user, valid ``API_TOKEN_TTL_DAYS`` days. Returns the
    token and its secret: the caller shows the secret once, nothing can show it again."""
    from .selectors import partner_for_user

    partner = partner_for_user(user)
    if partner is None or not user.is_active:
        raise RuleViolation(_("Seul un membre actif d'un partenaire peut créer un jeton API."), field="user")
    name = " ".join((name or "").split())
    if not name:
        raise RuleViolation(
            _("Donnez un nom au jeton (par exemple le logiciel qui l'utilise)."), field="name"
        )
    if len(name) > API_TOKEN_NAME_MAX:
        raise RuleViolation(
            _("Le nom du jeton ne peut pas dépasser %(n)d caractères.") % {"n": API_TOKEN_NAME_MAX},
            field="name",
        )
    now = now or timezone.now()
    secret = API_TOKEN_SCHEME + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        partner=partner,
        user=user,
        name=name,
        prefix=secret[: ApiToken.PREFIX_LENGTH],
        key_hash=api_token_hash(secret),
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, now: dt.datetime | None = None) -> ApiToken:
    """Revoke a token at once (idempotent: a revoked token keeps its first revocation time)."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now or timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


LAST_USED_PRECISION = dt.timedelta(
    minutes=1
)  # at most one write a minute per token for « dernière utilisation »


def api_token_authenticate(*, secret: str, now: dt.datetime | None = None) -> ApiToken:
    """The live token whose secret is ``secret``, its user loaded; raises ``RuleViolation`` (field ``token``)
    when there is none or when it is expired, revoked, or its user is inactive or no longer a member of the
    token's partner. Rows are found by prefix and the hash compared in constant time (``hmac.compare_digest``).
    Records the use (``last_used_at``, to the minute)."""
    now = now or timezone.now()
    invalid = RuleViolation(_("Jeton API invalide."), field="token")
    if not secret or len(secret) > 200:
        raise invalid
    digest = api_token_hash(secret)
    candidates = ApiToken.objects.select_related("user", "user__membership__partner").filter(
        prefix=secret[: ApiToken.PREFIX_LENGTH]
    )
    token = next((t for t in candidates if hmac.compare_digest(t.key_hash, digest)), None)
    if token is None:
        raise invalid
    if token.revoked_at is not None:
        raise RuleViolation(_("Ce jeton API a été révoqué."), field="token")
    if token.expires_at <= now:
        raise RuleViolation(_("Ce jeton API a expiré : créez-en un nouveau."), field="token")
    user = token.user
    membership = getattr(user, "membership", None) if user.is_active else None
    if membership is None or membership.partner_id != token.partner_id:
        raise RuleViolation(_("Ce jeton API n'est plus valable : le compte est désactivé."), field="token")
    # One statement on every call (a steady query count), which writes at most once a minute per token.
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_PRECISION), pk=token.pk
    ).update(last_used_at=now)
    return token


# --- partner settings (R-BO-3) and self-care branding (R-SC-2) -------------------------------------------

LOGO_SIZE = (120, 60)  # R-SC-2: the logo shows at 120×60 px on the self-care login page and header
LOGO_MAX_BYTES = 1_000_000  # 1 Mo (1 Mo = 10^6 bytes, the project's unit)
LOGO_MAX_PIXELS = 25_000_000  # refuse decompression bombs before decoding (a 1 Mo PNG can be 20 000² px)
LOGO_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP"}


@transaction.atomic
def partner_settings_update(
    *, partner: Partner, name: str, notification_email: str = "", notify_selfcare_orders: bool
) -> Partner:
    """R-BO-3 "Mon entreprise": company name, notification address and the "Commande selfcare" email
    notification (R-SC-8).

    The self-care slug is NOT derived again from the new name (R-SC-2): the URLs already given to clients
    keep working. Platform staff change it, and the Init Sys / Rezocean flags, in Django admin."""
    from django.core.validators import validate_email

    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    name = (name or "").strip()
    if not name:
        raise RuleViolation(_("La raison sociale est obligatoire."), field="name", rule="R-BO-3")
    max_length = Partner._meta.get_field("name").max_length
    if len(name) > max_length:
        raise RuleViolation(
            _("La raison sociale ne peut pas dépasser %(n)d caractères.") % {"n": max_length},
            field="name",
            rule="R-BO-3",
        )
    notification_email = (notification_email or "").strip()
    if notification_email:
        try:
            validate_email(notification_email)
        except ValidationError:
            raise RuleViolation(
                _("Saisissez une adresse e-mail valide."), field="notification_email", rule="R-SC-8"
            ) from None
    partner.name = name
    partner.notification_email = notification_email
    partner.notify_selfcare_orders = bool(notify_selfcare_orders)
    partner.save(update_fields=["name", "notification_email", "notify_selfcare_orders"])
    return partner


def _logo_error(message: str) -> RuleViolation:
    return RuleViolation(message, field="logo", rule="R-SC-2")


def logo_fit(file) -> bytes:
    """Check an uploaded logo and fit it into 120×60 px (R-SC-2): a PNG with transparent padding.

    Accepts PNG, JPEG and WebP of at most 1 Mo; keeps the aspect ratio (scaled up or down to touch the box),
    applies the EXIF orientation, and centres the image. Raises ``RuleViolation(field="logo")`` in French."""
    import io
    import warnings

    from PIL import Image, ImageOps, UnidentifiedImageError

    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
    if not size:
        raise _logo_error(_("Le fichier est vide."))
    if size > LOGO_MAX_BYTES:
        raise _logo_error(
            _("Le logo ne doit pas dépasser 1 Mo (ce fichier fait %(size)s Ko).") % {"size": -(-size // 1000)}
        )
    refused = _("Ce fichier n'est pas une image acceptée : envoyez un PNG, un JPEG ou un WebP.")
    try:
        file.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as probe:
                if probe.format not in LOGO_FORMATS:
                    raise _logo_error(refused)
                if probe.width * probe.height > LOGO_MAX_PIXELS:
                    raise _logo_error(
                        _("L'image est trop grande (%(w)d × %(h)d px) : 5 000 × 5 000 px au plus.")
                        % {"w": probe.width, "h": probe.height}
                    )
                probe.verify()  # structure and checksums, without decoding the pixels
            file.seek(0)
            with Image.open(file) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
                if image.mode not in ("RGBA", "RGB", "LA", "L", "P"):
                    image = image.convert("RGB")  # CMYK JPEG, 16-bit PNG…
                image = image.convert("RGBA")
    except RuleViolation:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise _logo_error(refused) from None
    fitted = ImageOps.contain(image, LOGO_SIZE, Image.Resampling.LANCZOS)
    canvas = Image.new("RGBA", LOGO_SIZE, (255, 255, 255, 0))  # transparent (white where flattened)
    canvas.paste(fitted, ((LOGO_SIZE[0] - fitted.width) // 2, (LOGO_SIZE[1] - fitted.height) // 2), fitted)
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _delete_file_on_commit(storage, name: str) -> None:
    if name:
        transaction.on_commit(lambda: storage.delete(name))


def _logo_replace(obj, *, data: bytes, stem: str, update_fields: tuple[str, ...] = ("logo",)) -> None:
    """Store ``data`` (a fitted logo) as ``obj.logo`` under a new name on each upload (browsers and proxies
    never show a stale logo); the previous file is deleted after commit. ``obj`` is a locked row."""
    import secrets

    from django.core.files.base import ContentFile

    storage = obj.logo.storage
    old_name = obj.logo.name if obj.logo else ""
    obj.logo.save(f"{stem}-{secrets.token_hex(4)}.png", ContentFile(data), save=False)
    try:
        obj.save(update_fields=list(update_fields))
    except Exception:
        storage.delete(obj.logo.name)  # never leave an orphan file when the row is not saved
        raise
    _delete_file_on_commit(storage, old_name)


def _logo_clear(obj, *, update_fields: tuple[str, ...] = ("logo",)) -> None:
    storage, old_name = obj.logo.storage, obj.logo.name
    obj.logo = ""
    obj.save(update_fields=list(update_fields))
    _delete_file_on_commit(storage, old_name)


@transaction.atomic
def partner_logo_set(*, partner: Partner, file) -> Partner:
    """R-SC-2 / R-BO-3 "Mes fichiers et images": store the partner's logo fitted into 120×60 px.

    The file gets a new name on each upload (browsers and proxies never show a stale logo); the previous
    file is deleted after commit. Nothing is stored when the file is refused."""
    data = logo_fit(file)
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    _logo_replace(partner, data=data, stem=partner.slug)
    return partner


@transaction.atomic
def partner_logo_remove(*, partner: Partner) -> Partner:
    """Remove the partner's logo: the self-care pages show the company name alone."""
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    if partner.logo:
        _logo_clear(partner)
    return partner


@transaction.atomic
def client_logo_set(*, client: ClientAccount, file) -> ClientAccount:
    """The client's own logo (« Cliquez pour importer votre logo client », self-care « Mon compte »): the same
    checks and 120×60 fit as the partner's (R-SC-2, :func:`logo_fit`); the previous file is deleted after
    commit, nothing is stored when the file is refused."""
    data = logo_fit(file)
    client = ClientAccount.objects.select_for_update().get(pk=client.pk)
    _logo_replace(
        client, data=data, stem=f"{client.partner_id}-{client.pk}", update_fields=("logo", "updated_at")
    )
    return client


@transaction.atomic
def client_logo_remove(*, client: ClientAccount) -> ClientAccount:
    """Remove the client's logo: the self-care header shows the partner's branding alone."""
    client = ClientAccount.objects.select_for_update().get(pk=client.pk)
    if client.logo:
        _logo_clear(client, update_fields=("logo", "updated_at"))
    return client


def generate_initial_password() -> str:
    """A random initial password, readable when read aloud or copied (no 0/O, 1/l/I)."""
    import secrets

    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(14))


def login_clean(username: str, *, rule: str, missing: str, exclude_user_id: int | None = None) -> str:
    """A new login for any door (partner staff R-BO-3, self-care R-SC-1): required, Django's allowed characters
    and length, and unused by anyone — case-insensitively, so a staff login and a self-care login never
    collide. ``missing`` is the door's message for an empty login."""
    username = (username or "").strip()
    if not username:
        raise RuleViolation(missing, field="username", rule=rule)
    try:
        User.username_validator(username)
    except ValidationError:
        raise RuleViolation(
            _("L'identifiant ne peut contenir que des lettres, des chiffres et les caractères @ . + - _."),
            field="username",
            rule=rule,
        ) from None
    if len(username) > User._meta.get_field("username").max_length:
        raise RuleViolation(_("L'identifiant est trop long."), field="username", rule=rule)
    taken = User.objects.filter(username__iexact=username)
    if exclude_user_id:
        taken = taken.exclude(pk=exclude_user_id)
    if taken.exists():
        raise RuleViolation(_("Cet identifiant est déjà utilisé."), field="username", rule=rule)
    return username


@transaction.atomic
def partner_staff_add(
    *,
    partner: Partner,
    username: str,
    email: str,
    role: str = PartnerMembership.Role.STAFF,
    password: str = "",
    first_name: str = "",
    last_name: str = "",
) -> tuple[User, str]:
    """R-BO-3 "Contacts": a partner admin adds a staff member. Returns the user and the initial password
    (the one given, or a generated one when left empty) so the page can show it once."""
    from django.contrib.auth import password_validation
    from django.core.validators import validate_email

    username = login_clean(username, rule="R-BO-3", missing=_("L'identifiant est obligatoire."))
    email = (email or "").strip()
    if not email:
        raise RuleViolation(_("L'adresse e-mail est obligatoire."), field="email", rule="R-BO-3")
    try:
        validate_email(email)
    except ValidationError:
        raise RuleViolation(_("Saisissez une adresse e-mail valide."), field="email", rule="R-BO-3") from None
    if role not in PartnerMembership.Role.values:
        raise RuleViolation(_("Rôle inconnu."), field="role", rule="R-BO-3")
    if password:
        candidate = User(username=username, email=email, first_name=first_name, last_name=last_name)
        try:
            password_validation.validate_password(password, candidate)
        except ValidationError as exc:
            raise RuleViolation(" ".join(exc.messages), field="password", rule="R-BO-3") from None
    else:
        password = generate_initial_password()
    try:
        with transaction.atomic():
            user = partner_staff_create(
                partner=partner,
                username=username,
                password=password,
                email=email,
                role=role,
                first_name=(first_name or "").strip(),
                last_name=(last_name or "").strip(),
            )
    except IntegrityError:  # the same username created concurrently
        raise RuleViolation(_("Cet identifiant est déjà utilisé."), field="username", rule="R-BO-3") from None
    return user, password


@transaction.atomic
def partner_staff_role_set(*, membership: PartnerMembership, role: str) -> PartnerMembership:
    """R-BO-3: change a staff member's role. The partner always keeps at least one active admin (else
    nobody could manage its settings any more)."""
    if role not in PartnerMembership.Role.values:
        raise RuleViolation(_("Rôle inconnu."), field="role", rule="R-BO-3")
    # Lock the partner's admin rows first: two concurrent demotions cannot both see "another admin left".
    admins = list(
        PartnerMembership.objects.select_for_update(of=("self",))
        .filter(partner_id=membership.partner_id, role=PartnerMembership.Role.ADMIN)
        .values_list("pk", "user__is_active")
    )
    membership = PartnerMembership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    if membership.role == role:
        return membership
    if membership.role == PartnerMembership.Role.ADMIN:
        others = [pk for pk, active in admins if pk != membership.pk and active]
        if not others:
            raise RuleViolation(
                _("Votre société doit garder au moins un administrateur."), field="role", rule="R-BO-3"
            )
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


def partner_staff_notifications_set(
    *, membership: PartnerMembership, notify_selfcare_orders: bool, notify_usage_alerts: bool
) -> PartnerMembership:
    """R-SC-8 / R-ALR-4: the emails one staff user chooses to receive (« Commande selfcare », « Alertes de
    consommation »). Each user sets their own (``backoffice`` « Notifications email »)."""
    membership.notify_selfcare_orders = bool(notify_selfcare_orders)
    membership.notify_usage_alerts = bool(notify_usage_alerts)
    membership.save(update_fields=["notify_selfcare_orders", "notify_usage_alerts"])
    return membership
