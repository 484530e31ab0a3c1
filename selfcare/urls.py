from django.urls import path

from . import fleet_views, invoice_views, line_views, settings_views, views

app_name = "selfcare"

urlpatterns = [
    path("", views.login_view, name="login"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("mot-de-passe-oublie/", views.password_forgotten_view, name="password_forgotten"),
    path("mot-de-passe/<str:uidb64>/<str:token>/", views.password_set_view, name="password_set"),
    path("parc/", fleet_views.home_view, name="home"),
    path("parc/export.csv", fleet_views.fleet_export_view, name="fleet_export"),
    path("parc/mode/", fleet_views.theme_view, name="theme"),
    path("compte/", settings_views.account_view, name="account"),
    path("factures/", invoice_views.invoice_list_view, name="invoices"),
    path("factures/<int:invoice_id>/pdf/", invoice_views.invoice_pdf_view, name="invoice_pdf"),
    path("lignes/<int:pk>/", line_views.line_view, name="line"),
    path("lignes/<int:pk>/sims/", line_views.line_sims_view, name="line_sims"),
    path("lignes/<int:pk>/<str:action>/", line_views.line_action_view, name="line_action"),
]
