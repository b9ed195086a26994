"""The «Импорт» page per persona: a manager is refused, a head uploads a file, sees its columns
mapped and its first rows, checks it (the dry run, by the worker's task), imports it and downloads
the report; bad files and bad parameters get a Russian message and leave nothing behind. The tasks
run at once here (the test settings' immediate backend) through the same task function the worker
runs; test_import_page_worker.py runs it in the real worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exchange import services
from exchange.models import ImportJob
from leads.models import Lead
from notifications.models import Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
State = ImportJob.State

CSV = ("Название лида;Название компании;Источник;Рабочий телефон;Комментарий\n"
       "Поставка ЖБИ;ООО «Бетон»;Контур.Компас;+7 912 859-87-48;первый\n"
       "Ремонт кровли;ООО «Кровля»;Контур.Компас;+7 912 859-87-49;второй\n"
       ";;Контур.Компас;;третий\n")


@pytest.fixture(autouse=True)
def _own_import_root(settings, tmp_path):
    """Each test's uploads in a folder of its own: what a test leaves behind is its own."""
    settings.IMPORT_ROOT = tmp_path / "imports"


def csv_file(text: str = CSV, name: str = "leads.csv", encoding: str = "utf-8-sig") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def upload(client, user, *, file=None, **fields):
    client.force_login(user)
    data = {"entity": "lead", "on_duplicate": "skip", "file": file or csv_file(), **fields}
    return client.post(reverse("exchange:import"), data)


def kept_files() -> list[Path]:
    return [p for p in Path(settings.IMPORT_ROOT).rglob("*") if p.is_file()]


def mapping_post(job: ImportJob, **changes) -> dict:
    """The mapping form as the page shows it (the suggestion), with `changes` by header."""
    headers = list(dict.fromkeys(job.headers))
    chosen = {**job.mapping, **changes}
    return {f"col_{i}": chosen.get(header, "") for i, header in enumerate(headers)}


@pytest.fixture
def uploaded(client, head) -> ImportJob:
    response = upload(client, head)
    assert response.status_code == 302, response.content.decode()
    return ImportJob.objects.get()


# --- Who may ---

def test_it_refuses_the_page_to_a_manager_and_shows_no_menu_entry(client, owner):
    client.force_login(owner)
    assert client.get(reverse("exchange:import")).status_code == 403
    assert upload(client, owner).status_code == 403
    assert not ImportJob.objects.exists() and not kept_files()
    assert reverse("exchange:import") not in client.get(reverse("leads:list")).content.decode()


