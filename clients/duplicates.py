"""Registers the company and contact duplicate finders (clients.selectors) with crm.duplicates."""

from crm.duplicates import register

from .selectors import duplicate_companies, duplicate_contacts

register(duplicate_companies)
register(duplicate_contacts)
