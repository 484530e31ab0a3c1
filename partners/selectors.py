"""Reads, always scoped to the partner who looks (STYLE 2, 16)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import ApiToken, ClientAccount, Partner, PartnerMembership, SelfcareAccess, Site, User


def partner_for_user(user: User) -> Partner | None:
    """The partner a staff user works for, or None (fail-closed: no membership → no data)."""
    if not user or not user.is_authenticated:
        return None
    try:
        return user.membership.partner
    except PartnerMembership.DoesNotExist:
        return None


def partner_get_by_slug(slug: str) -> Partner | None:
    return Partner.objects.filter(slug=slug).first()


def client_list(partner: Partner, *, search: str = "") -> QuerySet[ClientAccount]:
    qs = ClientAccount.objects.filter(partner=partner)
    search = (search or "").strip()
    if search:
        qs = qs.filter(
            Q(company_name__icontains=search)
            | Q(siret__startswith=search.replace(" ", ""))
            | Q(last_name__icontains=search)
            | Q(first_name__icontains=search)
            | Q(email__icontains=search)
        )
    return qs.order_by("company_name", "id")


def client_get_for_partner_or_404(partner: Partner, client_id: int) -> ClientAccount:
    """The same 404 for a missing client and for another partner's client (STYLE 16)."""
    try:
        return ClientAccount.objects.get(partner=partner, pk=client_id)
    except (ClientAccount.DoesNotExist, ValueError, TypeError):
        raise Http404("client") from None


def site_list(partner: Partner, *, client: ClientAccount | None = None) -> QuerySet[Site]:
    qs = Site.objects.filter(partner=partner)
    if client is not None:
        qs = qs.filter(client=client)
    return qs


def api_token_list(user: User) -> QuerySet[ApiToken]:
    """A staff user's own API tokens, newest first (revoked and expired ones included, with their dates), within
    the partner they belong to now."""
    partner = partner_for_user(user)
    if partner is None:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(partner=partner, user=user).order_by("-created_at", "-pk")


def api_token_get_for_user_or_404(user: User, token_id) -> ApiToken:
    """One of the user's own tokens; the same 404 for a missing token and for anyone else's (STYLE 16)."""
    try:
        return api_token_list(user).get(pk=token_id)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise Http404("api token") from None


def partner_staff_list(partner: Partner) -> QuerySet[PartnerMembership]:
    """R-BO-3 "Contacts": the partner's staff, admins first."""
    return (
        PartnerMembership.objects.filter(partner=partner)
        .select_related("user")
        .order_by("role", "user__last_name", "user__first_name", "user__username")
    )


def partner_membership_get_for_partner_or_404(partner: Partner, membership_id) -> PartnerMembership:
    """One of the partner's staff; the same 404 for a missing member and another partner's (STYLE 16)."""
    try:
        return PartnerMembership.objects.select_related("user").get(partner=partner, pk=membership_id)
    except (PartnerMembership.DoesNotExist, ValueError, TypeError):
        raise Http404("membre") from None


# --- self-care (R-SC-1, R-SC-2) ----------------------------------------------------------------------------


def selfcare_access_for_user(partner: Partner, user: User) -> SelfcareAccess | None:
    """The self-care access of ``user`` on ``partner``'s self-care, or None: another partner's client, a
    partner staff user, an inactive or anonymous user all get None (STYLE 15, fail-closed)."""
    if not user or not user.is_authenticated or not user.is_active or partner is None:
        return None
    access = (
        SelfcareAccess.objects.select_related("client", "user")
        .filter(partner=partner, client__partner=partner, user=user)
        .first()
    )
    if access is None or PartnerMembership.objects.filter(user=user).exists():
        return None
    return access


def selfcare_access_list(partner: Partner, client: ClientAccount) -> QuerySet[SelfcareAccess]:
    return SelfcareAccess.objects.filter(partner=partner, client=client).select_related("user")


def selfcare_access_get_for_partner_or_404(
    partner: Partner, client: ClientAccount, access_id
) -> SelfcareAccess:
    """The same 404 for a missing access and another partner's (STYLE 16)."""
    try:
        return SelfcareAccess.objects.select_related("user", "client").get(
            partner=partner, client=client, pk=access_id
        )
    except (SelfcareAccess.DoesNotExist, ValueError, TypeError):
        raise Http404("accès selfcare") from None


def selfcare_user_for_link(partner: Partner, uidb64: str, token: str) -> User | None:
    """The self-care user of ``partner`` a set-password link is for, if the link is still valid (R-SC-1/3):
    a link of another partner's client, an unknown user, a used, outdated or forged token all give None."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_str
    from django.utils.http import urlsafe_base64_decode

    try:
        user_id = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    access = (
        SelfcareAccess.objects.select_related("user")
        .filter(partner=partner, client__partner=partner, user_id=user_id, user__is_active=True)
        .first()
    )
    if access is None or not default_token_generator.check_token(access.user, token):
        return None
    return access.user
