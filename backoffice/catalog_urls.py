"""Catalog browser, mounted under ``/catalogue/`` by ``backoffice/urls.py``."""

from django.urls import path

from . import catalog_views as views

urlpatterns = [
    path("", views.catalog_index_view, name="catalog_index"),
    path("offres/<str:code>/", views.catalog_offer_view, name="catalog_offer"),
]
