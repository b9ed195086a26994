"""The «Импорт» page in a browser, with the real worker: the head of sales opens «Импорт» from the
menu, uploads a CSV, maps the column the CRM did not recognise, clicks «Проверить» and watches the
bar wait for the worker — started only then, so the page's polling is what brings the result —,
sees the check's numbers, clicks «Импортировать», downloads the report and finds the leads in
the list.

The worker is `manage.py db_worker` in a subprocess on the test's database (as scripts/run starts
it); the live server enqueues into the database queue. It needs PostgreSQL: the suite's SQLite
database is in memory, out of another process's reach."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent.parent
CSV = ("Название лида;Организация;Источник;Рабочий телефон\n"
       "Поставка ЖБИ;ООО «Бетон»;Контур.Компас;+7 912 859-87-48\n"
       "Ремонт кровли;ООО «Кровля»;Контур.Компас;+7 912 859-87-49\n")


@pytest.fixture
def worker(settings, tmp_path):
    """start() runs the real worker until the test ends; it is stopped before the database is
    emptied (its polling would otherwise meet the TRUNCATE)."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker needs a database another process can open (the suite's SQLite is in memory)")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.IMPORT_ROOT = tmp_path / "imports"
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "TASKS_BACKEND": "django_tasks_db.DatabaseBackend", "TEST_IMPORT_ROOT": str(settings.IMPORT_ROOT),
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}
    started = []
    log = tmp_path / "worker.log"  # a file, not a pipe: a pipe nobody reads could fill and stall the worker

    def start():
        with log.open("w") as out:
            started.append(subprocess.Popen(
                [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "--no-reload", "--no-startup-delay"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=20)
    if started and "Traceback" in log.read_text():
        print(log.read_text())


def test_a_head_imports_leads_from_a_csv_through_the_worker(live_server, page, login, head, worker, tmp_path):
    file = tmp_path / "Контур leads.csv"
    file.write_text(CSV, encoding="utf-8-sig")
    login(head)
    page.get_by_test_id("menu").get_by_role("link", name="Импорт").click()
    new = page.get_by_test_id("import-new")
    new.get_by_label("Что импортировать").select_option(label="Лиды")
    new.get_by_label("Файл").set_input_files(file)
    page.get_by_test_id("import-upload").click()

    # The mapping: «Организация» is not a header the CRM knows; the head points it at the company.
    columns = page.get_by_test_id("import-column")
    expect(columns).to_have_count(4)
    expect(page.get_by_label("Название лида", exact=True)).to_have_value("title")
    expect(page.get_by_test_id("import-mapping")).to_contain_text("ООО «Бетон»")
    organisation = page.get_by_label("Организация", exact=True)
    expect(organisation).to_have_value("")
    organisation.select_option(label="Название компании")
    page.screenshot(path="screenshots/import-mapping.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="screenshots/import-mapping-phone.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 860})
    page.get_by_test_id("import-check").click()

    # No worker yet: the bar waits; the worker starts and the polling brings the check's numbers.
    expect(page.get_by_test_id("import-progress")).to_contain_text("Ждёт своей очереди")
    page.screenshot(path="screenshots/import-waiting.png", full_page=True)
    worker()
    expect(page.get_by_test_id("import-result")).to_contain_text("Результат проверки", timeout=30_000)
    expect(page.get_by_test_id("import-created")).to_have_text("2")
    expect(page.get_by_test_id("import-rejected")).to_have_text("0")
    page.screenshot(path="screenshots/import-checked.png", full_page=True)

    page.get_by_test_id("import-start").click()
    expect(page.get_by_test_id("import-result")).to_contain_text("Импорт завершён", timeout=30_000)
    expect(page.get_by_test_id("import-state")).to_have_text("Готово")
    expect(page.get_by_test_id("import-created")).to_have_text("2")
    page.screenshot(path="screenshots/import-done.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="screenshots/import-done-phone.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 860})

    with page.expect_download() as download:
        page.get_by_test_id("import-report").click()
    report = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert report.splitlines()[0] == "Строка;Колонка;Значение;Сообщение"
    assert download.value.suggested_filename.endswith("отчёт импорта.csv")

    page.get_by_test_id("import-open-list").click()
    expect(page.get_by_text("Поставка ЖБИ")).to_be_visible()
    expect(page.get_by_text("Ремонт кровли")).to_be_visible()

    page.goto(f"{live_server.url}/exchange/import/")
    expect(page.get_by_test_id("import-job")).to_have_count(1)
    expect(page.get_by_test_id("import-job")).to_contain_text("Готово")
    page.screenshot(path="screenshots/import-list.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="screenshots/import-list-phone.png", full_page=True)


# Bitrix24's lead export: the contact's phone in «Мобильный телефон» or «Домашний телефон» (both go
# to the lead's one contact phone, the first filled wins), the company under a header of its own.
BITRIX_CSV = ("ID;Название лида;Организация;Источник;Рабочий телефон;Мобильный телефон;Домашний телефон\n"
              "101;Поставка ЖБИ;ООО «Бетон»;WEB;+7 912 859-87-48;+7 912 000-00-01;\n"
              "102;Ремонт кровли;ООО «Кровля»;CALL;+7 912 859-87-49;;+7 912 000-00-02\n")


def test_a_head_changes_the_mapping_after_the_check_and_checks_again(live_server, page, login, head, worker, tmp_path):
    from leads.models import Lead

    file = tmp_path / "LEAD.csv"
    file.write_text(BITRIX_CSV, encoding="utf-8-sig")
    worker()
    login(head)
    page.goto(f"{live_server.url}/exchange/import/")
    new = page.get_by_test_id("import-new")
    new.get_by_label("Что импортировать").select_option(label="Лиды")
    new.get_by_label("Файл").set_input_files(file)
    page.get_by_test_id("import-upload").click()

    # Checked as suggested: both phone columns go to the contact's phone; «Организация» to nothing,
    # so no lead has its company and every row is refused.
    expect(page.get_by_label("Мобильный телефон", exact=True)).to_have_value("contact_phone")
    expect(page.get_by_label("Домашний телефон", exact=True)).to_have_value("contact_phone")
    expect(page.get_by_label("Организация", exact=True)).to_have_value("")
    page.get_by_test_id("import-check").click()
    expect(page.get_by_test_id("import-result")).to_contain_text("Результат проверки", timeout=30_000)
    expect(page.get_by_test_id("import-created")).to_have_text("0")
    expect(page.get_by_test_id("import-rejected")).to_have_text("2")

    page.get_by_test_id("import-edit-mapping").click()
    organisation = page.get_by_label("Организация", exact=True)
    expect(organisation).to_have_value("")
    organisation.select_option(label="Название компании")
    page.get_by_test_id("import-check").click()
    expect(page.get_by_test_id("import-result")).to_contain_text("Результат проверки", timeout=30_000)
    expect(page.get_by_test_id("import-created")).to_have_text("2")
    expect(page.get_by_test_id("import-rejected")).to_have_text("0")
    assert not Lead.objects.exists()  # a check writes nothing

    page.get_by_test_id("import-start").click()
    expect(page.get_by_test_id("import-result")).to_contain_text("Импорт завершён", timeout=30_000)
    expect(page.get_by_test_id("import-created")).to_have_text("2")
    leads = {lead.external_id: lead for lead in Lead.objects.select_related("source")}
    assert {k: (v.company_name, v.contact_phone, v.source.name) for k, v in leads.items()} == {
        "101": ("ООО «Бетон»", "+79120000001", "Сайт"), "102": ("ООО «Кровля»", "+79120000002", "Входящий звонок")}
