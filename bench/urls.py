"""The project's URLs plus the benchmark's minimal view (scripts/bench_leads.py sets
ROOT_URLCONF to this module; the product never does)."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns

from . import views

urlpatterns = [
    path("bench/minimal/", views.minimal_leads, name="bench_minimal"),
    *project_urlpatterns,
]
