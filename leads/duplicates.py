"""Registers the lead duplicate finder (leads.selectors.duplicate_leads) with crm.duplicates."""

from crm.duplicates import register

from .selectors import duplicate_leads

register(duplicate_leads)
