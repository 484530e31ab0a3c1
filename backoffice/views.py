from django.shortcuts import render

from partners.selectors import client_list

from .access import partner_required


@partner_required
def home(request):
    partner = request.staff_partner
    return render(
        request,
        "backoffice/home.html",
        {"client_count": client_list(partner).count()},
    )
