"""Settings pages (R-BO-3), mounted under ``/parametres/`` by ``backoffice/urls.py``. No path parameter:
everything belongs to the logged-in user's partner."""

from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("", views.settings_company_view, name="settings_company"),
    path("entreprise/", views.settings_company_update_view, name="settings_company_update"),
    path("fichiers/", views.settings_files_view, name="settings_files"),
    path("fichiers/logo/", views.settings_logo_upload_view, name="settings_logo_upload"),
    path("fichiers/logo/supprimer/", views.settings_logo_remove_view, name="settings_logo_remove"),
    path("contacts/", views.settings_contacts_view, name="settings_contacts"),
    path("contacts/nouveau/", views.settings_contact_add_view, name="settings_contact_add"),
    path("contacts/role/", views.settings_contact_role_view, name="settings_contact_role"),
    path("notifications/", views.settings_notifications_view, name="settings_notifications"),
    path("facturation/", views.settings_billing_view, name="settings_billing"),
    path("facturation/modifier/", views.settings_billing_update_view, name="settings_billing_update"),
    path("facturation-revendeur/", views.settings_reseller_view, name="settings_reseller"),
    path(
        "facturation-revendeur/modifier/",
        views.settings_reseller_update_view,
        name="settings_reseller_update",
    ),
]
