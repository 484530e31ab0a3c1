"""Self-care access of a client's fleet managers (R-SC-1, R-SC-3): writes of the tenancy domain.

A self-care user is a ``partners.User`` with one ``SelfcareAccess`` to one client account of one partner; never
partner staff. Nobody ever sees or sends a password: the client receives a single-use link to set it (Django's
``PasswordResetTokenGenerator``: the token dies when the password changes, and after PASSWORD_RESET_TIMEOUT).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from core.errors import DomainError, RuleViolation

from .models import ClientAccount, Partner, PartnerMembership, SelfcareAccess, User
from .selectors import selfcare_user_for_link
from .services import client_create, login_clean


class SelfcareLinkInvalid(DomainError):
    """A set-password link that is unknown, foreign, used or outdated (the page answers 404)."""


def _clean_login(username: str, *, exclude_user_id: int | None = None) -> str:
    return login_clean(
        username,
        rule="R-SC-1",
        missing=_("L'identifiant selfcare est obligatoire."),
        exclude_user_id=exclude_user_id,
    )


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    if not email:
        raise RuleViolation(_("L'adresse e-mail est obligatoire."), field="email", rule="R-SC-1")
    try:
        validate_email(email)
    except ValidationError:
        raise RuleViolation(_("Saisissez une adresse e-mail valide."), field="email", rule="R-SC-1") from None
    return email


def _taken() -> RuleViolation:
    return RuleViolation(_("Cet identifiant est déjà utilisé."), field="username", rule="R-SC-1")


@transaction.atomic
def selfcare_access_create(
    *, client: ClientAccount, username: str, email: str, password: str = ""
) -> SelfcareAccess:
    """R-SC-1: give a client's fleet manager a self-care login. Without ``password`` (the back-office never
    sets one: only the demo data does) the user has no usable password until they set one through the link of
    :func:`selfcare_password_link_send`."""
    username = _clean_login(username)
    email = _clean_email(email)
    try:
        with transaction.atomic():
            user = User(username=username, email=email)
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.save()
    except IntegrityError:  # the same login created concurrently
        raise _taken() from None
    if PartnerMembership.objects.filter(user=user).exists():  # a staff user is never a self-care user
        raise _taken()
    return SelfcareAccess.objects.create(partner_id=client.partner_id, client=client, user=user)


@transaction.atomic
def selfcare_access_update(*, access: SelfcareAccess, username: str, email: str) -> SelfcareAccess:
    """R-SC-1: change a self-care user's login or email (the password is kept)."""
    access = SelfcareAccess.objects.select_for_update().select_related("user", "client").get(pk=access.pk)
    user = access.user
    user.username = _clean_login(username, exclude_user_id=user.pk)
    user.email = _clean_email(email)
    try:
        with transaction.atomic():
            user.save(update_fields=["username", "email"])
    except IntegrityError:
        raise _taken() from None
    return access


@transaction.atomic
def client_selfcare_options_set(*, client: ClientAccount, esim_swap_allowed: bool) -> ClientAccount:
    """R-SC-1: whether the client may swap a line to an eSIM from self-care (used by R-SC-6)."""
    client = ClientAccount.objects.select_for_update().get(pk=client.pk)
    client.selfcare_esim_swap_allowed = bool(esim_swap_allowed)
    client.save(update_fields=["selfcare_esim_swap_allowed", "updated_at"])
    return client


