"""«Заполнить по ИНН»: the DaData client (against recorded findById/party answers served by
httpx.MockTransport — no network) and the htmx partial that refills the requisites inputs.

The fixtures follow DaData's documented response of findById/party (https://dadata.ru/api/find-party/):
the legal entity is the documented example (ПАО СБЕРБАНК, ИНН 7707083893); the ИП and the liquidated
ООО «РОМАШКА» are made-up records in the same format, with checksum-valid ИНН/ОГРН.
"""

import json
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.urls import reverse

from crm import views
from crm.requisites import FIND_PARTY_URL, DadataClient, RequisitesError, get_client
from tests.factories import UserFactory

FIXTURES = Path(__file__).parent / "fixtures" / "dadata"
KEY = "test-api-key"
URL = reverse("crm:requisites")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class Recorder:
    """A MockTransport handler that answers with a canned response and keeps every request."""

    def __init__(self, status: int = 200, body: bytes = b"", exc: Exception | None = None):
        self.status, self.body, self.exc = status, body, exc
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.exc is not None:
            raise self.exc
        return httpx.Response(self.status, content=self.body, headers={"Content-Type": "application/json"})

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    @property
    def sent(self) -> dict:
        assert len(self.requests) == 1
        return json.loads(self.requests[0].content)


def serve(name: str, status: int = 200) -> Recorder:
    return Recorder(status, fixture(name))


def client_for(recorder: Recorder, timeout: float = 5.0) -> DadataClient:
    return DadataClient(KEY, timeout=timeout, transport=recorder.transport)


def assert_dadata_request(recorder: Recorder, body: dict) -> None:
    [request] = recorder.requests
    assert request.method == "POST"
    assert str(request.url) == "https://suggestions.dadata.ru/suggestions/api/4_1/rs/findById/party"
    assert request.headers["Authorization"] == f"Token {KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert json.loads(request.content) == body


# --- the client ---

def test_it_looks_up_a_legal_entity_and_asks_for_the_head_office():
    recorder = serve("party_legal_7707083893.json")
    found = client_for(recorder).lookup("7707083893")

    assert_dadata_request(recorder, {"query": "7707083893", "count": 1, "branch_type": "MAIN"})
    assert recorder.requests[0].extensions["timeout"] == {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}
    assert found.inn == "7707083893"
    assert found.kpp == "773601001"
    assert found.ogrn == "1027700132195"
    assert found.full_name == 'ПУБЛИЧНОЕ АКЦИОНЕРНОЕ ОБЩЕСТВО "СБЕРБАНК РОССИИ"'
    assert found.short_name == "ПАО СБЕРБАНК"
    assert found.legal_address == "117312, г Москва, Академический р-н, ул Вавилова, д 19"
    assert found.status == "ACTIVE" and found.is_active and not found.is_individual
    assert found.status_label == "действующая"
    assert found.management == "Президент, председатель правления: Греф Герман Оскарович"
    assert found.liquidation_date is None


def test_it_looks_up_an_individual_entrepreneur_without_kpp():
    recorder = serve("party_individual_772812345609.json")
    found = client_for(recorder).lookup("772812345609")

    # An ИП has no branches: no branch_type filter, which could hide it.
    assert_dadata_request(recorder, {"query": "772812345609", "count": 1})
    assert found.is_individual
    assert found.kpp == ""
    assert found.ogrn == "318774600123452"
    assert found.full_name == "Индивидуальный предприниматель Иванов Иван Иванович"
    assert found.short_name == "ИП Иванов Иван Иванович"
    assert found.legal_address == "г Москва"
    assert found.status_label == "действующий"
    assert found.management == ""


def test_it_says_when_nothing_is_found():
    recorder = serve("party_not_found.json")
    with pytest.raises(RequisitesError) as caught:
        client_for(recorder).lookup("7728012340")
    assert caught.value.code == "not_found"
    assert caught.value.message.startswith("Организация с ИНН 7728012340 не найдена")
    assert len(recorder.requests) == 1


def test_it_reports_a_liquidated_company_with_the_date():
    recorder = serve("party_liquidated_7728012340.json")
    found = client_for(recorder).lookup("7728012340")

    assert found.status == "LIQUIDATED" and not found.is_active
    assert found.liquidation_date == date(2021, 3, 15)
    assert found.status_label == "ликвидирована 15.03.2021"
    assert found.kpp == "772801001" and found.ogrn == "1157746123457"
    assert found.full_name == 'ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ "РОМАШКА"'


