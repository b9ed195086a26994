"""Calling the REST API in-process, as a webhook of a persona (Django's test client): the many edge
cases of the lead, deal and status methods. The real libraries run against a real server in the
`test_*_libraries.py` modules."""

from __future__ import annotations

import json

from django.test import Client

from rest import services


class Rest:
    """`rest.call("crm.lead.get", {"id": 5})` → (HTTP status, parsed answer) as the webhook's user."""

    def __init__(self, user, scopes=("crm", "user")):
        self.user = user
        self.webhook, code = services.webhook_create(user, name="test", scopes=list(scopes))
        self.base = services.base_path(user.pk, code)
        self.client = Client()

    def call(self, method: str, params: dict | None = None) -> tuple[int, dict]:
        response = self.client.post(self.base + method, data=json.dumps(params or {}),
                                     content_type="application/json")
        return response.status_code, response.json()

    def form(self, method: str, query: str) -> tuple[int, dict]:
        """PHP-nested form parameters, as fast-bitrix24's batch commands and sites' forms send them."""
        response = self.client.post(self.base + method, data=query, content_type="application/x-www-form-urlencoded")
        return response.status_code, response.json()

    def ok(self, method: str, params: dict | None = None):
        status, answer = self.call(method, params)
        assert status == 200, answer
        assert "error" not in answer, answer
        return answer["result"]

    def error(self, method: str, params: dict | None = None, status: int = 400) -> str:
        got, answer = self.call(method, params)
        assert got == status, (got, answer)
        assert "error" in answer and "result" not in answer, answer
        return answer["error_description"]
