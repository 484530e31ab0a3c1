"""Client pages (R-BO-1), mounted under ``/clients/`` by ``backoffice/urls.py``."""

from django.urls import path

from . import clients_views as views
from . import selfcare_orders_views, selfcare_views

urlpatterns = [
    path("", views.client_list_view, name="client_list"),
    path("nouveau/", views.client_create_view, name="client_create"),
    path("<int:client_id>/", views.client_detail_view, name="client_detail"),
    path("<int:client_id>/modifier/", views.client_edit_view, name="client_edit"),
    path("<int:client_id>/selfcare/", selfcare_views.client_selfcare_view, name="client_selfcare"),
    path(
        "<int:client_id>/selfcare/<int:access_id>/",
        selfcare_views.client_selfcare_access_view,
        name="client_selfcare_access",
    ),
    path(
        "<int:client_id>/selfcare/<int:access_id>/envoyer/",
        selfcare_views.client_selfcare_send_view,
        name="client_selfcare_send",
    ),
    path(
        "<int:client_id>/commandes-selfcare/",
        selfcare_orders_views.client_selfcare_orders_view,
        name="client_selfcare_orders",
    ),
    path("jeton-api/", views.api_token_view, name="api_token"),
    path("jeton-api/<int:token_id>/revoquer/", views.api_token_revoke_view, name="api_token_revoke"),
]
