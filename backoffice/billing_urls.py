"""« Factures » pages (issue 9 item 5), mounted under ``/factures/`` by ``backoffice/urls.py``."""

from django.urls import path

from . import billing_views as views
from . import client_invoices_views as client_views

urlpatterns = [
    path("", views.invoice_list_view, name="invoice_list"),
    path("<int:invoice_id>/", views.invoice_detail_view, name="invoice_detail"),
    path("<int:invoice_id>/pdf/", views.invoice_pdf_view, name="invoice_pdf"),
    path("<int:invoice_id>/lignes.csv", views.invoice_csv_view, name="invoice_csv"),
    # « Factures clients »: the partner's invoices to its clients (reseller billing, R-BO-3)
    path("clients/", client_views.client_invoice_list_view, name="client_invoice_list"),
    path("clients/brouillons/", client_views.client_invoice_drafts_view, name="client_invoice_drafts"),
    path("clients/emettre/", client_views.client_invoice_issue_all_view, name="client_invoice_issue_all"),
    path("clients/<int:invoice_id>/", client_views.client_invoice_detail_view, name="client_invoice_detail"),
    path("clients/<int:invoice_id>/pdf/", client_views.client_invoice_pdf_view, name="client_invoice_pdf"),
    path(
        "clients/<int:invoice_id>/emettre/",
        client_views.client_invoice_issue_view,
        name="client_invoice_issue",
    ),
    path(
        "clients/<int:invoice_id>/avoir/",
        client_views.client_invoice_credit_note_view,
        name="client_invoice_credit_note",
    ),
]
