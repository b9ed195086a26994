"""Outgoing events in Bitrix24's dialect: a supervisor registers a handler (an URL, the events it
wants, an application token) and the CRM posts Bitrix24's form-encoded event body to it after each
change of a lead, deal, contact, company or task commits, in the background, with retries.

- models.py — `Handler` (who gets what) and `Delivery` (one event for one handler: the log);
- services.py — the only writers: handlers (supervisors only) and the events themselves, which
  come from `crm.hooks.changed` (additions and changes) and `crm.deletion.on_deleted`;
- tasks.py — `deliver`, the background post with its retries and back-off;
- addresses.py — which URLs a handler may have (no loopback or private addresses unless allowed).
"""
