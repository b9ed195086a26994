"""The attachments panel of the records' cards: «Документы» on a deal, «Файлы» elsewhere; upload
by disk.js to `disk:attach_upload` (JSON answers), «Открепить», a public link from the panel; a
deleted record's folder goes to the trash."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from deals import services as deal_services
from disk import selectors, services
from disk.models import Attachment, File, Folder
from tasks_app import services as task_services
from tests.calendar.helpers import make_event
from tests.clients.conftest import make_company, make_contact
from tests.factories import DealFactory, LeadFactory

from .conftest import content

pytestmark = pytest.mark.django_db
KP = "КП для Ромашки.pdf"


def upload_url(record) -> str:
    return reverse("disk:attach_upload", args=[record._meta.label_lower, record.pk])


def post_file(client, record, name=KP, data=b"%PDF-1.4 offer", **extra):
    return client.post(upload_url(record), {"file": SimpleUploadedFile(name, data)}, **extra)


def test_it_uploads_to_a_deal_card_and_lists_the_file_in_its_documents(client, owner):
    deal = DealFactory(responsible=owner)
    client.force_login(owner)
    response = post_file(client, deal)
    assert response.status_code == 201 and response.json()["name"] == KP
    [attachment] = selectors.attachments(owner, deal)
    assert attachment.file.folder == services.record_folder(deal)
    page = client.get(deal.get_absolute_url()).content.decode()
    assert "Документы" in page and KP in page
    assert reverse("disk:download", args=[attachment.file_id]) in page
    assert upload_url(deal) in page  # the drop zone posts there


@pytest.mark.parametrize("kind", ["lead", "company", "contact", "task", "event"])
def test_the_other_cards_show_files(client, owner, kind):
    now = timezone.now()
    record = {
        "lead": lambda: LeadFactory(responsible=owner),
        "company": lambda: make_company(owner),
        "contact": lambda: make_contact(owner),
        "task": lambda: task_services.task_create(data={"title": "Подготовить КП", "responsible": owner}, by=owner),
        "event": lambda: make_event(owner, now + dt.timedelta(days=1)),
    }[kind]()
    services.attach_upload(record, content("x"), "Реквизиты.docx", owner)
    client.force_login(owner)
    response = client.get(record.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="attachments-panel"' in page and "Файлы" in page and "Реквизиты.docx" in page
    assert upload_url(record) in page


def test_the_deal_card_costs_the_same_queries_with_1_and_20_files(client, owner, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    deal = DealFactory(responsible=owner)
    services.attach_upload(deal, content("x"), "Счёт 0.pdf", owner)
    client.force_login(owner)
    client.get(deal.get_absolute_url())  # caches warmed (content types, the session)
    with CaptureQueriesContext(connection) as one:
        assert client.get(deal.get_absolute_url()).status_code == 200
    for i in range(1, 20):
        attachment = services.attach_upload(deal, content("x"), f"Счёт {i}.pdf", owner)
        if i % 2:
            services.public_link_create(attachment.file, owner)
    with django_assert_max_num_queries(len(one)):
        response = client.get(deal.get_absolute_url())
    assert response.status_code == 200 and response.content.decode().count('data-testid="attachment"') == 20


def test_the_refresh_of_the_list_has_a_budget(client, owner, django_assert_max_num_queries):
    deal = DealFactory(responsible=owner)
    for i in range(5):
        services.attach_upload(deal, content("x"), f"Акт {i}.pdf", owner)
    client.force_login(owner)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("disk:attachments", args=["deals.deal", deal.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.content.decode().count('data-testid="attachment"') == 5


def test_it_refuses_uploads_to_a_record_out_of_reach_or_read_only(client, owner, teammate, head):
    deal = DealFactory(responsible=owner)
    client.force_login(teammate)  # a manager sees only his own deals
    assert post_file(client, deal).status_code == 404
    # An observer of a task reads it but may not change it.
    task = task_services.task_create(data={"title": "Подготовить КП", "responsible": owner}, by=owner,
                                     observers=[teammate])
    response = post_file(client, task)
    assert response.status_code == 403
    assert response.json()["error"] == "Прикреплять и откреплять файлы может тот, кто вправе изменять запись."
    assert not Attachment.objects.exists() and not File.objects.exists()
    client.force_login(head)  # the head of sales changes his people's deals
    assert post_file(client, deal).status_code == 201


def test_it_answers_a_refusal_as_json_in_russian(client, owner, settings):
    deal = DealFactory(responsible=owner)
    client.force_login(owner)
    settings.DISK_MAX_FILE_SIZE = 1000
    response = post_file(client, deal, data=b"x" * 5000)
    assert response.status_code == 413 and "Файл больше" in response.json()["error"]
    response = client.post(upload_url(deal), {"other": "x"})
    assert response.status_code == 400 and response.json()["error"] == "Выберите файл."
    response = post_file(client, deal, name="CON.txt")
    assert response.status_code == 400 and response.json()["error"]
    assert not File.objects.exists()
    assert client.post(reverse("disk:attach_upload", args=["accounts.user", owner.pk]),
                       {"file": SimpleUploadedFile("a.txt", b"x")}).status_code == 404


def test_an_upload_needs_the_csrf_token(owner):
    from django.test import Client

    deal = DealFactory(responsible=owner)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert post_file(strict, deal).status_code == 403
    assert not File.objects.exists()
    strict.get(deal.get_absolute_url())
    token = strict.cookies["csrftoken"].value
    assert post_file(strict, deal, HTTP_X_CSRFTOKEN=token).status_code == 201


def test_detaching_sends_the_file_to_the_trash(client, owner, teammate):
    deal = DealFactory(responsible=owner)
    attachment = services.attach_upload(deal, content("x"), KP, owner)
    url = reverse("disk:detach", args=["deals.deal", deal.pk, attachment.pk])
    client.force_login(teammate)
    assert client.post(url).status_code == 404
    client.force_login(owner)
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and KP not in response.content.decode()
    assert not Attachment.objects.exists()
    assert File.objects.get(pk=attachment.file_id).deleted_at is not None
    # Another record's attachment is not reached through this one's URL.
    other = DealFactory(responsible=owner)
    theirs = services.attach_upload(other, content("y"), "Счёт.pdf", owner)
    assert client.post(reverse("disk:detach", args=["deals.deal", deal.pk, theirs.pk])).status_code == 404


def test_a_public_link_is_made_copied_and_revoked_from_the_panel(client, owner):
    deal = DealFactory(responsible=owner)
    attachment = services.attach_upload(deal, content("%PDF offer"), KP, owner)
    client.force_login(owner)
    response = client.post(reverse("disk:link_create", args=["deals.deal", deal.pk, attachment.pk]),
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    link = attachment.file.public_links.get()
    public = reverse("disk:public", args=[link.token])
    assert public in response.content.decode()
    anonymous = client.__class__()
    downloaded = anonymous.get(public)
    assert downloaded.status_code == 200 and b"".join(downloaded.streaming_content) == b"%PDF offer"
    # Without htmx the form goes back to the card.
    response = client.post(reverse("disk:attach_link_revoke", args=["deals.deal", deal.pk, attachment.pk, link.pk]))
    assert response.status_code == 302 and response["Location"] == deal.get_absolute_url()
    assert anonymous.get(public).status_code == 404
    assert public not in client.get(deal.get_absolute_url()).content.decode()


def test_the_deal_documents_include_its_company_s_and_contacts_files_the_user_sees(client, owner, outsider):
    company = make_company(owner)
    contact = make_contact(owner)
    hidden = make_contact(outsider, first_name="Скрытый")
    deal = DealFactory(responsible=owner, company=company)
    deal.contacts.add(contact, hidden)
    services.attach_upload(company, content("x"), "Договор поставки.docx", owner)
    services.attach_upload(contact, content("x"), "Доверенность.pdf", owner)
    services.attach_upload(hidden, content("x"), "Паспорт скрытого.pdf", outsider)
    client.force_login(owner)
    page = client.get(deal.get_absolute_url()).content.decode()
    assert "Договор поставки.docx" in page and "Доверенность.pdf" in page
    assert "Паспорт скрытого.pdf" not in page


def test_a_deleted_deal_s_folder_goes_to_the_trash_with_its_files(owner, crm_admin):
    deal = DealFactory(responsible=owner)
    attachment = services.attach_upload(deal, content("x"), KP, owner)
    folder = services.record_folder(deal)
    kept = DealFactory(responsible=owner)
    services.attach_upload(kept, content("y"), KP, owner)
    deal_services.deal_delete(deal, by=owner)
    folder.refresh_from_db()
    assert folder.deleted_at is not None
    assert File.objects.get(pk=attachment.file_id).deleted_with == folder
    ct = ContentType.objects.get_for_model(deal)
    assert not Attachment.objects.filter(content_type=ct, object_id=folder.object_id).exists()
    assert Attachment.objects.filter(object_id=kept.pk).count() == 1
    assert Folder.objects.get(content_type=ct, object_id=kept.pk).deleted_at is None
    # The CRM administrator finds it in the CRM files' trash.
    folders, _files = selectors.trash(crm_admin, services.crm_storage())
    assert folder in folders


def test_a_deleted_lead_s_folder_goes_to_the_trash(owner):
    from leads import services as lead_services

    lead = LeadFactory(responsible=owner)
    services.attach_upload(lead, content("x"), "Бриф.docx", owner)
    lead_services.lead_delete(lead, by=owner)
    assert Folder.objects.get(content_type=ContentType.objects.get_for_model(lead), object_id=lead.pk).deleted_at
    assert not Attachment.objects.exists()



def test_a_refusal_is_shown_in_the_panel_s_list(client, owner):
    deal = DealFactory(responsible=owner)
    attachment = services.attach_upload(deal, content("x"), KP, owner)
    services.delete(attachment.file, owner)  # sent to the trash from the disk meanwhile
    client.force_login(owner)
    response = client.post(reverse("disk:link_create", args=["deals.deal", deal.pk, attachment.pk]),
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx swaps only a 2xx
    assert 'data-testid="attachments-error"' in response.content.decode()
    assert "в корзине" in response.content.decode()
    assert not attachment.file.public_links.exists()


def test_a_deleted_task_s_files_go_to_the_trash(owner):
    task = task_services.task_create(data={"title": "Подготовить КП", "responsible": owner}, by=owner)
    attachment = services.attach_upload(task, content("x"), KP, owner)
    task_services.task_delete(task, by=owner)
    assert File.objects.get(pk=attachment.file_id).deleted_at is not None
    assert not Attachment.objects.exists()


def test_a_private_event_s_files_are_for_its_participants(client, owner, head):
    event = make_event(owner, timezone.now() + dt.timedelta(days=1), title="Собеседование", is_private=True)
    services.attach_upload(event, content("x"), "Резюме.pdf", owner)
    client.force_login(head)  # reaches the organizer's calendar, sees the event only as «Занят»
    assert client.get(reverse("disk:attachments", args=["calendar_app.event", event.pk])).status_code == 404
    assert post_file(client, event).status_code == 404
    client.force_login(owner)
    response = client.get(reverse("disk:attachments", args=["calendar_app.event", event.pk]))
    assert response.status_code == 200 and "Резюме.pdf" in response.content.decode()
