"""«Экспорт» in the browser: the menu on every list, carrying its filters and hidden without the
right; the download itself (file name, streaming, 403, refused filters and formats sent back to
the list with the list's own message); the task list's export, whose columns live in exports.py."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Action, Level, Permission
from exchange import exports
from tasks_app import services as task_services
from tests.exchange.test_export_writers import no_temporary_files
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

LISTS = {
    "lead": reverse("leads:list"), "deal": reverse("deals:list"), "company": reverse("clients:company_list"),
    "contact": reverse("clients:contact_list"), "task": reverse("tasks:list"),
}


def export_url(entity: str) -> str:
    return reverse("exchange:export", args=[entity])


def no_export_right(role: str = "Менеджер", entity: str | None = None) -> None:
    rights = Permission.objects.filter(role__name=role, action=Action.EXPORT)
    (rights.filter(entity=entity) if entity else rights).update(level=Level.NONE)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"), newline=""), delimiter=";"))


def make_task(creator, responsible, title, **kwargs):
    data = {"title": title, "responsible": responsible, **kwargs.pop("data", {})}
    return task_services.task_create(data=data, by=creator, **kwargs)


# --- The menu ---

@pytest.mark.parametrize("entity", list(LISTS))
def test_it_offers_the_export_menu_on_every_list_with_its_filters(client, owner, entity):
    client.force_login(owner)
    page = client.get(LISTS[entity], {"q": "Ромашка", "sort": "-created_at", "page": "2"}).content.decode()
    assert 'data-testid="export-menu"' in page
    for fmt in ("csv", "xlsx"):
        link = page.split(f'data-testid="export-{fmt}"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
        url = urlsplit(link)
        assert url.path == export_url(entity)
        # The filters and the order go along; the page number does not (the whole list is exported).
        assert parse_qs(url.query) == {"q": ["Ромашка"], "sort": ["-created_at"], "format": [fmt]}


@pytest.mark.parametrize("entity", list(LISTS))
def test_it_hides_the_export_menu_without_the_right(client, owner, entity):
    no_export_right(entity=entity)
    client.force_login(owner)
    page = client.get(LISTS[entity]).content.decode()
    assert 'data-testid="export-menu"' not in page


def test_it_shows_no_export_menu_on_the_boards(client, owner):
    client.force_login(owner)
    assert 'data-testid="export-menu"' not in client.get(reverse("leads:kanban")).content.decode()
    assert 'data-testid="export-menu"' not in client.get(reverse("deals:board")).content.decode()


# --- The download ---

def test_it_refuses_the_download_without_the_export_right(client, owner):
    make_task(owner, owner, "Позвонить")
    no_export_right(entity="task")
    client.force_login(owner)
    assert client.get(export_url("task"), {"format": "csv"}).status_code == 403


def test_it_answers_an_unknown_list_with_404(client, crm_admin):
    client.force_login(crm_admin)
    assert client.get(export_url("users")).status_code == 404


def test_it_sends_an_anonymous_visitor_to_the_login_page(client):
    response = client.get(export_url("lead"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_it_streams_csv_named_after_the_list_and_the_day(client, owner):
    make_task(owner, owner, "Позвонить в «Ромашку»")
    client.force_login(owner)
    response = client.get(export_url("task"), {"format": "csv"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    # Cyrillic in the file name by RFC 5987 (with an ASCII fallback for old clients).
    assert f"filename*=utf-8''%D0%97%D0%B0%D0%B4%D0%B0%D1%87%D0%B8%20{today}.csv" in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("attachment;")
    rows = csv_rows(response)
    assert rows[0] == [str(h) for h in exports.TASK_HEADERS]
    assert [r[2] for r in rows[1:]] == ["Позвонить в «Ромашку»"]


def test_it_streams_xlsx_without_a_temporary_file(client, owner, monkeypatch):
    make_task(owner, owner, "Позвонить в «Ромашку»")
    client.force_login(owner)
    no_temporary_files(monkeypatch)  # (openpyxl's own save makes one for the sheet)
    response = client.get(export_url("task"), {"format": "xlsx"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert ".xlsx" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).active
    assert sheet["C2"].value == "Позвонить в «Ромашку»"


def test_it_sends_an_unknown_format_back_to_the_list_with_a_message(client, owner):
    client.force_login(owner)
    response = client.get(export_url("lead"), {"format": "pdf", "q": "Ромашка"}, follow=True)
    assert response.redirect_chain[-1][0] == LISTS["lead"] + "?q=%D0%A0%D0%BE%D0%BC%D0%B0%D1%88%D0%BA%D0%B0"
    assert "Неизвестный формат «pdf»: выберите CSV или Excel." in response.content.decode()


def test_it_sends_a_refused_filter_back_to_the_list_with_the_lists_own_message(client, owner):
    client.force_login(owner)
    response = client.get(export_url("lead"), {"format": "csv", "status": "nonsense", "created_after": "31.02.2026"},
                          follow=True)
    assert response.redirect_chain[-1][0].startswith(LISTS["lead"] + "?")
    page = response.content.decode()
    assert "Файл не выгружен" in page
    assert "Статус: Выберите корректный вариант. nonsense нет среди допустимых значений." in page


def test_it_refuses_a_post(client, owner):
    client.force_login(owner)
    assert client.get(export_url("task")).status_code == 200
    assert client.post(export_url("task")).status_code == 405


# --- The tasks list's export (its columns live in exports.py) ---

def test_it_exports_tasks_with_their_people_dates_and_visible_bound_records(client, owner, teammate, outsider, head):
    mine = LeadFactory(title="Лид Иванова", responsible=owner)
    hidden = LeadFactory(title="Лид Сидорова", responsible=outsider)
    deadline = timezone.make_aware(timezone.datetime(2026, 12, 1, 15, 30))
    make_task(head, owner, "=Позвонить", data={"description": "Уточнить бюджет", "deadline": deadline,
                                                "is_important": True},
              coexecutors=[teammate], observers=[head], records=[mine, hidden])
    client.force_login(owner)
    [header, row] = csv_rows(client.get(export_url("task")))
    values = dict(zip(header, row, strict=True))
    assert values["Название"] == "'=Позвонить"  # neutralised
    assert values["Описание"] == "Уточнить бюджет"
    assert values["Статус"] == "Ждёт выполнения"
    assert values["Тип"] == "Задача"
    assert values["Важная задача"] == "Да"
    assert values["Постановщик"] == "Смирнова Ольга"
    assert values["Ответственный"] == "Иванов Пётр"
    assert values["Соисполнители"] == "Петрова Мария"
    assert values["Наблюдатели"] == "Смирнова Ольга"
    assert values["Крайний срок"] == "01.12.2026 15:30:00"
    # Only the bound records the owner may see are named.
    assert values["Элементы CRM"] == "Лид: Лид Иванова"


def test_it_exports_the_tab_and_filters_of_the_tasks_list(client, owner, teammate, head):
    make_task(head, owner, "Делаю: КП")
    make_task(head, owner, "Делаю: звонок")
    make_task(head, teammate, "Помогаю: КП", coexecutors=[owner])
    client.force_login(owner)
    titles = lambda params: [r[2] for r in csv_rows(client.get(export_url("task"), params))[1:]]  # noqa: E731
    assert sorted(titles({})) == ["Делаю: КП", "Делаю: звонок"]
    assert titles({"q": "КП"}) == ["Делаю: КП"]
    # «Помогаю»: a participant reads the task, but his export right covers his own tasks only.
    assert titles({"role": "helping"}) == []
    client.force_login(head)
    assert titles({"role": "all", "q": "КП", "sort": "title"}) == ["Делаю: КП", "Помогаю: КП"]


def test_it_exports_only_the_tasks_the_user_may_export(client, owner, outsider, head):
    make_task(owner, owner, "Задача Иванова")
    make_task(outsider, outsider, "Задача Сидорова")
    Permission.objects.filter(role__name="Руководитель отдела продаж", entity="task", action=Action.EXPORT).update(
        level=Level.OWN)
    client.force_login(head)
    assert csv_rows(client.get(export_url("task"), {"role": "all"}))[1:] == []


def test_it_reads_tasks_in_chunks_with_a_constant_number_of_queries(owner, head, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 5)
    lead = LeadFactory(responsible=owner)

    def queries(count: int) -> int:
        from tasks_app.models import Task

        Task.objects.all().delete()
        for i in range(count):
            make_task(head, owner, f"Задача {i}", coexecutors=[head], observers=[head], records=[lead])
        headers, rows = exports.rows("task", owner)
        with CaptureQueriesContext(connection) as captured:
            assert len(list(rows)) == count
        return len(captured)

    one, two, three = queries(3), queries(8), queries(13)
    assert queries(1) == one  # within a chunk, the rows cost nothing more
    assert three - two == two - one > 0  # each chunk costs the same few queries


def test_the_export_costs_a_fixed_number_of_queries(client, owner, head, django_assert_max_num_queries):
    lead = LeadFactory(responsible=owner)
    for i in range(30):
        make_task(head, owner, f"Задача {i}", coexecutors=[head], records=[lead])
    client.force_login(owner)
    with django_assert_max_num_queries(16):
        response = client.get(export_url("task"))
        assert response.status_code == 200
        assert len(csv_rows(response)) == 31