def test_it_shows_a_head_the_page_the_menu_entry_and_preselects_the_entity(client, head, django_assert_max_num_queries):
    client.force_login(head)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("exchange:import"), {"entity": "contact"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Новый импорт" in page and f'href="{reverse("exchange:import")}"' in page
    assert '<option value="contact" selected>' in page
    # A bad parameter is left out, the page still shows.
    assert client.get(reverse("exchange:import"), {"entity": "task", "page": "x"}).status_code == 200


def test_it_lists_only_my_jobs_and_within_a_query_budget(client, head, org, django_assert_max_num_queries):
    other = UserFactory(department=org["sales"], role="Руководитель отдела продаж")
    upload(client, other, file=csv_file(name="чужой.csv"))
    for n in range(3):
        upload(client, head, file=csv_file(name=f"мой-{n}.csv"))
    client.force_login(head)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("exchange:import"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="import-job"') == 3 and "мой-2.csv" in page and "чужой.csv" not in page


# --- Upload ---

def test_it_uploads_a_csv_and_shows_its_columns_with_the_suggested_fields_and_first_rows(
        client, head, uploaded, django_assert_max_num_queries):
    job = uploaded
    assert job.state == State.UPLOADED and job.created_by == head and job.original_name == "leads.csv"
    assert job.headers == ["Название лида", "Название компании", "Источник", "Рабочий телефон", "Комментарий"]
    assert job.mapping["Название лида"] == "title" and job.sample[0][0] == "Поставка ЖБИ"
    assert job.file_path.read_bytes() == CSV.encode("utf-8-sig")
    assert not Path(job.file_path).is_relative_to(settings.MEDIA_ROOT)
    with django_assert_max_num_queries(10):
        response = client.get(job.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="import-column"') == 5
    assert '<option value="title" selected>' in page and "Поставка ЖБИ" in page and "Проверить" in page


def test_it_uploads_an_xlsx_too(client, head):
    import io

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Название лида", "Рабочий телефон"])
    book.active.append(["Поставка ЖБИ", "+7 912 859-87-48"])
    data = io.BytesIO()
    book.save(data)
    assert upload(client, head, file=SimpleUploadedFile("База.xlsx", data.getvalue())).status_code == 302
    job = ImportJob.objects.get()
    assert job.format == "xlsx" and job.file_path.suffix == ".xlsx" and job.sample == [["Поставка ЖБИ", "+7 912 859-87-48"]]
    assert job.mapping == {"Название лида": "title", "Рабочий телефон": "company_phone"}


@pytest.mark.parametrize(("name", "text", "message"), [
    ("leads.pdf", CSV, "Импортируются файлы CSV, XLSX и XLS"),
    ("leads.csv", "", "Файл пуст"),
])
def test_it_refuses_a_bad_file_with_a_message_and_keeps_nothing(client, head, name, text, message):
    response = upload(client, head, file=csv_file(text=text, name=name, encoding="utf-8"))
    assert response.status_code == 400 and message in response.content.decode()
    assert not ImportJob.objects.exists() and not kept_files()


def test_it_refuses_a_file_that_is_not_a_table_with_the_readers_message(client, head):
    response = upload(client, head, file=SimpleUploadedFile("leads.csv", bytes(range(256)) * 40))
    assert response.status_code == 400 and "Файл не похож на таблицу" in response.content.decode()
    assert not ImportJob.objects.exists() and not kept_files()


def test_it_refuses_a_file_over_the_size_limit(client, head, settings):
    settings.IMPORT_MAX_FILE_SIZE = 50
    response = upload(client, head)
    assert response.status_code == 400 and "Файл больше 50" in response.content.decode()
    assert not kept_files()


@pytest.mark.parametrize("fields", [
    {"entity": "task"}, {"entity": ""}, {"on_duplicate": "merge"}, {"default_responsible": "999999"},
    {"default_responsible": "abc"},
])
def test_it_refuses_bad_parameters_with_a_message(client, head, fields):
    response = upload(client, head, **fields)
    assert response.status_code == 400 and 'class="invalid-feedback d-block"' in response.content.decode()
    assert not ImportJob.objects.exists()


def test_it_offers_as_default_responsible_only_the_heads_people(client, head, owner, org):
    stranger = UserFactory(department=org["root"], role="Менеджер")
    response = upload(client, head, default_responsible=str(stranger.pk))
    assert response.status_code == 400 and not ImportJob.objects.exists()
    assert upload(client, head, default_responsible=str(owner.pk)).status_code == 302
    assert ImportJob.objects.get().options["default_responsible"] == owner.pk


# --- Mapping, check, import ---

def test_it_checks_the_file_in_the_task_without_writing_a_lead(client, head, uploaded, django_capture_on_commit_callbacks):
    job = uploaded
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exchange:import_mapping", args=[job.pk]), mapping_post(job, Комментарий=""))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == State.CHECKED and job.dry_run and job.mapping["Комментарий"] == ""
    assert (job.created, job.rejected) == (2, 1)
    assert [line["row"] for line in job.report_lines if line["outcome"] == "rejected"] == [4]
    assert not Lead.objects.exists()
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'data-testid="import-created">2<' in page and "Импортировать" in page and "Изменить сопоставление" in page
    report = client.get(reverse("exchange:import_report", args=[job.pk]))
    assert report.status_code == 200 and "attachment" in report["Content-Disposition"]
    assert "4" in b"".join(report.streaming_content).decode("utf-8-sig")


def test_it_imports_a_checked_file_and_tells_the_head(client, head, uploaded, django_capture_on_commit_callbacks,
                                                      django_assert_max_num_queries):
    job = uploaded
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("exchange:import_mapping", args=[job.pk]), mapping_post(job))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exchange:import_start", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == State.DONE and not job.dry_run and job.created == 2 and job.finished_at
    assert sorted(Lead.objects.values_list("title", flat=True)) == ["Поставка ЖБИ", "Ремонт кровли"]
    assert Notification.objects.filter(recipient=head, url=job.get_absolute_url()).count() == 2  # check + import
    with django_assert_max_num_queries(10):
        page = client.get(job.get_absolute_url())
    assert page.status_code == 200 and reverse("leads:list") in page.content.decode()
    # Done is done: a second click imports nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("exchange:import_start", args=[job.pk]))
    assert Lead.objects.count() == 2


def test_it_imports_only_a_checked_file(client, head, uploaded):
    response = client.post(reverse("exchange:import_start", args=[uploaded.pk]), follow=True)
    assert "Сначала проверьте файл" in response.content.decode()
    assert ImportJob.objects.get().state == State.UPLOADED and not Lead.objects.exists()


@pytest.mark.parametrize("change", [{"col_0": "phone_work"}, {"col_1": "no_such_field"}, {f"col_{i}": "" for i in range(5)}])
def test_it_refuses_a_bad_mapping_and_keeps_the_job_as_it_was(client, head, uploaded, change):
    job = uploaded
    response = client.post(reverse("exchange:import_mapping", args=[job.pk]), {**mapping_post(job), **change})
    assert response.status_code == 400 and 'data-testid="import-mapping-error"' in response.content.decode()
    job.refresh_from_db()
    assert job.state == State.UPLOADED and job.mapping["Название лида"] == "title"


def test_two_columns_fill_one_field_only_where_the_importer_knows_both(client, head,
                                                                       django_capture_on_commit_callbacks):
    """Bitrix24's «Мобильный телефон» and «Домашний телефон» both fill the lead's contact phone (the
    page suggests it and must accept its own suggestion); two other columns on one field are refused."""
    text = ("Название лида;Название компании;Источник;Рабочий телефон;Мобильный телефон;Домашний телефон;Дата создания\n"
            "Поставка ЖБИ;ООО «Бетон»;Сайт;+7 912 859-87-48;;+7 912 000-00-02;01.02.2026 10:00:00\n")
    upload(client, head, file=csv_file(text))
    job = ImportJob.objects.get()
    assert job.mapping["Мобильный телефон"] == job.mapping["Домашний телефон"] == "contact_phone"
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'value="created_at"' not in page  # written by exports, never read: not offered

    url = reverse("exchange:import_mapping", args=[job.pk])
    refused = client.post(url, mapping_post(job, **{"Название компании": "title"}))
    assert refused.status_code == 400 and "уже выбрано для колонки «Название лида»" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # as the browser sends it: «Дата создания» unselected
        accepted = client.post(url, mapping_post(job, **{"Дата создания": ""}))
    assert accepted.status_code == 302
    job.refresh_from_db()
    assert job.state == State.CHECKED and (job.created, job.rejected) == (1, 0)


def test_it_lets_the_mapping_be_changed_after_the_check(client, head, uploaded, django_capture_on_commit_callbacks):
    job = uploaded
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("exchange:import_mapping", args=[job.pk]), mapping_post(job))
    page = client.get(reverse("exchange:import_mapping", args=[job.pk]))
    assert page.status_code == 200 and page.content.decode().count('data-testid="import-column"') == 5
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("exchange:import_mapping", args=[job.pk]), mapping_post(job, **{"Название компании": ""}))
    job.refresh_from_db()
    assert job.state == State.CHECKED and job.mapping["Название компании"] == "" and (job.created, job.rejected) == (0, 3)


