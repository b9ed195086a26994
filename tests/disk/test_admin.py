"""The disk in the admin: files, folders and public links scoped by the role's «Диск» level on
their authors, read-only, and public links revoked by an admin action through the service."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from disk import services
from disk.models import File
from tests.factories import DepartmentFactory, UserFactory

from .conftest import content

pytestmark = pytest.mark.django_db


def staff(user, *models):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="disk",
                                                         codename__in=[f"view_{m}" for m in models]))
    return user


@pytest.fixture
def files(owner, outsider):
    stranger = UserFactory(username="stranger", department=DepartmentFactory(name="Филиал"), role="Менеджер")
    made = {}
    for user, name in ((owner, "Договор Иванова.docx"), (outsider, "Договор Сидорова.docx"),
                       (stranger, "Договор филиала.docx")):
        root = services.personal_storage(user).root
        made[name] = services.upload(root, content("x"), name, user)
        services.folder_create(root, f"Папка {name.split()[1]}", user)
    return made


def listed(client, model) -> str:
    response = client.get(reverse(f"admin:disk_{model}_changelist"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_head_sees_his_people_s_files_and_nothing_beyond(client, head, files, django_assert_max_num_queries):
    client.force_login(staff(head, "file", "folder", "publiclink"))
    with django_assert_max_num_queries(20):
        page = listed(client, "file")
    assert "Договор Иванова.docx" in page and "Договор Сидорова.docx" in page
    assert "Договор филиала.docx" not in page
    theirs = files["Договор филиала.docx"]
    assert client.get(reverse("admin:disk_file_change", args=[theirs.pk])).status_code == 404
    folders = listed(client, "folder")
    assert "Папка Иванова" in folders and "Папка филиала" not in folders


def test_a_manager_as_staff_sees_only_his_own(client, owner, files):
    client.force_login(staff(owner, "file"))
    page = listed(client, "file")
    assert "Договор Иванова.docx" in page and "Договор Сидорова.docx" not in page
    assert client.get(reverse("admin:disk_file_change", args=[files["Договор Сидорова.docx"].pk])).status_code == 404


def test_the_crm_administrator_sees_every_file(client, crm_admin, files):
    client.force_login(staff(crm_admin, "file"))
    page = listed(client, "file")
    assert all(name in page for name in files)


def test_nobody_edits_a_file_in_the_admin(client, head, files):
    client.force_login(staff(head, "file"))
    file = files["Договор Иванова.docx"]
    url = reverse("admin:disk_file_change", args=[file.pk])
    page = client.get(url).content.decode()
    assert 'name="name"' not in page and reverse("disk:download", args=[file.pk]) in page
    client.post(url, {"name": "Взлом.exe"})
    assert File.objects.get(pk=file.pk).name == "Договор Иванова.docx"
    assert client.get(reverse("admin:disk_file_add")).status_code == 403
    assert client.get(reverse("admin:disk_file_delete", args=[file.pk])).status_code == 403


def test_non_staff_personas_are_sent_to_the_login(client, personas):
    for name in ("owner", "teammate", "outsider", "crm_admin"):
        client.force_login(personas[name])
        response = client.get(reverse("admin:disk_file_changelist"))
        assert response.status_code == 302 and "/login/" in response["Location"], name


def test_the_head_revokes_public_links_of_his_people_s_files(client, head, owner, files):
    mine = services.public_link_create(files["Договор Иванова.docx"], owner)
    theirs = services.public_link_create(files["Договор филиала.docx"], files["Договор филиала.docx"].author)
    client.force_login(staff(head, "publiclink"))
    page = listed(client, "publiclink")
    assert "Договор Иванова.docx" in page and "Договор филиала.docx" not in page
    assert mine.token not in page
    response = client.post(reverse("admin:disk_publiclink_changelist"),
                           {"action": "revoke", "_selected_action": [mine.pk, theirs.pk]}, follow=True)
    assert response.status_code == 200
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None
    assert theirs.revoked_at is None  # out of his reach: not even selected
    assert client.get(reverse("disk:public", args=[mine.token])).status_code == 404
