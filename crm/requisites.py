"""«Заполнить по ИНН»: a client of DaData's party lookup (findById/party).

DaData serves the public part of ЕГРЮЛ/ЕГРИП: for an ИНН it returns the КПП, ОГРН, names,
address, state and head of an organisation or an individual entrepreneur. The response format
is documented at https://dadata.ru/api/find-party/ (the «Организация» object:
suggestions[].value, .data.inn/.kpp/.ogrn/.type, .data.name.full_with_opf/.short_with_opf,
.data.address.value/.unrestricted_value, .data.state.status/.liquidation_date, .data.management).

Every failure is one exception type, `RequisitesError`, whose message is shown to the manager
as is: the view never has to know about HTTP.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext as _

from crm.inn import validate_inn

logger = logging.getLogger(__name__)

FIND_PARTY_URL = "https://suggestions.dadata.ru/suggestions/api/4_1/rs/findById/party"

LEGAL = "LEGAL"
INDIVIDUAL = "INDIVIDUAL"
ACTIVE = "ACTIVE"

# The inputs «Заполнить по ИНН» fills, named as on the lead and company forms.
REQUISITES_FIELDS = ("inn", "kpp", "ogrn", "legal_name", "legal_address")


class RequisitesError(Exception):
    """The lookup failed; `message` is a Russian sentence for the manager, `code` is for code."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Requisites:
    inn: str
    kpp: str
    ogrn: str
    full_name: str
    short_name: str
    legal_address: str
    status: str  # ACTIVE, LIQUIDATING, LIQUIDATED, BANKRUPT, REORGANIZING ("" if DaData says nothing)
    kind: str = LEGAL  # LEGAL or INDIVIDUAL
    management: str = ""  # «должность: ФИО» of the head, for a legal entity
    liquidation_date: date | None = None

    @property
    def is_individual(self) -> bool:
        return self.kind == INDIVIDUAL

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    @property
    def status_label(self) -> str:
        """The state in words, agreed with «организация» / «ИП», with the liquidation date if known."""
        if self.is_individual:
            labels = {
                "ACTIVE": _("действующий"),
                "LIQUIDATING": _("прекращает деятельность"),
                "LIQUIDATED": _("деятельность прекращена"),
                "BANKRUPT": _("признан банкротом"),
            }
        else:
            labels = {
                "ACTIVE": _("действующая"),
                "LIQUIDATING": _("ликвидируется"),
                "LIQUIDATED": _("ликвидирована"),
                "BANKRUPT": _("банкротство"),
                "REORGANIZING": _("в процессе реорганизации"),
            }
        label = labels.get(self.status, _("статус неизвестен"))
        if self.liquidation_date and not self.is_active:
            label = _("%(label)s %(date)s") % {
                "label": label, "date": formats.date_format(self.liquidation_date, "SHORT_DATE_FORMAT"),
            }
        return label


def _seconds(value: float) -> str:
    return f"{value:g}".replace(".", formats.get_format("DECIMAL_SEPARATOR"))


