"""Orders and contracts pages, mounted at the root by ``backoffice/urls.py``."""

from django.urls import path

from . import contract_actions_views as actions
from . import contract_esim_views, usage_views
from . import contracts_views as views

urlpatterns = [
    path("commandes/", views.order_list_view, name="order_list"),
    path("commandes/nouvelle/", views.order_create_view, name="order_create"),
    path("commandes/<int:order_id>/", views.order_detail_view, name="order_detail"),
    path("clients/<int:client_id>/commander/", views.order_create_view, name="order_create_for_client"),
    path("contrats/", views.contract_list_view, name="contract_list"),
    path("contrats/<int:contract_id>/", views.contract_detail_view, name="contract_detail"),
    # R-ORD-6 / R-SC-5 « Journal de consommations » tab (before the generic tab pattern, which it shadows).
    path("contrats/<int:contract_id>/consommations/", usage_views.contract_usage_view, name="contract_usage"),
    path("contrats/<int:contract_id>/<slug:tab>/", views.contract_detail_view, name="contract_tab"),
    # Contract actions (issue 4, R-CON-9, R-OPT-3/4/8): backoffice/contract_actions_views.py
    path(
        "contrats/<int:contract_id>/actions/<slug:action>/",
        actions.contract_action_view,
        name="contract_action",
    ),
    path(
        "contrats/<int:contract_id>/options/ajouter/",
        actions.contract_option_add_view,
        name="contract_option_add",
    ),
    path(
        "contrats/<int:contract_id>/options/itinerance/",
        actions.contract_roaming_view,
        name="contract_roaming",
    ),
    path(
        "contrats/<int:contract_id>/options/<int:option_id>/resilier/",
        actions.contract_option_terminate_view,
        name="contract_option_terminate",
    ),
    path(
        "contrats/<int:contract_id>/informations/seuil-data/",
        actions.contract_data_threshold_view,
        name="contract_data_threshold",
    ),
    path(
        "contrats/<int:contract_id>/esim/renvoyer/",
        contract_esim_views.contract_esim_resend_view,
        name="contract_esim_resend",
    ),
]
