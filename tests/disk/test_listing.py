"""Query budgets: a folder's page and a record's attachments cost the same number of queries
whatever the number of files (the benchmark of 10,000 files is the next session's)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from disk import selectors, services
from disk.models import File
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
