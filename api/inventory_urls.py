"""Stock endpoints under /api/v1/ (R-BO-2, R-SC-7)."""

from django.urls import path

from . import inventory_views as views

urlpatterns = [
    path("sims", views.SimListView.as_view(), name="api-sims"),
    path("sims/assign", views.SimAssignView.as_view(), name="api-sims-assign"),
    path("sims/release", views.SimReleaseView.as_view(), name="api-sims-release"),
    path("esims", views.EsimListView.as_view(), name="api-esims"),
    path("numbers", views.NumberListView.as_view(), name="api-numbers"),
]