class DadataClient:
    """A thin synchronous client of findById/party. `transport` is for tests (httpx.MockTransport);
    in production it stays None and httpx talks to the real URL."""

    def __init__(self, api_key: str, timeout: float = 5.0, transport: httpx.BaseTransport | None = None,
                 url: str = FIND_PARTY_URL):
        self.api_key = (api_key or "").strip()
        self.timeout = float(timeout)
        self.transport = transport
        self.url = url or FIND_PARTY_URL

    @property
    def configured(self) -> bool:
        return bool(self.api_key)

    def lookup(self, inn: str) -> Requisites:
        if not self.configured:
            raise RequisitesError(
                _("Поиск по ИНН не настроен: администратору нужно задать DADATA_API_KEY."), "not_configured")
        inn = re.sub(r"\s+", "", inn or "")
        if not inn:
            raise RequisitesError(_("Введите ИНН, чтобы заполнить реквизиты."), "invalid_inn")
        try:
            validate_inn(inn)
        except ValidationError as exc:
            raise RequisitesError(" ".join(exc.messages), "invalid_inn") from exc

        payload: dict[str, Any] = {"query": inn, "count": 1}
        if len(inn) == 10:
            # An organisation's ИНН also matches its branches; ask for the head office, whose
            # КПП and address are the legal ones. (An ИП has no branches: no filter there.)
            payload["branch_type"] = "MAIN"
        response = self._post(payload)
        suggestions = self._suggestions(response)
        if not suggestions:
            raise RequisitesError(
                _("Организация с ИНН %(inn)s не найдена в ЕГРЮЛ/ЕГРИП (по данным DaData). Проверьте ИНН.")
                % {"inn": inn}, "not_found")
        return self._parse(suggestions[0], inn)

    def _post(self, payload: dict[str, Any]) -> httpx.Response:
        headers = {
            "Authorization": f"Token {self.api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.post(self.url, json=payload, headers=headers)
        except httpx.TimeoutException as exc:
            logger.warning("DaData findById/party timed out after %ss: %r", self.timeout, exc)
            raise RequisitesError(
                _("Сервис реквизитов не ответил за %(seconds)s с. Попробуйте ещё раз или заполните реквизиты вручную.")
                % {"seconds": _seconds(self.timeout)}, "timeout") from exc
        except httpx.RequestError as exc:
            logger.warning("DaData findById/party is unreachable: %r", exc)
            raise RequisitesError(
                _("Не удалось связаться с сервисом реквизитов (DaData): нет связи с suggestions.dadata.ru. "
                  "Попробуйте позже или заполните реквизиты вручную."), "network") from exc

        status = response.status_code
        if status == 200:
            return response
        logger.warning("DaData findById/party answered HTTP %s: %s", status, self._redact(response.text))
        if status == 401:
            raise RequisitesError(
                _("Сервис реквизитов не принял API-ключ (HTTP 401): администратору нужно проверить DADATA_API_KEY."),
                "auth")
        if status == 403:
            raise RequisitesError(
                _("Сервис реквизитов отказал в доступе (HTTP 403): API-ключ неверен, почта в DaData не подтверждена "
                  "или исчерпан дневной лимит запросов. Администратору нужно проверить DADATA_API_KEY."), "auth")
        if status == 429:
            raise RequisitesError(
                _("Превышен лимит запросов к сервису реквизитов (HTTP 429). Подождите немного и попробуйте ещё раз."),
                "rate_limit")
        if status >= 500:
            raise RequisitesError(
                _("Сервис реквизитов временно недоступен (HTTP %(status)s). "
                  "Попробуйте позже или заполните реквизиты вручную.") % {"status": status}, "server")
        raise RequisitesError(
            _("Сервис реквизитов отклонил запрос (HTTP %(status)s). Заполните реквизиты вручную.")
            % {"status": status}, "bad_request")

    def _redact(self, text: str) -> str:
        # DaData's 403 echoes the token («Feature 'SUGGESTIONS' disabled for token '…'»): keep it out of logs.
        text = text[:300]
        return text.replace(self.api_key, "***") if self.api_key else text

    @staticmethod
    def _malformed() -> RequisitesError:
        return RequisitesError(
            _("Сервис реквизитов вернул непонятный ответ. Попробуйте позже или заполните реквизиты вручную."),
            "bad_response")

    def _suggestions(self, response: httpx.Response) -> list[dict[str, Any]]:
        try:
            body = response.json()
        except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are both ValueErrors
            logger.warning("DaData findById/party returned invalid JSON: %r", self._redact(response.text))
            raise self._malformed() from exc
        suggestions = body.get("suggestions") if isinstance(body, dict) else None
        if not isinstance(suggestions, list) or not all(
            isinstance(s, dict) and isinstance(s.get("data"), dict) for s in suggestions
        ):
            logger.warning("DaData findById/party returned an unexpected body: %r", self._redact(response.text))
            raise self._malformed()
        return suggestions

    @staticmethod
    def _parse(suggestion: dict[str, Any], inn: str) -> Requisites:
        data = suggestion["data"]

        def text(value: Any) -> str:
            return value.strip() if isinstance(value, str) else ""

        def part(key: str) -> dict[str, Any]:
            value = data.get(key)
            return value if isinstance(value, dict) else {}

        name, address, state, management = part("name"), part("address"), part("state"), part("management")
        value = text(suggestion.get("value"))
        head = ""
        if text(management.get("name")):
            head = ": ".join(filter(None, (text(management.get("post")).capitalize(), text(management.get("name")))))
        return Requisites(
            inn=text(data.get("inn")) or inn,
            kpp=text(data.get("kpp")),
            ogrn=text(data.get("ogrn")),
            full_name=text(name.get("full_with_opf")) or value,
            short_name=text(name.get("short_with_opf")) or value or text(name.get("full_with_opf")),
            # unrestricted_value is the full address (with the postcode and the region), as documents need it.
            legal_address=text(address.get("unrestricted_value")) or text(address.get("value")),
            status=text(state.get("status")),
            kind=INDIVIDUAL if data.get("type") == INDIVIDUAL else LEGAL,
            management=head,
            liquidation_date=_ms_to_date(state.get("liquidation_date")),
        )


def _ms_to_date(value: Any) -> date | None:
    """DaData's dates are milliseconds since the epoch (UTC midnight)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC).date()
    except (OverflowError, OSError, ValueError):
        return None


def get_client(transport: httpx.BaseTransport | None = None) -> DadataClient:
    """The client as configured in settings (DADATA_API_KEY, DADATA_TIMEOUT, DADATA_URL: a proxy
    or, in browser tests, a local server answering as DaData does)."""
    return DadataClient(
        api_key=getattr(settings, "DADATA_API_KEY", ""),
        timeout=getattr(settings, "DADATA_TIMEOUT", 5.0),
        transport=transport,
        url=getattr(settings, "DADATA_URL", "") or FIND_PARTY_URL,
    )