def test_it_strips_spaces_from_a_pasted_inn():
    recorder = serve("party_legal_7707083893.json")
    client_for(recorder).lookup(" 7707 083 893 ")
    assert recorder.sent["query"] == "7707083893"


@pytest.mark.parametrize(
    ("status", "body", "code", "fragment"),
    [
        (401, fixture("error_401_unauthorized.json"), "auth", "не принял API-ключ (HTTP 401)"),
        (403, fixture("error_403_forbidden.json"), "auth", "исчерпан дневной лимит"),
        (429, b'{"family": "CLIENT_ERROR", "reason": "Too Many Requests"}', "rate_limit",
         "Превышен лимит запросов к сервису реквизитов (HTTP 429)"),
        (500, b"Internal Server Error", "server", "временно недоступен (HTTP 500)"),
        (503, b"", "server", "временно недоступен (HTTP 503)"),
        (400, b'{"family": "CLIENT_ERROR", "reason": "Bad Request"}', "bad_request", "отклонил запрос (HTTP 400)"),
    ],
)
def test_it_turns_http_errors_into_clear_messages(status, body, code, fragment):
    recorder = Recorder(status, body)
    with pytest.raises(RequisitesError) as caught:
        client_for(recorder).lookup("7707083893")
    assert caught.value.code == code
    assert fragment in caught.value.message
    assert len(recorder.requests) == 1


def test_the_key_echoed_by_a_403_stays_out_of_the_log(caplog):
    with pytest.raises(RequisitesError):
        client_for(serve("error_403_forbidden.json", status=403)).lookup("7707083893")
    assert "HTTP 403" in caplog.text
    assert KEY not in caplog.text and "disabled for token '***'" in caplog.text


@pytest.mark.parametrize(("timeout", "shown"), [(5.0, "за 5 с."), (2.5, "за 2,5 с.")])
def test_it_reports_a_timeout_with_the_configured_seconds(timeout, shown):
    recorder = Recorder(exc=httpx.ReadTimeout("timed out"))
    with pytest.raises(RequisitesError) as caught:
        client_for(recorder, timeout=timeout).lookup("7707083893")
    assert caught.value.code == "timeout"
    assert caught.value.message.startswith("Сервис реквизитов не ответил")
    assert shown in caught.value.message


def test_it_reports_a_network_error():
    recorder = Recorder(exc=httpx.ConnectError("[Errno -3] Temporary failure in name resolution"))
    with pytest.raises(RequisitesError) as caught:
        client_for(recorder).lookup("7707083893")
    assert caught.value.code == "network"
    assert "Не удалось связаться с сервисом реквизитов" in caught.value.message


@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", b'{"suggestions": "none"}', b"[]",
                                  b'{"suggestions": [{"value": "x"}]}'])
def test_it_reports_a_malformed_answer(body):
    with pytest.raises(RequisitesError) as caught:
        client_for(Recorder(200, body)).lookup("7707083893")
    assert caught.value.code == "bad_response"
    assert "непонятный ответ" in caught.value.message


@pytest.mark.parametrize(
    ("inn", "message"),
    [
        ("7707083894", "ИНН 7707083894 не проходит проверку контрольной суммы: проверьте цифры."),
        ("12345", "ИНН должен содержать 10 цифр (организация) или 12 цифр (ИП), а введено 5."),
        ("77070838ab", "ИНН состоит только из цифр."),
        ("", "Введите ИНН, чтобы заполнить реквизиты."),
    ],
)
def test_a_bad_inn_is_refused_without_a_request(inn, message):
    recorder = serve("party_legal_7707083893.json")
    with pytest.raises(RequisitesError) as caught:
        client_for(recorder).lookup(inn)
    assert caught.value.code == "invalid_inn"
    assert caught.value.message == message
    assert recorder.requests == []


def test_without_a_key_it_makes_no_request():
    recorder = serve("party_legal_7707083893.json")
    with pytest.raises(RequisitesError) as caught:
        DadataClient("", transport=recorder.transport).lookup("7707083893")
    assert caught.value.code == "not_configured"
    assert caught.value.message == "Поиск по ИНН не настроен: администратору нужно задать DADATA_API_KEY."
    assert recorder.requests == []


def test_get_client_reads_the_settings(settings):
    settings.DADATA_API_KEY = " secret-key "
    settings.DADATA_TIMEOUT = 2.5
    client = get_client()
    assert (client.api_key, client.timeout, client.transport) == ("secret-key", 2.5, None)
    assert FIND_PARTY_URL == "https://suggestions.dadata.ru/suggestions/api/4_1/rs/findById/party"


