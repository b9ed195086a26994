"""`manage.py export_leads FILE --as USER [--filter QUERY]` (and companies, contacts, deals, tasks):
what a supervisor's cron job runs — the list as USER sees it, CSV or XLSX by the extension, a
progress line on stderr, «Выгружено: N» last, and a Russian CommandError for what it cannot do,
leaving no half-written file behind."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from accounts.models import Action, Level, Permission
from leads.models import Status
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

COMMANDS = {"export_leads": "lead", "export_companies": "company", "export_contacts": "contact",
            "export_deals": "deal", "export_tasks": "task"}


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def read_csv(path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""), delimiter=";"))


@pytest.fixture
def leads(owner, teammate, outsider):
    LeadFactory(title="Лид Иванова", responsible=owner)
    LeadFactory(title="Лид Петровой", responsible=teammate, status=Status.FIRST_CALL)
    LeadFactory(title="Лид Сидорова", responsible=outsider)


def test_it_exports_the_leads_a_user_sees_with_the_lists_filters(head, leads, tmp_path):
    path = tmp_path / "лиды.csv"
    out, err = run("export_leads", str(path), "--as", head.username, "--filter", "status=new&sort=title")
    assert [r["Название лида"] for r in read_csv(path)] == ["Лид Иванова", "Лид Сидорова"]
    assert out.splitlines()[-1] == "Выгружено: 2"
    # Not a terminal: a plain last line for the log (the bar itself on a terminal).
    assert "Лиды: готово, 2 строк" in err


def test_a_manager_exports_only_his_own(owner, leads, tmp_path):
    path = tmp_path / "mine.xlsx"
    out, _err = run("export_leads", str(path), "--as", owner.username)
    sheet = openpyxl.load_workbook(path).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Лид Иванова"]
    assert out.splitlines()[-1] == "Выгружено: 1"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_list_has_its_command(crm_admin, command, tmp_path):
    path = tmp_path / "export.csv"
    out, _err = run(command, str(path), "--as", crm_admin.username)
    assert out.splitlines()[-1] == "Выгружено: 0"
    assert path.read_bytes().startswith("\ufeff".encode())


def test_it_refuses_a_file_that_is_neither_csv_nor_xlsx(head, tmp_path):
    with pytest.raises(CommandError, match=r"Не понимаю формат файла «leads.xls»: укажите имя с расширением \.csv или \.xlsx"):
        run("export_leads", str(tmp_path / "leads.xls"), "--as", head.username)


def test_it_refuses_an_unknown_or_inactive_user(head, tmp_path):
    with pytest.raises(CommandError, match="Пользователя «nobody» нет"):
        run("export_leads", str(tmp_path / "x.csv"), "--as", "nobody")
    head.is_active = False
    head.save()
    with pytest.raises(CommandError, match="отключён"):
        run("export_leads", str(tmp_path / "x.csv"), "--as", head.username)


def test_it_needs_the_as_option(tmp_path):
    with pytest.raises(CommandError, match="--as"):
        run("export_leads", str(tmp_path / "x.csv"))


def test_it_refuses_a_user_without_the_export_right_and_writes_nothing(owner, leads, tmp_path):
    Permission.objects.filter(role__name="Менеджер", entity="lead", action=Action.EXPORT).update(level=Level.NONE)
    with pytest.raises(CommandError, match="нет права на экспорт: «Лиды» выгружать нельзя"):
        run("export_leads", str(tmp_path / "x.csv"), "--as", owner.username)
    assert list(tmp_path.iterdir()) == []


def test_it_refuses_a_filter_the_list_refuses_and_keeps_the_old_file(head, leads, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("вчерашняя выгрузка")
    with pytest.raises(CommandError, match="Фильтр не принят: Статус: Выберите корректный вариант"):
        run("export_leads", str(path), "--as", head.username, "--filter", "status=nonsense")
    assert path.read_text() == "вчерашняя выгрузка"
    assert list(tmp_path.iterdir()) == [path]


def test_it_leaves_no_half_written_file_when_writing_fails(head, leads, tmp_path, monkeypatch):
    from exchange import writers

    def broken(*args, **kwargs):
        raise OSError("Нет места на диске")

    monkeypatch.setattr(writers, "write_csv", broken)
    with pytest.raises(OSError):
        run("export_leads", str(tmp_path / "leads.csv"), "--as", head.username)
    assert list(tmp_path.iterdir()) == []


def test_it_refuses_a_folder_that_does_not_exist(head, tmp_path):
    with pytest.raises(CommandError, match="Папки .* нет"):
        run("export_leads", str(tmp_path / "нет" / "leads.csv"), "--as", head.username)
