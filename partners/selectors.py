"""Reads, always scoped to the partner who looks (STYLE 2, 16)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import ClientAccount, Partner, PartnerMembership, Site, User


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


def staff_api_token_get(user: User):
    """The API token of a staff user, or None if they have not generated one yet."""
    from rest_framework.authtoken.models import Token

    return Token.objects.filter(user=user).first()


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
