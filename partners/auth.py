"""Who may log in through which door (STYLE 15), and the French lockout answer of django-axes."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .models import SelfcareAccess
from .selectors import selfcare_access_for_user


def user_matches_door(user, request) -> bool:
    """On ``<slug>.espaceclient.<domain>`` only a self-care user of that partner's clients (never partner
    staff); on the back-office host (pages, /admin/, API token) never a self-care user."""
    door = getattr(request, "door", None) if request is not None else None
    if door == "selfcare":
        return selfcare_access_for_user(getattr(request, "partner", None), user) is not None
    return not SelfcareAccess.objects.filter(user=user).exists()


class DoorModelBackend(ModelBackend):
    """Django's model backend (password check, ``is_active``), refusing a user who does not match the door
    of the request. The refusal is an ordinary failed login: the same message as a wrong password, and
    django-axes counts it."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None or not user_matches_door(user, request):
            return None
        return user


def lockout_message() -> str:
    minutes = settings.AXES_COOLOFF_MINUTES
    return _(
        "Trop de tentatives de connexion infructueuses. Par sécurité, la connexion à ce compte est bloquée "
        "pendant %(minutes)d minutes : réessayez plus tard."
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the French answer to a locked-out login (status 429), in the door's look."""
    status = settings.AXES_HTTP_RESPONSE_CODE
    message = lockout_message()
    if request.path.startswith("/api/") or request.headers.get("x-requested-with") == "XMLHttpRequest":
        return JsonResponse({"detail": message}, status=status)
    if getattr(request, "door", None) == "selfcare":
        context = {"partner": request.partner, "error": message, "locked_out": True}
        return render(request, "selfcare/login.html", context, status=status)
    return render(request, "registration/locked_out.html", {"message": message}, status=status)
