from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


@ensure_csrf_cookie
def login_page(request):
    """The partner's branded self-care login page (R-SC-2). Self-care features come in a later issue."""
    return render(request, "selfcare/login.html", {"partner": request.partner})
