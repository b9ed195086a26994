"""Query budgets: a folder's page and a record's attachments cost the same number of queries
whatever the number of files (the benchmark of 10,000 files is scripts/bench_disk.py's); the
orders of a folder's files, the natural name order among them."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from disk import selectors, services
from disk.models import File, Folder, sort_key
from tests.factories import DealFactory

from .conftest import content

pytestmark = pytest.mark.django_db


def render_page(user, folder_pk) -> list[str]:
    """What a folder page shows: breadcrumbs, sub-folders, the first page of files with author and
    the current version's uploader."""
    folder = selectors.folder_for(user, folder_pk)
    crumbs = [f.name for f in selectors.breadcrumbs(folder)]
    rows = [f"{f.name} {f.author}" for f in selectors.folder_children(folder)]
    rows += [f"{f.name} {f.size} {f.author} {f.current.uploaded_by}" for f in selectors.folder_files(folder)[:50]]
    return crumbs + rows


def queries(func) -> int:
    with CaptureQueriesContext(connection) as captured:
        func()
    return len(captured)


def test_it_lists_a_folder_in_the_same_queries_for_3_and_30_files(owner, teammate, my_disk,
                                                                  django_assert_max_num_queries):
    folder = services.folder_create(my_disk.root, "Договоры", owner)
    services.share(folder, owner, user=teammate)
    for i in range(3):
        services.upload(folder, content("x"), f"Договор {i}.pdf", owner)
        services.folder_create(folder, f"Папка {i}", owner)
    few = queries(lambda: render_page(teammate, folder.pk))
    for i in range(3, 30):
        services.upload(folder, content("x"), f"Договор {i}.pdf", owner)
        services.folder_create(folder, f"Папка {i}", owner)
    with django_assert_max_num_queries(few):
        shown = render_page(teammate, folder.pk)
    assert len(shown) == 2 + 30 + 30
    assert few <= 8


def test_it_orders_the_first_page_by_name_date_and_size(owner, my_disk):
    for name, data in (("б.txt", "22"), ("А.txt", "1"), ("в.txt", "333")):
        services.upload(my_disk.root, content(data), name, owner)
    names = lambda order: [f.name for f in selectors.folder_files(my_disk.root, order)]  # noqa: E731
    assert names("name") == ["А.txt", "б.txt", "в.txt"]
    assert names("-size") == ["в.txt", "б.txt", "А.txt"]
    assert names("-date") == ["в.txt", "А.txt", "б.txt"]
    assert names("nonsense") == names("name")


def test_it_lists_a_record_s_attachments_in_the_same_queries_for_2_and_20_files(owner, django_assert_max_num_queries):
    deal = DealFactory(responsible=owner)

    def panel():
        return [(a.file.name, str(a.file.author), a.file.size) for a in selectors.attachments(owner, deal)]

    for i in range(2):
        services.attach_upload(deal, content("x"), f"Счёт {i}.pdf", owner)
    few = queries(panel)
    for i in range(2, 20):
        services.attach_upload(deal, content("x"), f"Счёт {i}.pdf", owner)
    with django_assert_max_num_queries(few):
        assert len(panel()) == 20
    assert File.objects.filter(folder__object_id=deal.pk).count() == 20


# --- The natural name order ---

def test_it_orders_names_naturally_ignoring_case_in_both_directions(owner, my_disk):
    for name in ("Файл 10.txt", "файл 3.txt", "Файл 1.txt", "Файл 2.txt"):
        services.upload(my_disk.root, content("x"), name, owner)
    names = lambda order: [f.name for f in selectors.folder_files(my_disk.root, order)]  # noqa: E731
    assert names("name") == ["Файл 1.txt", "Файл 2.txt", "файл 3.txt", "Файл 10.txt"]
    assert names("-name") == ["Файл 10.txt", "файл 3.txt", "Файл 2.txt", "Файл 1.txt"]


def test_it_keeps_the_natural_order_after_a_rename(owner, my_disk):
    services.upload(my_disk.root, content("x"), "Акт 9.pdf", owner)
    renamed = services.upload(my_disk.root, content("x"), "Акт 1.pdf", owner)
    services.rename(renamed, "Акт 11.pdf", owner)
    assert [f.name for f in selectors.folder_files(my_disk.root)] == ["Акт 9.pdf", "Акт 11.pdf"]


@pytest.mark.parametrize(("earlier", "later"), [
    ("Счёт 2 от 05.03.2026.pdf", "Счёт 2 от 12.03.2026.pdf"),
    ("v1.9.txt", "v1.10.txt"),
    ("Договор 007.pdf", "Договор 8.pdf"),
    ("Скан 99.png", "Скан 100500.png"),
    ("ИНН 7707083893.pdf", "ИНН 772901001234.pdf"),  # ten digits before twelve
])
def test_it_compares_the_numbers_in_names_by_their_value(earlier, later):
    assert sort_key(earlier) < sort_key(later)


def test_it_fills_the_sort_key_of_the_files_and_folders_there_were_before_it(owner, my_disk):
    folder = services.folder_create(my_disk.root, "Папка 10", owner)
    file = services.upload(folder, content("x"), "Файл 2.txt", owner)
    Folder.objects.filter(pk=folder.pk).update(sort_key="")
    File.objects.filter(pk=file.pk).update(sort_key="")
    migration = importlib.import_module("disk.migrations.0003_file_natural_sort_key")
    migration.fill(django_apps, None)
    assert Folder.objects.get(pk=folder.pk).sort_key == sort_key("Папка 10") == "папка 00000000000000000010"
    assert File.objects.get(pk=file.pk).sort_key == sort_key("Файл 2.txt")
