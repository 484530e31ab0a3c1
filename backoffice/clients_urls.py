"""Client pages (R-BO-1), mounted under ``/clients/`` by ``backoffice/urls.py``."""

from django.urls import path

from . import clients_views as views

urlpatterns = [
    path("", views.client_list_view, name="client_list"),
    path("nouveau/", views.client_create_view, name="client_create"),
    path("<int:client_id>/", views.client_detail_view, name="client_detail"),
    path("<int:client_id>/modifier/", views.client_edit_view, name="client_edit"),
    path("jeton-api/", views.api_token_view, name="api_token"),
]