def selfcare_password_link(*, user: User, selfcare_root_url: str) -> str:
    """The absolute single-use set-password link on the partner's self-care host."""
    path = reverse(
        "selfcare:password_set",
        urlconf=settings.SELFCARE_URLCONF,
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return selfcare_root_url.rstrip("/") + path


def _send_link(*, access: SelfcareAccess, selfcare_root_url: str, reset: bool):
    from notifications.services import outbox_enqueue_email

    partner: Partner = access.partner
    link = selfcare_password_link(user=access.user, selfcare_root_url=selfcare_root_url)
    if reset:
        subject = _("Réinitialisation de votre mot de passe — espace client %(partner)s")
    else:
        subject = _("Vos informations de connexion à l'espace client %(partner)s")
    return outbox_enqueue_email(
        partner=partner,
        to=access.user.email,
        subject=subject % {"partner": partner.name},
        template="notifications/email/selfcare_access",
        context={
            "reset": reset,
            "client": access.client,
            "username": access.user.username,
            "link": link,
            "selfcare_url": selfcare_root_url,
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        },
        ref=access,
    )


@transaction.atomic
def selfcare_password_link_send(*, access: SelfcareAccess, selfcare_root_url: str):
    """R-SC-1 « (Ré)générer le mot de passe et envoyer les informations par mail »: the current password and
    every earlier link stop working at once, and the user gets an email (through the outbox) with their login
    and a single-use link to choose a new password. Returns the outbox message."""
    access = (
        SelfcareAccess.objects.select_for_update()
        .select_related("user", "client", "partner")
        .get(pk=access.pk)
    )
    access.user.set_unusable_password()
    access.user.save(update_fields=["password"])
    access.invitation_sent_at = timezone.now()
    access.save(update_fields=["invitation_sent_at"])
    return _send_link(access=access, selfcare_root_url=selfcare_root_url, reset=False)


@transaction.atomic
def client_create_with_selfcare(
    *,
    partner: Partner,
    client_data: dict,
    selfcare_email: str = "",
    selfcare_username: str = "",
    esim_swap_allowed: bool = False,
    selfcare_root_url: str,
) -> ClientAccount:
    """R-BO-1 + R-SC-1 « Ouvrir l'accès selfcare » at client creation: create the client
    (:func:`partners.services.client_create`) and, when a self-care email or login is given, its self-care user
    with the set-password email — the same services as « Configuration selfcare ». All or nothing: any refusal
    rolls the whole creation back (no client, no user, no email). A self-care refusal names this function's
    argument (``selfcare_email``, ``selfcare_username``) as its field."""
    client = client_create(partner=partner, **client_data)
    if esim_swap_allowed:
        client = client_selfcare_options_set(client=client, esim_swap_allowed=True)
    if not (selfcare_email or "").strip() and not (selfcare_username or "").strip():
        return client
    try:
        access = selfcare_access_create(client=client, username=selfcare_username, email=selfcare_email)
    except RuleViolation as exc:
        raise RuleViolation(
            exc.message, field=f"selfcare_{exc.field}" if exc.field else None, rule=exc.rule
        ) from None
    selfcare_password_link_send(access=access, selfcare_root_url=selfcare_root_url)
    return client


@transaction.atomic
def selfcare_password_reset_request(*, partner: Partner, username: str, email: str, selfcare_root_url: str):
    """R-SC-3 forgotten password: when the login and email match an active self-care user of this partner,
    email them a single-use link (the current password keeps working until a new one is set). Says nothing
    either way: the page answers the same whether the account exists or not. Returns the message or None."""
    access = (
        SelfcareAccess.objects.select_related("user", "client", "partner")
        .filter(
            partner=partner,
            client__partner=partner,
            user__username__iexact=(username or "").strip(),
            user__email__iexact=(email or "").strip(),
            user__is_active=True,
        )
        .first()
    )
    if access is None or not (username or "").strip() or not (email or "").strip():
        return None
    return _send_link(access=access, selfcare_root_url=selfcare_root_url, reset=True)


@transaction.atomic
def selfcare_password_set(*, partner: Partner, uidb64: str, token: str, password: str) -> User:
    """R-SC-1/R-SC-3: set the password through a link. The user row is locked and the token checked again, so
    the link works once (the new password hash kills the token), even for two clicks at the same time."""
    user = selfcare_user_for_link(partner, uidb64, token)
    if user is None:
        raise SelfcareLinkInvalid(_("Ce lien n'est plus valide."), rule="R-SC-3")
    user = User.objects.select_for_update().get(pk=user.pk)
    if not default_token_generator.check_token(user, token):
        raise SelfcareLinkInvalid(_("Ce lien n'est plus valide."), rule="R-SC-3")
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise RuleViolation(" ".join(exc.messages), field="password", rule="R-SC-3") from None
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def selfcare_password_change(*, access: SelfcareAccess, current_password: str, new_password: str) -> User:
    """A fleet manager changes their own password (self-care « Mon compte »): the current one first, then
    Django's password validators. The new hash kills every outstanding set-password or forgotten-password
    link (R-SC-3); the caller keeps its own session with ``update_session_auth_hash``."""
    user = User.objects.select_for_update().get(pk=access.user_id)
    if not current_password or not user.check_password(current_password):
        raise RuleViolation(_("Le mot de passe actuel est incorrect."), field="old_password")
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise RuleViolation(" ".join(exc.messages), field="new_password1") from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def selfcare_theme_set(*, access: SelfcareAccess, theme: str) -> SelfcareAccess:
    """R-SC-4: the day/night mode of one self-care user, remembered on their access row. An unknown value
    keeps the current mode."""
    if theme not in SelfcareAccess.Theme.values or theme == access.theme:
        return access
    SelfcareAccess.objects.filter(pk=access.pk).update(theme=theme)
    access.theme = theme
    return access