# --- the view ---

class Inputs(HTMLParser):
    """The <input>s of a page by name, and the labels' texts by their `for`."""

    def __init__(self, html: str):
        super().__init__()
        self.inputs: dict[str, dict[str, str]] = {}
        self.labels: dict[str, str] = {}
        self._label_for = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "input" and "name" in attrs:
            self.inputs[attrs["name"]] = attrs
        if tag == "label":
            self._label_for = attrs.get("for")
            self.labels[self._label_for] = ""

    def handle_data(self, data):
        if self._label_for:
            self.labels[self._label_for] += data

    def handle_endtag(self, tag):
        if tag == "label":
            self.labels[self._label_for] = " ".join(self.labels[self._label_for].split())
            self._label_for = None

    def values(self) -> dict[str, str]:
        return {name: attrs.get("value", "") for name, attrs in self.inputs.items()}


TYPED = {"inn": "7707083893", "kpp": "000000000", "ogrn": "", "legal_name": 'ООО "Наше <название>"',
         "legal_address": "Москва, где-то"}


@pytest.fixture
def manager(client, db):
    user = UserFactory(role="Менеджер")
    client.force_login(user)
    return user


@pytest.fixture
def dadata(settings, monkeypatch):
    """Point the view's client at a Recorder; the client itself is the real one from settings."""
    settings.DADATA_API_KEY = KEY
    settings.DADATA_TIMEOUT = 5.0

    def use(recorder: Recorder) -> Recorder:
        monkeypatch.setattr(views, "get_client", lambda: get_client(transport=recorder.transport))
        return recorder

    return use