def test_it_records_a_failure_of_the_run_on_the_job_and_tells_the_head(client, head, uploaded, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("exchange.importers.run", broken)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("exchange:import_mapping", args=[uploaded.pk]), mapping_post(uploaded))
    job = ImportJob.objects.get()
    assert job.state == State.FAILED and "RuntimeError" in job.error and job.finished_at
    assert Notification.objects.filter(recipient=head, url=job.get_absolute_url()).exists()
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Проверка не удалась" in page and "проверить снова" in page


def test_it_fails_the_job_when_its_report_cannot_be_written(client, head, uploaded, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("exchange.importers.write_report", full_disk)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("exchange:import_mapping", args=[uploaded.pk]), mapping_post(uploaded))
    job = ImportJob.objects.get()
    assert job.state == State.FAILED and "OSError" in job.error


def test_it_runs_a_task_delivered_twice_once(head, uploaded):
    from exchange.tasks import run_import

    services.job_check(uploaded, by=head)  # its task is queued after a commit that never comes here
    assert run_import.call(uploaded.pk, True) == "done"
    assert run_import.call(uploaded.pk, True) == "not waiting"
    assert ImportJob.objects.get().state == State.CHECKED


# --- The bar ---

def test_it_polls_the_bar_while_the_worker_has_the_job_and_reloads_when_done(client, head, uploaded,
                                                                            django_assert_max_num_queries):
    job = uploaded
    services.job_check(job, by=head)  # queued; nothing runs it in this test
    services.job_claim(job.pk, dry_run=True)
    # As Progress writes it from the worker (here the test's transaction would hide it: see the worker test).
    ImportJob.objects.filter(pk=job.pk).update(rows_done=2)
    url = reverse("exchange:import_progress", args=[job.pk])
    with django_assert_max_num_queries(8):
        response = client.get(url, **HTMX)
    assert response.status_code == 200
    bar = response.content.decode()
    assert 'hx-trigger="every 1s"' in bar and "Обработано строк: 2 из ~3" in bar and "66%" in bar
    assert 'data-testid="import-progress"' in client.get(job.get_absolute_url()).content.decode()
    assert client.get(url).status_code == 302  # without htmx: the job's page
    services.job_fail(job.pk, "Стоп")
    done = client.get(url, **HTMX)
    assert done.status_code == 204 and done["HX-Refresh"] == "true"


