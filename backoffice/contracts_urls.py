"""Orders and contracts pages, mounted at the root by ``backoffice/urls.py``."""

from django.urls import path

from . import contracts_views as views

urlpatterns = [
    path("commandes/", views.order_list_view, name="order_list"),
    path("commandes/nouvelle/", views.order_create_view, name="order_create"),
    path("commandes/<int:order_id>/", views.order_detail_view, name="order_detail"),
    path("clients/<int:client_id>/commander/", views.order_create_view, name="order_create_for_client"),
    path("contrats/", views.contract_list_view, name="contract_list"),
    path("contrats/<int:contract_id>/", views.contract_detail_view, name="contract_detail"),
    path("contrats/<int:contract_id>/<slug:tab>/", views.contract_detail_view, name="contract_tab"),
]
