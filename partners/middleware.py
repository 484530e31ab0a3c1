import time

from django.conf import settings
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import DisallowedHost
from django.http import Http404
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date

from .hosts import resolve_host
from .selectors import partner_get_by_slug


class HostRoutingMiddleware:
    """Maps the request host to a door (STYLE 14).

    Self-care hosts set ``request.partner`` and the self-care URLconf; an unknown slug is a 404.
    Everything else is the back-office/API (``request.partner`` stays None there: staff are scoped
    through their membership, never through the host).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = resolve_host(request.get_host())
        request.door = match.door
        request.partner = None
        if match.door == "selfcare":
            partner = partner_get_by_slug(match.slug) if match.slug else None
            if partner is None:
                from django.views import defaults

                return defaults.page_not_found(request, Http404("espace client inconnu"))
            request.partner = partner
            request.urlconf = settings.SELFCARE_URLCONF
        return self.get_response(request)


class DoorSessionMiddleware(SessionMiddleware):
    """``SessionMiddleware`` whose cookie depends on the door (R-SC-2).

    On a self-care host the session lives in ``SELFCARE_SESSION_COOKIE_NAME``, host-only (no ``Domain``
    attribute even if ``SESSION_COOKIE_DOMAIN`` is set for the back-office): a back-office session and a
    self-care session never share a cookie, and one partner's self-care cookie is never sent to another's host.
    It runs before ``HostRoutingMiddleware``, so it reads the host itself."""

    @staticmethod
    def cookie_for(request) -> tuple[str, str | None]:
        try:
            door = resolve_host(request.get_host()).door
        except DisallowedHost:
            door = "backoffice"  # CommonMiddleware refuses the request right after
        if door == "selfcare":
            return settings.SELFCARE_SESSION_COOKIE_NAME, None
        return settings.SESSION_COOKIE_NAME, settings.SESSION_COOKIE_DOMAIN

    def process_request(self, request):
        request.session_cookie_name, request.session_cookie_domain = self.cookie_for(request)
        request.session = self.SessionStore(request.COOKIES.get(request.session_cookie_name))

    def process_response(self, request, response):
        try:
            accessed = request.session.accessed
            modified = request.session.modified
            empty = request.session.is_empty()
            name, domain = request.session_cookie_name, request.session_cookie_domain
        except AttributeError:
            return response
        if name in request.COOKIES and empty:
            response.delete_cookie(
                name,
                path=settings.SESSION_COOKIE_PATH,
                domain=domain,
                samesite=settings.SESSION_COOKIE_SAMESITE,
            )
            need_vary_cookie = True
        else:
            need_vary_cookie = accessed
            if (modified or settings.SESSION_SAVE_EVERY_REQUEST) and not empty:
                if request.session.get_expire_at_browser_close():
                    max_age = expires = None
                else:
                    max_age = request.session.get_expiry_age()
                    expires = http_date(time.time() + max_age)
                if response.status_code < 500:
                    try:
                        request.session.save()
                    except UpdateError:
                        raise SessionInterrupted(
                            "The request's session was deleted before the request completed."
                        ) from None
                    response.set_cookie(
                        name,
                        request.session.session_key,
                        max_age=max_age,
                        expires=expires,
                        domain=domain,
                        path=settings.SESSION_COOKIE_PATH,
                        secure=settings.SESSION_COOKIE_SECURE or None,
                        httponly=settings.SESSION_COOKIE_HTTPONLY or None,
                        samesite=settings.SESSION_COOKIE_SAMESITE,
                    )
                    need_vary_cookie = True
        if need_vary_cookie:
            patch_vary_headers(response, ("Cookie",))
        return response


class DoorCsrfCookieMiddleware:
    """The CSRF cookie depends on the door, like the session cookie of :class:`DoorSessionMiddleware` (R-SC-2).

    On a self-care host the CSRF secret lives in ``SELFCARE_CSRF_COOKIE_NAME``, host-only (no ``Domain``
    attribute even if ``CSRF_COOKIE_DOMAIN`` is set for the back-office): a token of the back-office is refused
    on self-care and the other way round, and one partner's self-care token is never sent to another's host.

    Django's CSRF code reads ``settings.CSRF_COOKIE_NAME`` wherever it runs — ``CsrfViewMiddleware`` and also the
    ``ensure_csrf_cookie``/``csrf_protect`` decorators, each with its own instance — so a subclass of the
    middleware would not cover the decorated views. This middleware translates at the door instead: placed after
    ``HostRoutingMiddleware`` (``request.door``) and before ``CsrfViewMiddleware``, on a self-care host it hands
    Django the self-care cookie under Django's name (any back-office cookie the browser sent is dropped), and
    renames the cookie Django sets on the way out, without ``Domain``. The back-office is untouched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if getattr(request, "door", None) != "selfcare" or settings.CSRF_USE_SESSIONS:
            return self.get_response(request)
        name, door_name = settings.CSRF_COOKIE_NAME, settings.SELFCARE_CSRF_COOKIE_NAME
        cookies = {k: v for k, v in request.COOKIES.items() if k not in (name, door_name)}
        if door_name in request.COOKIES:
            cookies[name] = request.COOKIES[door_name]
        request.COOKIES = cookies
        response = self.get_response(request)
        if name in response.cookies:
            morsel = response.cookies.pop(name)
            response.set_cookie(
                door_name,
                morsel.value,
                max_age=settings.CSRF_COOKIE_AGE,
                domain=None,
                path=settings.CSRF_COOKIE_PATH,
                secure=settings.CSRF_COOKIE_SECURE,
                httponly=settings.CSRF_COOKIE_HTTPONLY,
                samesite=settings.CSRF_COOKIE_SAMESITE,
            )
        return response
