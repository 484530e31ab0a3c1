"""« Ressources » (R-BO-2): /stock/…"""

from django.urls import path

from . import inventory_views as views

urlpatterns = [
    path("", views.stock_sims, name="stock"),
    path("esim/", views.stock_esims, name="stock_esims"),
    path("numeros/", views.stock_numbers, name="stock_numbers"),
    path("sims/affecter/", views.sims_assign, name="stock_sims_assign"),
    path("sims/liberer/", views.sims_release, name="stock_sims_release"),
    path("sims/plage/", views.sims_range, name="stock_sims_range"),
    path("sims/importer/", views.sims_import, name="stock_sims_import"),
    path("numeros/importer/", views.numbers_import, name="stock_numbers_import"),
]
