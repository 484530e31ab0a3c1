"""Request budgets kept in the cache (Redis in production): a counter per key that expires with its window.

R-SC-3: the forgotten-password form emails a link; without a budget it lets anyone flood a fleet manager's
mailbox or probe logins at speed. Each request is counted against its login, its email address (both within
the host's partner: STYLE 18) and the caller's IP address (across partners). Beyond
``SELFCARE_PASSWORD_RESET_LIMIT`` requests in ``SELFCARE_PASSWORD_RESET_WINDOW_MINUTES`` on any of them, the
request does nothing — and the page gives the same neutral answer as always, so the budget says nothing about
which accounts exist."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

from .models import Partner
from .selfcare import selfcare_password_reset_request


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


def budget_take(key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one request on ``key``; True while the count is within ``limit`` for the window. Atomic on Redis
    (``add`` then ``incr``; the window starts with the first request and is not extended by later ones)."""
    cache.add(key, 0, timeout=window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_seconds)
        count = 1
    return count <= limit


def password_reset_budget_take(
    *, partner: Partner, username: str, email: str, ip_address: str | None
) -> bool:
    """R-SC-3: count a forgotten-password request on its login, email and IP; False once any is spent. Every
    key is counted even when an earlier one is spent, so a flood keeps every counter up."""
    limit = settings.SELFCARE_PASSWORD_RESET_LIMIT
    window = settings.SELFCARE_PASSWORD_RESET_WINDOW_MINUTES * 60
    keys = [
        f"selfcare:pwreset:{partner.pk}:login:{_digest(username or '')}",
        f"selfcare:pwreset:{partner.pk}:email:{_digest(email or '')}",
    ]
    if ip_address:
        keys.append(f"selfcare:pwreset:ip:{ip_address}")
    return all([budget_take(key, limit=limit, window_seconds=window) for key in keys])


def selfcare_password_reset_request_throttled(
    *, partner: Partner, username: str, email: str, ip_address: str | None, selfcare_root_url: str
):
    """R-SC-3 forgotten password within its budget: :func:`partners.selfcare.selfcare_password_reset_request`
    when the login, the email and the IP address all have requests left; otherwise nothing (no email). Returns
    the outbox message or None, which the page never reveals."""
    if not password_reset_budget_take(partner=partner, username=username, email=email, ip_address=ip_address):
        return None
    return selfcare_password_reset_request(
        partner=partner, username=username, email=email, selfcare_root_url=selfcare_root_url
    )
