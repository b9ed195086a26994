"""Bitrix24's REST dialect: incoming webhooks (`/rest/<user id>/<code>/<method>`) acting as their user.

Where things are, for the writers of methods (rest/methods/*.py):
- registry.py — `@method("crm.lead.get", scope="crm")`, `Call` (the user, the webhook, the parameters),
  `RestError` (Bitrix24's error answer) and `Page` (a list answer);
- fields.py — `FieldMap`: Bitrix24's field names ↔ ours, `*.fields`, reading and writing values;
- lists.py — `list_page`: filter / order / select / start over a queryset from the app's selectors;
- views.py — the dispatcher (authentication, scopes, rate limit, parsing, one transaction per call);
- batch.py — the `batch` method; parsing.py — PHP-nested parameters.
"""