def post(client, data) -> tuple[str, Inputs]:
    response = client.post(URL, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    return html, Inputs(html)


def test_it_fills_the_requisites_from_the_registry(client, manager, dadata):
    recorder = dadata(serve("party_legal_7707083893.json"))
    html, page = post(client, TYPED)

    assert_dadata_request(recorder, {"query": "7707083893", "count": 1, "branch_type": "MAIN"})
    assert page.values() == {
        "inn": "7707083893",
        "kpp": "773601001",
        "ogrn": "1027700132195",
        "legal_name": 'ПУБЛИЧНОЕ АКЦИОНЕРНОЕ ОБЩЕСТВО "СБЕРБАНК РОССИИ"',
        "legal_address": "117312, г Москва, Академический р-н, ул Вавилова, д 19",
    }
    assert "Реквизиты заполнены по данным ФНС (DaData): ПАО СБЕРБАНК, действующая." in html
    assert 'data-testid="requisites-filled"' in html
    assert "Греф Герман Оскарович" in html
    for name, label in (("inn", "ИНН"), ("kpp", "КПП"), ("ogrn", "ОГРН"), ("legal_name", "Полное наименование"),
                        ("legal_address", "Юридический адрес")):
        assert "form-control" in page.inputs[name]["class"].split()
        assert page.inputs[name]["id"] == f"id_{name}"
        assert page.labels[f"id_{name}"] == label


def test_an_individual_entrepreneur_gets_no_kpp(client, manager, dadata):
    dadata(serve("party_individual_772812345609.json"))
    html, page = post(client, {**TYPED, "inn": "772812345609", "kpp": "772801001"})

    assert page.values()["kpp"] == ""
    assert page.values()["ogrn"] == "318774600123452"
    assert page.values()["legal_name"] == "Индивидуальный предприниматель Иванов Иван Иванович"
    assert "ИП Иванов Иван Иванович, действующий." in html


def test_a_liquidated_company_is_filled_with_a_warning(client, manager, dadata):
    dadata(serve("party_liquidated_7728012340.json"))
    html, page = post(client, {**TYPED, "inn": "7728012340"})

    assert page.values()["kpp"] == "772801001"
    assert 'data-testid="requisites-warning"' in html and "alert-warning" in html
    assert 'ООО &quot;РОМАШКА&quot; — ликвидирована 15.03.2021' in html
    assert "Проверьте, тот ли это клиент" in html
    assert 'data-testid="requisites-filled"' not in html


def test_without_a_key_it_says_so_and_keeps_the_values(client, manager, settings, monkeypatch):
    settings.DADATA_API_KEY = ""
    html, page = post(client, TYPED)

    assert "Поиск по ИНН не настроен: администратору нужно задать DADATA_API_KEY." in html
    assert 'data-testid="requisites-error"' in html
    assert page.values() == TYPED


@pytest.mark.parametrize(
    ("recorder", "message"),
    [
        (lambda: serve("party_not_found.json"), "Организация с ИНН 7707083893 не найдена"),
        (lambda: serve("error_403_forbidden.json", status=403), "отказал в доступе (HTTP 403)"),
        (lambda: Recorder(429, b"{}"), "Превышен лимит запросов"),
        (lambda: Recorder(500, b"oops"), "временно недоступен (HTTP 500)"),
        (lambda: Recorder(exc=httpx.ConnectTimeout("timed out")), "Сервис реквизитов не ответил за 5 с."),
        (lambda: Recorder(exc=httpx.ConnectError("refused")), "Не удалось связаться с сервисом реквизитов"),
        (lambda: Recorder(200, b"not json"), "непонятный ответ"),
    ],
)
def test_on_an_error_the_users_values_stay_and_the_message_is_shown(client, manager, dadata, recorder, message):
    recorder = dadata(recorder())
    html, page = post(client, TYPED)

    assert len(recorder.requests) == 1
    assert message in html
    assert 'role="alert"' in html and "alert-danger" in html
    assert page.values() == TYPED  # nothing the manager typed is lost
    assert "Реквизиты заполнены" not in html


def test_a_bad_inn_is_marked_and_nothing_is_sent(client, manager, dadata):
    recorder = dadata(serve("party_legal_7707083893.json"))
    html, page = post(client, {**TYPED, "inn": "7707083894"})

    assert recorder.requests == []
    assert "ИНН 7707083894 не проходит проверку контрольной суммы: проверьте цифры." in html
    assert "is-invalid" in page.inputs["inn"]["class"].split()
    assert page.inputs["inn"]["aria-describedby"] == "requisites-message"
    assert page.values() == {**TYPED, "inn": "7707083894"}


def test_fields_the_host_form_requires_keep_their_asterisk(client, manager, dadata):
    dadata(serve("party_legal_7707083893.json"))
    html, page = post(client, {**TYPED, "required": "inn,legal_name,bogus"})

    assert page.labels["id_inn"] == "ИНН*"
    assert page.labels["id_legal_name"] == "Полное наименование*"
    assert page.labels["id_kpp"] == "КПП"
    assert "bogus" not in html


def test_it_only_answers_post_and_only_to_signed_in_users(client, db, settings):
    settings.DADATA_API_KEY = KEY
    response = client.post(URL, TYPED)
    assert response.status_code == 302 and "/login/" in response["Location"]

    client.force_login(UserFactory())
    assert client.get(URL).status_code == 405


# --- the button ---

def test_the_button_posts_the_requisites_to_the_view(settings):
    settings.DADATA_API_KEY = KEY
    html = render_to_string("crm/_requisites_button.html", {})

    assert "Заполнить по ИНН" in html
    assert f'hx-post="{URL}"' in html
    assert ('hx-include="[name=\'inn\'],[name=\'kpp\'],[name=\'ogrn\'],[name=\'legal_name\'],'
            '[name=\'legal_address\']"') in html
    assert 'hx-target="#requisites-fields"' in html and 'hx-swap="innerHTML"' in html
    assert 'type="button"' in html  # inside the lead's <form>: it must not submit it
    assert "aria-disabled" not in html and " disabled " not in html and "не настроен" not in html


def test_without_a_key_the_button_is_disabled_and_says_why(settings):
    settings.DADATA_API_KEY = ""
    html = render_to_string("crm/_requisites_button.html", {})

    assert "Заполнить по ИНН" in html
    assert '<button type="button" class="btn btn-outline-secondary btn-sm" disabled aria-disabled="true">' in html
    assert 'title="Поиск по ИНН не настроен"' in html
    assert "hx-post" not in html


@pytest.mark.django_db
def test_the_lead_form_shows_the_button_under_the_requisites(settings):
    from leads.forms import LeadForm

    settings.DADATA_API_KEY = KEY
    form = LeadForm()
    form.fields["inn"].required = True
    html = Template("{% load crispy_forms_tags %}{% crispy form %}").render(Context({"form": form}))

    fields_at = html.index('id="requisites-fields"')
    button_at = html.index('data-testid="requisites-lookup"')
    assert fields_at < html.index('name="legal_address"') < button_at
    assert """hx-vals='{"required": "inn"}'""" in html
