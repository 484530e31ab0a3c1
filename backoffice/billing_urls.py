"""« Factures » pages (issue 9 item 5), mounted under ``/factures/`` by ``backoffice/urls.py``."""

from django.urls import path

from . import billing_views as views

urlpatterns = [
    path("", views.invoice_list_view, name="invoice_list"),
    path("<int:invoice_id>/", views.invoice_detail_view, name="invoice_detail"),
    path("<int:invoice_id>/pdf/", views.invoice_pdf_view, name="invoice_pdf"),
    path("<int:invoice_id>/lignes.csv", views.invoice_csv_view, name="invoice_csv"),
]
