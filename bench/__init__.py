"""Benchmark-only code (scripts/bench_leads.py): the minimal view the CRM's pages are compared
with. Not an app and not in INSTALLED_APPS; nothing in the product imports it."""
