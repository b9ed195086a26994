"""Files on comments: the card's comment form takes files (crm.timeline.comment_files, registered
by the disk), they go into the record's CRM folder attached to the comment and to the record, and
the timeline lists them under the comment — one query for a page's comments, whatever their files."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import access
from accounts.models import Action
from crm import timeline
from crm.models import TimelineEntry
from deals import services as deal_services
from disk import selectors, services
from disk.models import Attachment, File
from tasks_app import services as task_services
from tests.factories import DealFactory, LeadFactory

from .conftest import blob_keys, content

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
KP = "КП для Ромашки.pdf"


def comment_url(record) -> str:
    return reverse("crm:comment_add", args=[record._meta.label_lower, record.pk])


def post_comment(client, record, text="", files=(), **extra):
    data = {"text": text, "files": [SimpleUploadedFile(name, body) for name, body in files]}
    return client.post(comment_url(record), data, **HTMX, **extra)


def comments(record):
    return list(timeline.entries(record).filter(kind=TimelineEntry.Kind.COMMENT))


def test_it_adds_a_comment_whose_files_live_in_the_records_folder_and_on_its_card(client, owner):
    deal = DealFactory(responsible=owner)
    client.force_login(owner)
    response = post_comment(client, deal, "Отправил КП и реквизиты",
                            [(KP, b"%PDF-1.4 offer"), ("Реквизиты.docx", b"docx")])
    assert response.status_code == 200 and response["HX-Trigger"] == "crm:commented"
    [entry] = comments(deal)
    assert entry.text == "Отправил КП и реквизиты" and entry.author == owner
    files = [a.file for a in selectors.comment_files(owner, deal, [entry])[entry.pk]]
    assert [f.name for f in files] == [KP, "Реквизиты.docx"]
    assert {f.folder for f in files} == {services.record_folder(deal)} and {f.author for f in files} == {owner}
    # The card's panel lists them as the record's files too.
    assert {a.file for a in selectors.attachments(owner, deal)} == set(files)
    page = response.content.decode()
    for f in files:
        assert f'<a href="{reverse("disk:download", args=[f.pk])}" class="text-decoration-none" ' \
               f'data-testid="comment-file-download">{f.name}</a>' in page
    card = client.get(deal.get_absolute_url()).content.decode()
    assert card.count(reverse("disk:download", args=[files[0].pk])) == 2  # under the comment and in the panel


def test_a_comment_may_be_only_files_but_not_nothing(client, owner):
    deal = DealFactory(responsible=owner)
    client.force_login(owner)
    empty = post_comment(client, deal, "  ")
    assert empty.status_code == 200 and "Комментарий пуст." in empty.content.decode() and comments(deal) == []
    post_comment(client, deal, "", [(KP, b"%PDF")])
    [entry] = comments(deal)
    assert entry.text == "" and Attachment.objects.filter(object_id=entry.pk, file__name=KP).exists()


def test_a_file_over_the_size_limit_is_refused_and_the_text_is_kept(client, owner, settings):
    settings.DISK_MAX_FILE_SIZE = 1000
    deal = DealFactory(responsible=owner)
    client.force_login(owner)
    response = post_comment(client, deal, "Смотрите вложение", [("Большой.pdf", b"x" * 5000)])
    page = response.content.decode()
    assert response.status_code == 200 and 'data-testid="comment-error"' in page
    assert "Файл больше 1000\xa0байт: такой загрузить нельзя." in page and "Смотрите вложение</textarea>" in page
    assert comments(deal) == [] and not File.objects.exists() and blob_keys() == set()
    alone = post_comment(client, deal, "", [("Большой.pdf", b"x" * 5000)]).content.decode()
    assert "Файл больше" in alone and "Комментарий пуст." not in alone  # the reason, not a second complaint


def test_over_the_quota_nothing_is_saved_and_nothing_left_in_the_store(client, owner, settings, store):
    settings.DISK_USER_QUOTA = 1500  # each file fits, the two together do not
    deal = DealFactory(responsible=owner)
    client.force_login(owner)
    response = post_comment(client, deal, "Два файла", [("Первый.pdf", b"a" * 1000), ("Второй.pdf", b"b" * 1000)])
    page = response.content.decode()
    assert response.status_code == 200 and "Не хватает места на диске" in page and "Два файла</textarea>" in page
    assert comments(deal) == [] and not File.objects.exists() and blob_keys() == set()


def test_a_second_file_of_the_same_name_is_kept_beside_the_first(owner):
    deal = DealFactory(responsible=owner)
    services.comment_add(deal, "v1", [content("1", KP)], owner)
    services.comment_add(deal, "v2", [content("2", KP)], owner)
    names = sorted(File.objects.values_list("name", flat=True))
    assert names == ["КП для Ромашки (1).pdf", KP]  # each comment keeps exactly what it sent
    assert all(f.versions.count() == 1 for f in File.objects.all())


def test_a_hostile_name_refuses_the_whole_comment(owner):
    deal = DealFactory(responsible=owner)
    with pytest.raises(ValidationError):
        services.comment_add(deal, "текст", [content("x", "CON")], owner)
    assert comments(deal) == [] and blob_keys() == set()


def test_readers_of_the_record_see_and_download_the_files_others_do_not(client, owner, head, outsider):
    deal = DealFactory(responsible=owner)
    entry = services.comment_add(deal, "КП", [content("%PDF offer", KP)], owner)
    file = Attachment.objects.get(object_id=entry.pk, content_type__model="timelineentry").file
    client.force_login(head)
    assert KP in client.get(deal.get_absolute_url()).content.decode()
    assert client.get(reverse("disk:download", args=[file.pk])).status_code == 200
    client.force_login(outsider)
    assert selectors.comment_files(outsider, deal, [entry]) == {}
    assert client.get(reverse("disk:download", args=[file.pk])).status_code == 404
    assert post_comment(client, deal, "чужой", [("x.pdf", b"x")]).status_code == 404
    assert len(comments(deal)) == 1 and File.objects.count() == 1


def test_a_trashed_file_leaves_the_comment(owner):
    lead = LeadFactory(responsible=owner)
    entry = services.comment_add(lead, "", [content("a", "a.txt"), content("b", "b.txt")], owner)
    first = File.objects.get(name="a.txt")
    services.delete(first, owner)
    assert [a.file.name for a in selectors.comment_files(owner, lead, [entry])[entry.pk]] == ["b.txt"]


def test_deleting_the_record_drops_the_comments_links_and_trashes_their_files(owner, crm_admin):
    deal = DealFactory(responsible=owner)
    services.comment_add(deal, "КП", [content("%PDF", KP)], owner)
    deal_services.deal_delete(deal, by=crm_admin)
    assert not Attachment.objects.exists()
    assert File.objects.get(name=KP).deleted_at is not None


@pytest.mark.parametrize("count", [1, 10])
def test_the_card_costs_the_same_queries_with_1_and_10_commented_files(client, owner, count,
                                                                      django_assert_num_queries):
    deal = DealFactory(responsible=owner)
    for i in range(count):
        services.comment_add(deal, f"Комментарий {i}", [content("x", f"Файл {i}.pdf")], owner)
    client.force_login(owner)
    client.get(deal.get_absolute_url())  # caches (content types, the role matrix) warmed
    with django_assert_num_queries(CARD_QUERIES):
        response = client.get(deal.get_absolute_url())
    assert response.status_code == 200 and response.content.decode().count('data-testid="comment-file"') == count


CARD_QUERIES = 13


def test_a_task_observer_who_may_only_read_adds_files_to_his_comment(client, owner, outsider):
    task = task_services.task_create(data={"title": "Подготовить КП", "responsible": owner}, by=owner,
                                     observers=[outsider])
    client.force_login(outsider)
    assert not access.can(outsider, Action.CHANGE, task)
    response = post_comment(client, task, "Скриншот ошибки", [("Ошибка.png", b"\x89PNG")])
    assert response.status_code == 200 and "Ошибка.png" in response.content.decode()
    [attachment] = selectors.attachments(owner, task)
    assert attachment.file.author == outsider and attachment.file.folder == services.record_folder(task)
    # The panel's upload still asks for the right to change the task.
    refused = client.post(reverse("disk:attach_upload", args=["tasks_app.task", task.pk]),
                          {"file": SimpleUploadedFile("Ещё.png", b"x")})
    assert refused.status_code == 403
