"""The project's URLs plus the benchmarks' minimal views (scripts/bench_leads.py and
scripts/bench_deals.py set ROOT_URLCONF to this module; the product never does)."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns

from . import views

urlpatterns = [
    path("bench/minimal/", views.minimal_leads, name="bench_minimal"),
    path("bench/minimal/deals/", views.minimal_deals, name="bench_minimal_deals"),
    path("bench/minimal/companies/", views.minimal_companies, name="bench_minimal_companies"),
    path("bench/minimal/rest/", views.minimal_rest_leads, name="bench_minimal_rest"),
    path("bench/minimal/rows/", views.minimal_rows, name="bench_minimal_rows"),
    path("bench/minimal/report/", views.minimal_report, name="bench_minimal_report"),
    *project_urlpatterns,
]
