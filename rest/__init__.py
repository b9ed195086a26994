"""Bitrix24's REST dialect: incoming webhooks (`/rest/<user id>/<code>/<method>`) acting as their user.

Where things are:
- registry.py — `@method("crm.lead.get", scope="crm")`, `Call` (the user, the webhook, the parameters),
  `RestError` (Bitrix24's error answer) and `Page` (a list answer);
- fields.py — `FieldMap`: Bitrix24's field names ↔ ours, `*.fields`, reading and writing values;
- lists.py — `list_page`: filter / order / select / start over a queryset from the app's selectors;
- dispatch.py — running a method: scope, one transaction, the «через REST» mark, errors, the envelope;
- views.py — the address (credentials, rate limit, payload limit, parsing); parsing.py — PHP-nested forms;
- methods/ — the methods, one module per area, each registering itself on import (methods/batch.py,
  methods/users.py…): add a file there, nothing else.

Writing a method (rest/methods/<area>.py):
- Read through the app's selectors and write through its services, with `call.user`: the webhook
  sees and changes exactly what its user does in the browser. Never a model's `objects` here.
- Return JSON-able values in Bitrix24's shapes (ids and numbers as strings, FieldMap does it), `True`
  for update/delete, the new id (an int) for add, a `Page` from `list_page` for lists.
- Refuse with `RestError` (`.not_found()`, `.access_denied()`, `.invalid(text)`, `.no_id()`), or let the
  apps' own refusals through — never a try/except around a service: the dispatcher answers what a
  method raises by its registry (`rest.dispatch.refusal`): Http404 → «Not found», PermissionDenied →
  «Access denied. <the rule>», a service's ValidationError → its messages, DeletionRefused and each
  app's error class (registered by its methods' module: `refusal(services.LeadError)`) → its text;
  all 400 with an empty code, as Bitrix24's CRM answers.
- A method that writes nothing (a list) is registered `atomic=False`: no transaction around it.
- Don't catch errors to keep going: the method runs in one transaction (one per command of a `batch`), so
  a refusal or a bug leaves nothing half-saved; a bug is logged and answered INTERNAL_SERVER_ERROR (500).
- `call.param("fields")` finds fields/FIELDS; `call.id_param()` a valid id or «ID is not defined or invalid.»;
  `parsing.as_list(value)` reads a PHP array (a dict keyed 0, 1…) or a JSON list alike.
- Test in-process with `rest_call` (tests/rest/conftest.py) and through both libraries with `webhook_url`.
"""
