"""The disk's pages: the storages and folders, «Доступные мне», «Корзина», uploads through the
views disk.js calls, and each dialog's action — per persona, with refusals and bad parameters."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from disk import services
from disk.models import File, Folder, PublicLink, Share

from .conftest import content

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def login(client, user):
    client.force_login(user)
    return client


def post_upload(client, url, name="КП.pdf", data=b"%PDF-1.4 offer"):
    return client.post(url, {"file": SimpleUploadedFile(name, data, content_type="application/pdf")},
                       HTTP_X_REQUESTED_WITH="XMLHttpRequest")


def names(response) -> list[str]:
    return [row.split('"', 1)[0] for row in response.content.decode().split('data-testid="disk-item" data-name="')[1:]]


# --- Pages ---

def test_it_opens_my_disk_with_the_storages_switch_and_the_quota(client, owner, my_disk):
    services.upload(my_disk.root, content("x" * 1500), "Прайс.xlsx", owner)
    response = login(client, owner).get(reverse("disk:index"))
    page = response.content.decode()
    assert response.status_code == 200
    assert names(response) == ["Прайс.xlsx"]
    for label in ("Мой диск", "Общий диск", owner.department.name, "Доступные мне", "Корзина",
                  "Занято 1,5\xa0КБ из 10,0\xa0ГБ"):
        assert label in page, label
    assert f'data-upload-url="{reverse("disk:upload", args=[my_disk.root_id])}"' in page


def test_it_shows_a_folder_with_its_breadcrumbs_sizes_and_author(client, owner, my_disk):
    contracts = services.folder_create(my_disk.root, "Договоры", owner)
    signed = services.folder_create(contracts, "Подписанные", owner)
    services.upload(signed, content(b"x" * (1258291)), "Договор №5.pdf", owner)
    response = login(client, owner).get(reverse("disk:folder", args=[signed.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    crumbs = page.split('data-testid="disk-crumbs"')[1].split("</ol>")[0]
    assert crumbs.index("Мой диск") < crumbs.index("Договоры") < crumbs.index("Подписанные")
    assert "1,2\xa0МБ" in page and "Иванов Пётр" in page


def test_it_hides_a_colleague_s_disk_and_shows_it_to_the_head_of_sales(client, owner, teammate, outsider, head, my_disk):
    folder = services.folder_create(my_disk.root, "Личное", owner)
    url = reverse("disk:folder", args=[folder.pk])
    assert login(client, teammate).get(url).status_code == 404
    assert login(client, outsider).get(url).status_code == 404
    response = login(client, head).get(url)
    crumbs = response.content.decode().split('data-testid="disk-crumbs"')[1].split("</ol>")[0]
    assert response.status_code == 200
    assert "Диск: Иванов Пётр" in crumbs and "Доступные мне" not in crumbs and "Мой диск" not in crumbs


def test_it_shows_a_department_s_disk_to_its_members_and_those_of_the_departments_below(client, owner, outsider,
                                                                                         head, org):
    disk = services.department_storage(org["group1"])
    url = reverse("disk:folder", args=[disk.root_id])
    assert f'href="{url}"' in login(client, owner).get(reverse("disk:index")).content.decode()
    assert f'href="{url}"' not in login(client, outsider).get(reverse("disk:index")).content.decode()
    assert client.get(url).status_code == 404
    above = services.department_storage(org["sales"])
    assert login(client, owner).get(reverse("disk:folder", args=[above.root_id])).status_code == 200
    assert "Отдел продаж" in client.get(reverse("disk:index")).content.decode()


def test_it_empties_a_trash_holding_a_folder_and_a_folder_deleted_inside_it_before(client, owner, my_disk):
    outer = services.folder_create(my_disk.root, "Проекты", owner)
    inner = services.folder_create(outer, "2024", owner)
    services.upload(inner, content("x"), "План.txt", owner)
    services.delete(inner, owner)
    services.delete(outer, owner)
    response = login(client, owner).post(reverse("disk:trash_empty", args=[my_disk.pk]), **HTMX)
    assert response.status_code == 200 and "crm:close-modal" in response["HX-Trigger"]
    assert list(Folder.objects.filter(storage=my_disk).values_list("name", flat=True)) == ["Мой диск"]
    assert not File.objects.exists()


def test_it_sorts_by_name_size_date_and_author(client, owner, teammate, org):
    common = services.common_storage()
    services.upload(common.root, content("22"), "б.txt", owner)
    services.upload(common.root, content("1"), "А.txt", teammate)
    services.upload(common.root, content("333"), "в.txt", owner)
    login(client, owner)
    url = reverse("disk:folder", args=[common.root_id])
    assert names(client.get(url)) == ["А.txt", "б.txt", "в.txt"]
    assert names(client.get(url, {"sort": "-size"})) == ["в.txt", "б.txt", "А.txt"]
    assert names(client.get(url, {"sort": "-date"})) == ["в.txt", "А.txt", "б.txt"]
    assert names(client.get(url, {"sort": "author"})) == ["б.txt", "в.txt", "А.txt"]


def test_it_lists_folders_then_files_each_in_the_natural_name_order_both_ways(client, owner, my_disk):
    for name in ("Папка 10", "папка 9"):
        services.folder_create(my_disk.root, name, owner)
    for name in ("Файл 1.txt", "Файл 10.txt", "файл 3.txt", "Файл 2.txt"):
        services.upload(my_disk.root, content("x"), name, owner)
    login(client, owner)
    assert names(client.get(reverse("disk:index"), {"sort": "name"})) == [
        "папка 9", "Папка 10", "Файл 1.txt", "Файл 2.txt", "файл 3.txt", "Файл 10.txt"]
    assert names(client.get(reverse("disk:index"), {"sort": "-name"})) == [
        "Папка 10", "папка 9", "Файл 10.txt", "файл 3.txt", "Файл 2.txt", "Файл 1.txt"]


def test_it_turns_the_current_order_keeping_the_search_and_the_view_and_going_back_to_page_1(client, owner, my_disk):
    services.upload(my_disk.root, content("x"), "Счёт.pdf", owner)
    response = login(client, owner).get(reverse("disk:index"), {"q": "счёт", "view": "list", "sort": "name", "page": 2})
    heads = response.content.decode().split("<thead>")[1].split("</thead>")[0]
    links = {part.split('"')[0]: part for part in heads.split('data-sort="')[1:]}
    by_name = heads.split('href="')[1].split('"')[0]
    assert "sort=-name" in by_name and "view=list" in by_name and "q=" in by_name and "page" not in by_name
    assert "▲" in heads.split('data-sort="name"')[1].split("</a>")[0]
    assert "sort=size" in heads.split('data-sort="size"')[0].rsplit('href="', 1)[1] and len(links) == 4
    down = login(client, owner).get(reverse("disk:index"), {"sort": "-date"}).content.decode()
    assert "▼" in down.split('data-sort="date"')[1].split("</a>")[0]


def test_it_shows_a_file_s_date_in_the_language_s_short_format(client, owner, my_disk):
    found = services.upload(my_disk.root, content("x"), "Счёт.pdf", owner)
    File.objects.filter(pk=found.pk).update(updated_at=dt.datetime(2026, 3, 5, 13, 7, tzinfo=dt.UTC))
    login(client, owner)
    assert "05.03.2026 16:07" in client.get(reverse("disk:index")).content.decode()  # Moscow's time
    english = client.get(reverse("disk:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "03/05/2026 4:07 p.m." in english  # «P» has no strftime twin: Django's formatter writes it


def test_it_searches_by_name_below_the_folder_ignoring_case(client, owner, my_disk):
    deep = services.folder_create(services.folder_create(my_disk.root, "Клиенты", owner), "Ромашка", owner)
    services.upload(deep, content("x"), "КП Ромашка.pdf", owner)
    services.upload(my_disk.root, content("x"), "Счёт.pdf", owner)
    response = login(client, owner).get(reverse("disk:index"), {"q": "ромашка"})
    assert sorted(names(response)) == ["КП Ромашка.pdf", "Ромашка"]


def test_it_shows_a_russian_message_for_bad_parameters_and_still_the_list(client, owner, my_disk):
    services.upload(my_disk.root, content("x"), "Счёт.pdf", owner)
    response = login(client, owner).get(reverse("disk:index"), {"sort": "drop table", "page": "-3", "view": "x",
                                                                "q": "я" * 300})
    assert response.status_code == 200
    assert names(response) == ["Счёт.pdf"]
    assert "Выберите корректный вариант" in response.content.decode()


def test_it_switches_to_tiles_with_thumbnails_for_images(client, owner, my_disk):
    picture = services.upload(my_disk.root, content(b"\x89PNG..."), "Логотип.png", owner)
    services.upload(my_disk.root, content("x"), "Договор.docx", owner)
    response = login(client, owner).get(reverse("disk:index"), {"view": "tiles"})
    page = response.content.decode()
    assert 'data-testid="disk-tiles"' in page
    assert f'src="{reverse("disk:download", args=[picture.pk])}?inline=1"' in page
    assert ">DOC<" in page


def test_it_paginates_by_50_folders_first(client, owner, my_disk):
    for i in range(3):
        services.folder_create(my_disk.root, f"Папка {i}", owner)
    for i in range(50):
        services.upload(my_disk.root, content("x"), f"Файл {i:02}.txt", owner)
    login(client, owner)
    first = names(client.get(reverse("disk:index")))
    second = names(client.get(reverse("disk:index"), {"page": 2}))
    assert len(first) == 50 and first[:3] == ["Папка 0", "Папка 1", "Папка 2"]
    assert second == ["Файл 47.txt", "Файл 48.txt", "Файл 49.txt"]
    assert names(client.get(reverse("disk:index"), {"page": 99})) == second


@pytest.mark.parametrize("count", [3, 60])
def test_it_lists_a_folder_in_the_same_queries_for_3_and_60_files(client, owner, teammate, my_disk, count,
                                                                  django_assert_num_queries):
    folder = services.folder_create(my_disk.root, "Договоры", owner)
    services.share(folder, owner, user=teammate)
    for i in range(count):
        services.upload(folder, content("x"), f"Договор {i}.pdf", owner)
    services.folder_create(folder, "Архив", owner)
    login(client, teammate)
    client.get(reverse("disk:index"))  # the personal storage made on the first visit
    for view in ("list", "tiles"):
        with django_assert_num_queries(QUERIES):
            response = client.get(reverse("disk:folder", args=[folder.pk]), {"view": view})
        assert response.status_code == 200


QUERIES = 11  # the same for 3 and 60 files: the listing's cost does not grow with the folder


@pytest.mark.parametrize("count", [3, 60])
def test_it_lists_shared_with_me_and_the_trash_in_the_same_queries_for_3_and_60_items(
        client, owner, teammate, org, my_disk, count, django_assert_num_queries, django_assert_max_num_queries):
    for i in range(count):
        shared = services.upload(my_disk.root, content("x"), f"Общий {i}.pdf", owner)
        services.share(shared, owner, user=teammate)
        services.share(shared, owner, department=org["group1"])  # listed once all the same
        services.delete(services.upload(my_disk.root, content("x"), f"Старый {i}.pdf", owner), owner)
        services.delete(services.folder_create(my_disk.root, f"Папка {i}", owner), owner)
    login(client, teammate).get(reverse("disk:index"))
    with django_assert_num_queries(SHARED_QUERIES):
        response = client.get(reverse("disk:shared"))
    assert response.status_code == 200 and len(names(response)) == min(count, 50)
    login(client, owner).get(reverse("disk:index"))
    # At most: a first page made only of folders (60 of them) does not ask for files.
    with django_assert_max_num_queries(TRASH_QUERIES):
        response = client.get(reverse("disk:trash"))
    assert response.status_code == 200 and len(names(response)) == min(2 * count, 50)


SHARED_QUERIES, TRASH_QUERIES = 6, 9


# --- Uploads ---

def test_it_uploads_a_file_and_a_same_named_one_becomes_its_new_version(client, owner, my_disk):
    url = reverse("disk:upload", args=[my_disk.root_id])
    login(client, owner)
    first = post_upload(client, url)
    again = post_upload(client, url, data=b"%PDF-1.4 offer v2")
    assert first.status_code == 201 and again.status_code == 201
    found = File.objects.get(pk=first.json()["id"])
    assert again.json()["id"] == found.pk and found.name == "КП.pdf"
    assert list(found.versions.values_list("number", flat=True)) == [2, 1]


def test_it_uploads_a_new_version_of_a_file_whatever_its_name(client, owner, my_disk):
    found = services.upload(my_disk.root, content("v1"), "КП.pdf", owner)
    response = post_upload(login(client, owner), reverse("disk:upload_version", args=[found.pk]), name="другое.pdf")
    assert response.status_code == 201
    found.refresh_from_db()
    assert found.versions.count() == 2 and found.name == "КП.pdf"


def test_it_refuses_an_upload_too_large_or_over_the_quota_in_russian(client, owner, my_disk, settings):
    url = reverse("disk:upload", args=[my_disk.root_id])
    login(client, owner)
    settings.DISK_MAX_FILE_SIZE = 10
    too_large = post_upload(client, url, data=b"x" * 100)
    assert too_large.status_code == 413 and "Файл больше 10" in too_large.json()["error"]
    settings.DISK_MAX_FILE_SIZE = 0
    settings.DISK_USER_QUOTA = 50
    over = post_upload(client, url, data=b"x" * 60)
    assert over.status_code == 400 and "Не хватает места на диске" in over.json()["error"]
    assert not File.objects.exists()


def test_it_refuses_an_upload_without_rights(client, owner, teammate, outsider, my_disk):
    folder = services.folder_create(my_disk.root, "Прайсы", owner)
    services.share(folder, owner, user=teammate)  # to read
    url = reverse("disk:upload", args=[folder.pk])
    read_only = post_upload(login(client, teammate), url)
    assert read_only.status_code == 403 and "Нет прав" in read_only.json()["error"]
    assert post_upload(login(client, outsider), url).status_code == 404
    missing = login(client, owner).post(url, {}, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert missing.status_code == 400 and missing.json()["error"] == "Выберите файл для загрузки."
    assert not File.objects.exists()


def test_it_checks_the_csrf_token_of_an_upload(owner, my_disk):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = post_upload(client, reverse("disk:upload", args=[my_disk.root_id]))
    assert response.status_code == 403 and not File.objects.exists()


# --- Dialogs ---

def test_it_creates_a_folder_and_numbers_a_taken_name(client, owner, my_disk):
    url = reverse("disk:folder_create", args=[my_disk.root_id])
    login(client, owner)
    dialog = client.get(url, **HTMX)
    assert dialog.status_code == 200 and dialog["HX-Retarget"] == "#crm-modal-content"
    done = client.post(url, {"name": "Договоры"}, **HTMX)
    assert "disk:changed" in json.loads(done["HX-Trigger"])
    client.post(url, {"name": "договоры"}, **HTMX)
    assert sorted(my_disk.root.children.values_list("name", flat=True)) == ["Договоры", "договоры (1)"]
    bad = client.post(url, {"name": "a/b"}, **HTMX)
    assert bad.status_code == 200 and "HX-Trigger" not in bad and 'value="a/b"' in bad.content.decode()


def test_it_renames_and_refuses_a_taken_name_keeping_the_input(client, owner, my_disk):
    services.upload(my_disk.root, content("x"), "Счёт.pdf", owner)
    found = services.upload(my_disk.root, content("x"), "КП.pdf", owner)
    url = reverse("disk:rename_file", args=[found.pk])
    login(client, owner)
    taken = client.post(url, {"name": "счёт.pdf"}, **HTMX)
    assert "уже есть «счёт.pdf»" in taken.content.decode()
    assert client.post(url, {"name": "КП Ромашка.pdf"}).status_code == 302
    found.refresh_from_db()
    assert found.name == "КП Ромашка.pdf"
    # Only GET and POST: the decorator had slipped onto the «⋯» menu's view above it.
    assert client.put(url, {"name": "Другое.pdf"}).status_code == 405
    assert client.delete(url).status_code == 405


def test_it_moves_and_copies_through_the_folder_picker(client, owner, my_disk):
    target = services.folder_create(my_disk.root, "Архив", owner)
    found = services.upload(my_disk.root, content("x"), "КП.pdf", owner)
    login(client, owner)
    picker = client.get(reverse("disk:move_file", args=[found.pk]), {"to": my_disk.root_id}, **HTMX)
    assert 'data-testid="disk-picker-folder"' in picker.content.decode() and "Архив" in picker.content.decode()
    client.post(reverse("disk:copy_file", args=[found.pk]), {"to": target.pk}, **HTMX)
    client.post(reverse("disk:move_file", args=[found.pk]), {"to": target.pk}, **HTMX)
    assert sorted(target.files.values_list("name", flat=True)) == ["КП (1).pdf", "КП.pdf"]
    into_itself = client.post(reverse("disk:move_folder", args=[target.pk]), {"to": target.pk}, **HTMX)
    assert "нельзя переместить в неё саму" in into_itself.content.decode()


def test_it_refuses_a_move_into_a_folder_the_user_may_not_change(client, owner, teammate, my_disk):
    found = services.upload(my_disk.root, content("x"), "КП.pdf", owner)
    theirs = services.personal_storage(teammate).root
    login(client, owner)
    refused = client.post(reverse("disk:move_file", args=[found.pk]), {"to": theirs.pk}, **HTMX)
    assert "нельзя ничего менять" in refused.content.decode()
    bad = client.post(reverse("disk:move_file", args=[found.pk]), {"to": "x"}, **HTMX)
    assert "Выберите папку" in bad.content.decode()
    assert client.get(reverse("disk:move_file", args=[found.pk]), {"to": "x"}, **HTMX).status_code == 200
    found.refresh_from_db()
    assert found.folder_id == my_disk.root_id


def test_it_deletes_to_the_trash_restores_and_purges(client, owner, my_disk):
    folder = services.folder_create(my_disk.root, "Старое", owner)
    services.upload(folder, content("x"), "Старый.pdf", owner)
    login(client, owner)
    assert "попадёт в корзину" in client.get(reverse("disk:delete_folder", args=[folder.pk]), **HTMX).content.decode()
    client.post(reverse("disk:delete_folder", args=[folder.pk]), **HTMX)
    assert names(client.get(reverse("disk:index"))) == []
    assert names(client.get(reverse("disk:trash"))) == ["Старое"]
    client.post(reverse("disk:restore_folder", args=[folder.pk]), **HTMX)
    assert names(client.get(reverse("disk:index"))) == ["Старое"]
    client.post(reverse("disk:delete_folder", args=[folder.pk]), **HTMX)
    client.post(reverse("disk:purge_folder", args=[folder.pk]), **HTMX)
    assert not Folder.objects.filter(pk=folder.pk).exists() and not File.objects.exists()


def test_it_empties_the_trash(client, owner, my_disk):
    for name in ("а.txt", "б.txt"):
        services.delete(services.upload(my_disk.root, content("x"), name, owner), owner)
    kept = services.upload(my_disk.root, content("x"), "в.txt", owner)
    login(client, owner)
    response = client.post(reverse("disk:trash_empty", args=[my_disk.pk]), **HTMX)
    assert response.status_code == 200
    assert list(File.objects.values_list("pk", flat=True)) == [kept.pk]


def test_it_keeps_a_colleague_out_of_my_trash(client, owner, teammate, my_disk):
    found = services.upload(my_disk.root, content("x"), "а.txt", owner)
    services.delete(found, owner)
    login(client, teammate)
    assert client.get(reverse("disk:trash_of", args=[my_disk.pk])).status_code == 404
    assert client.post(reverse("disk:restore_file", args=[found.pk])).status_code == 404
    assert client.post(reverse("disk:trash_empty", args=[my_disk.pk])).status_code == 404
    assert File.objects.filter(pk=found.pk, deleted_at__isnull=False).exists()


def test_it_lists_versions_and_makes_an_earlier_one_current(client, owner, teammate, my_disk):
    found = services.upload(my_disk.root, content("v1"), "КП.pdf", owner)
    services.upload_version(found, content("v2 longer"), owner)
    login(client, owner)
    dialog = client.get(reverse("disk:versions", args=[found.pk]), **HTMX).content.decode()
    assert dialog.count('data-testid="disk-version"') == 2 and "Сделать текущей" in dialog
    response = client.post(reverse("disk:versions", args=[found.pk]), {"number": 1}, **HTMX)
    assert "Версия 1 теперь текущая" in response.content.decode()
    found.refresh_from_db()
    assert found.current.number == 1 and found.size == 2
    for number in ("9", "abc", ""):
        refused = client.post(reverse("disk:versions", args=[found.pk]), {"number": number}, **HTMX)
        assert "Такой версии нет" in refused.content.decode() or "Выберите версию" in refused.content.decode()
    found.refresh_from_db()
    assert found.current.number == 1
    assert login(client, teammate).post(reverse("disk:versions", args=[found.pk]), {"number": 2}).status_code == 404


def test_a_row_s_menu_offers_what_the_user_may_do_with_the_item(client, owner, teammate, outsider, my_disk):
    """The «⋯» is fetched when opened: a reader gets download and versions, not rename or delete;
    someone who may not read the file gets a 404, not its actions."""
    file = services.upload(my_disk.root, content(b"%PDF-1.4"), "КП.pdf", owner)
    services.share(file, owner, user=teammate)
    url = reverse("disk:menu_file", args=[file.pk])
    mine = login(client, owner).get(url, **HTMX)
    assert mine.status_code == 200
    for label in ("Скачать", "Версии", "Переименовать", "Удалить", "Общий доступ"):
        assert label in mine.content.decode(), label
    theirs = login(client, teammate).get(url, **HTMX).content.decode()
    assert "Скачать" in theirs and "Версии" in theirs
    assert "Переименовать" not in theirs and "Удалить" not in theirs
    assert login(client, outsider).get(url, **HTMX).status_code == 404
    folder_menu = login(client, owner).get(reverse("disk:menu_folder", args=[my_disk.root_id]))
    assert folder_menu.status_code == 200 and "Открыть" in folder_menu.content.decode()


def test_it_shares_with_a_colleague_who_then_sees_it_under_shared_with_me(client, owner, teammate, outsider, org,
                                                                         my_disk):
    folder = services.folder_create(my_disk.root, "Договоры", owner)
    url = reverse("disk:share_folder", args=[folder.pk])
    login(client, owner)
    response = client.post(url, {"user": teammate.pk, "access": "edit"}, **HTMX)
    assert "Доступ открыт." in response.content.decode()
    client.post(url, {"department": org["group2"].pk, "access": "read"}, **HTMX)
    neither = client.post(url, {"access": "read"}, **HTMX)
    assert "Выберите сотрудника или отдел" in neither.content.decode()
    assert Share.objects.filter(folder=folder).count() == 2
    shared = login(client, teammate).get(reverse("disk:shared"))
    assert names(shared) == ["Договоры"] and "Изменение" in shared.content.decode()
    inside = client.get(reverse("disk:folder", args=[folder.pk])).content.decode()
    assert "Доступные мне" in inside.split('data-testid="disk-crumbs"')[1].split("</ol>")[0]
    share = Share.objects.get(folder=folder, user=teammate)
    # The outsider's department reads it: removing a share is for whoever may change the item.
    assert login(client, outsider).post(reverse("disk:unshare", args=[share.pk])).status_code == 404
    login(client, owner).post(reverse("disk:unshare", args=[share.pk]), **HTMX)
    assert names(login(client, teammate).get(reverse("disk:shared"))) == []


def test_it_creates_and_revokes_a_public_link(client, owner, teammate, my_disk):
    found = services.upload(my_disk.root, content("offer"), "КП.pdf", owner)
    url = reverse("disk:links", args=[found.pk])
    login(client, owner)
    past = client.post(url, {"expires_on": "2001-01-01"}, **HTMX)
    assert "Дата уже прошла" in past.content.decode() and not PublicLink.objects.exists()
    garbage = client.post(url, {"expires_on": "завтра"}, **HTMX)
    assert "Введите правильную дату" in garbage.content.decode() and not PublicLink.objects.exists()
    created = client.post(url, {"expires_on": "2099-12-31", "password": "секрет"}, **HTMX).content.decode()
    link = PublicLink.objects.get()
    assert f"/disk/s/{link.token}/" in created and "с паролем" in created and "скачиваний: 0" in created
    assert link.expires_at.date().isoformat() >= "2099-12-31"
    assert login(client, teammate).get(url).status_code == 404
    login(client, owner).post(reverse("disk:link_revoke", args=[link.pk]), **HTMX)
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert client.get(reverse("disk:public", args=[link.token])).status_code == 404


def test_it_previews_images_and_pdfs_only(client, owner, my_disk):
    pdf = services.upload(my_disk.root, content("%PDF"), "Счёт.pdf", owner)
    doc = services.upload(my_disk.root, content("x"), "Письмо.docx", owner)
    login(client, owner)
    assert "<iframe" in client.get(reverse("disk:preview", args=[pdf.pk]), **HTMX).content.decode()
    assert client.get(reverse("disk:preview", args=[doc.pk])).status_code == 404


def test_it_lets_only_the_crm_s_own_pages_frame_a_preview(client, owner, my_disk):
    pdf = services.upload(my_disk.root, content("%PDF"), "Счёт.pdf", owner)
    login(client, owner)
    inline = client.get(reverse("disk:download", args=[pdf.pk]), {"inline": "1"})
    assert inline["X-Frame-Options"] == "SAMEORIGIN" and "frame-ancestors 'self'" in inline["Content-Security-Policy"]
    attached = client.get(reverse("disk:download", args=[pdf.pk]))
    assert attached["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in attached["Content-Security-Policy"]


def test_it_shows_dialogs_as_pages_without_javascript(client, owner, my_disk):
    found = services.upload(my_disk.root, content("x"), "КП.pdf", owner)
    login(client, owner)
    for name in ("rename_file", "move_file", "copy_file", "delete_file", "share_file"):
        response = client.get(reverse(f"disk:{name}", args=[found.pk]))
        assert response.status_code == 200 and "<html" in response.content.decode(), name
