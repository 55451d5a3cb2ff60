"""The portal's urls plus the floor view, for the benchmarks only."""

from django.urls import include, path

from .views import floor

urlpatterns = [
    path("bench/floor/", floor, name="bench_floor"),
    path("", include("contracts_portal.urls")),
]