def test_it_shows_rows_per_second_and_the_time_left(client, head, uploaded):
    from datetime import timedelta

    from django.utils import timezone

    services.job_check(uploaded, by=head)
    services.job_claim(uploaded.pk, dry_run=True)
    now = timezone.now()
    ImportJob.objects.filter(pk=uploaded.pk).update(rows_done=1000, rows_total=4000, started_at=now - timedelta(seconds=10),
                                                    progress_at=now)
    bar = client.get(reverse("exchange:import_progress", args=[uploaded.pk]), **HTMX).content.decode()
    assert "1\xa0000 из ~4\xa0000" in bar and "100 строк/с" in bar and "осталось ~31 с" in bar and "25%" in bar
    # Silent for long: the worker may be down, and the page says so.
    ImportJob.objects.filter(pk=uploaded.pk).update(progress_at=now - timedelta(minutes=10))
    assert 'data-testid="import-silent"' in client.get(uploaded.get_absolute_url()).content.decode()


# --- Others' jobs ---

def test_it_hides_a_heads_job_from_another_head(client, uploaded, org):
    other = UserFactory(department=org["sales"], role="Руководитель отдела продаж")
    client.force_login(other)
    for name in ("import_job", "import_mapping", "import_progress", "import_report"):
        assert client.get(reverse(f"exchange:{name}", args=[uploaded.pk])).status_code == 404
    assert client.post(reverse("exchange:import_start", args=[uploaded.pk])).status_code == 404


def test_it_shows_the_crm_admin_every_job_but_runs_none(client, crm_admin, uploaded):
    client.force_login(crm_admin)
    assert "leads.csv" in client.get(reverse("exchange:import")).content.decode()
    page = client.get(uploaded.get_absolute_url())
    assert page.status_code == 200 and 'data-testid="import-column"' not in page.content.decode()
    assert "ещё не проверен" in page.content.decode()
    assert client.post(reverse("exchange:import_mapping", args=[uploaded.pk]), mapping_post(uploaded)).status_code == 403


# --- Housekeeping ---

def test_it_removes_the_files_of_old_jobs_and_keeps_the_jobs(head, uploaded):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    fresh = services.job_upload(by=head, entity="lead", upload=csv_file(name="свежий.csv"), options={})
    ImportJob.objects.filter(pk=uploaded.pk).update(created_at=timezone.now() - timedelta(days=31))
    call_command("purge_imports")
    old = ImportJob.objects.get(pk=uploaded.pk)
    assert old.path == "" and not uploaded.file_path.exists()
    assert ImportJob.objects.get(pk=fresh.pk).file_path.exists()
    with pytest.raises(services.JobError, match="уже удалён"):
        services.job_check(old, by=head)



# --- The admin ---

def staff(user):
    from django.contrib.auth.models import Permission

    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(Permission.objects.get(content_type__app_label="exchange", codename="view_importjob"))
    return user


def test_the_admin_lists_the_jobs_as_the_page_does_read_only_with_a_link_to_the_page(
        client, head, org, uploaded, django_assert_max_num_queries):
    other = UserFactory(department=org["sales"], role="Руководитель отдела продаж")
    upload(client, other, file=csv_file(name="чужой.csv"))
    client.force_login(staff(head))
    with django_assert_max_num_queries(14):
        response = client.get(reverse("admin:exchange_importjob_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "leads.csv" in page and "чужой.csv" not in page and f'href="{reverse("exchange:import")}"' in page
    change = client.get(reverse("admin:exchange_importjob_change", args=[uploaded.pk]))
    assert change.status_code == 200 and uploaded.get_absolute_url() in change.content.decode()
    assert 'name="_save"' not in change.content.decode()
    theirs = ImportJob.objects.get(original_name="чужой.csv")
    assert client.get(reverse("admin:exchange_importjob_change", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("admin:exchange_importjob_delete", args=[uploaded.pk]), {"post": "yes"}).status_code == 403
    assert ImportJob.objects.filter(pk=uploaded.pk).exists()
