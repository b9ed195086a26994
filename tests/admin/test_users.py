"""Only superusers grant privileges; no one raises his own; a head edits his people's names and
positions, nothing that gives access. Roles, their access matrix and departments: superusers."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.demo import SUPERVISOR_PERMISSIONS, supervisor_permissions
from accounts.models import Role, User

pytestmark = pytest.mark.django_db


def _profile(user, **changes):
    """The user change form as a head posts it (what is editable for him), plus `changes`."""
    data = {"username": user.username, "last_name": user.last_name, "first_name": user.first_name,
            "middle_name": user.middle_name, "email": user.email, "phone": user.phone, "position": user.position,
            "department": user.department_id or "", "date_joined_0": "01.01.2026", "date_joined_1": "10:00:00"}
    data.update(changes)
    return data


def test_it_keeps_the_head_from_making_himself_superuser(client, supervisor):
    admin_role = Role.objects.get(name="Администратор CRM")
    group = Group.objects.create(name="Всемогущие")
    client.force_login(supervisor)
    response = client.post(reverse("admin:accounts_user_change", args=[supervisor.pk]), _profile(
        supervisor, position="Директор по продажам", is_superuser="on", is_staff="on", roles=[admin_role.pk],
        groups=[group.pk], department=supervisor.department.parent_id))
    assert response.status_code == 302
    supervisor.refresh_from_db()
    assert supervisor.position == "Директор по продажам"  # what is his to edit is saved
    assert not supervisor.is_superuser
    assert list(supervisor.roles.values_list("name", flat=True)) == ["Руководитель отдела продаж"]
    assert list(supervisor.groups.values_list("name", flat=True)) == ["Руководители"]
    assert supervisor.department.name == "Отдел продаж"  # he does not move himself up the tree


def test_it_lets_the_head_edit_his_managers_but_grant_them_nothing(client, supervisor, owner, org):
    admin_role = Role.objects.get(name="Администратор CRM")
    client.force_login(supervisor)
    page = client.get(reverse("admin:accounts_user_change", args=[owner.pk])).content.decode()
    assert 'name="position"' in page and 'name="is_superuser"' not in page and 'name="roles"' not in page
    assert "pbkdf2" not in page and 'name="groups"' not in page
    response = client.post(reverse("admin:accounts_user_change", args=[owner.pk]), _profile(
        owner, position="Старший менеджер", department=org["group2"].pk, is_staff="on", is_superuser="on",
        roles=[admin_role.pk], email="evil@example.com", username="renamed"))
    assert response.status_code == 302
    owner.refresh_from_db()
    assert (owner.position, owner.department) == ("Старший менеджер", org["group2"])
    assert not owner.is_staff and not owner.is_superuser
    assert (owner.username, owner.email) == ("owner", "owner@example.com")
    assert list(owner.roles.values_list("name", flat=True)) == ["Менеджер"]


def test_it_keeps_the_head_within_his_tree(client, supervisor, owner, stranger, superuser, org):
    client.force_login(supervisor)
    page = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "owner" in page and "stranger" not in page and ">root<" not in page
    assert client.get(reverse("admin:accounts_user_change", args=[stranger.pk])).status_code == 404
    assert client.get(reverse("admin:accounts_user_change", args=[superuser.pk])).status_code == 404
    # Moving a manager out of his tree is not a choice the form offers.
    response = client.post(reverse("admin:accounts_user_change", args=[owner.pk]),
                           _profile(owner, department=org["root"].pk))
    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.department == org["group1"]


def test_it_leaves_passwords_users_roles_and_departments_to_superusers(client, supervisor, owner, org):
    client.force_login(supervisor)
    role = Role.objects.get(name="Руководитель отдела продаж")
    assert client.get(reverse("admin:auth_user_password_change", args=[owner.pk])).status_code == 403
    response = client.post(reverse("admin:auth_user_password_change", args=[owner.pk]),
                           {"password1": "Ne-tvoy-parol-42", "password2": "Ne-tvoy-parol-42"})
    assert response.status_code == 403
    assert client.get(reverse("admin:accounts_user_add")).status_code == 403
    assert client.post(reverse("admin:accounts_user_delete", args=[owner.pk]), {"post": "yes"}).status_code == 403
    for url in (reverse("admin:accounts_role_changelist"), reverse("admin:accounts_role_change", args=[role.pk]),
                reverse("admin:accounts_department_changelist"),
                reverse("admin:accounts_department_change", args=[org["sales"].pk])):
        assert client.get(url).status_code == 403, url
    client.post(reverse("admin:accounts_role_change", args=[role.pk]), {
        "name": role.name, "permissions-TOTAL_FORMS": "0", "permissions-INITIAL_FORMS": "0"})
    assert role.permissions.filter(level=40).count() == 0
    owner.refresh_from_db()
    assert owner.check_password("Pa55word-for-tests") and User.objects.filter(pk=owner.pk).exists()


def test_a_superuser_does_everything_but_unmake_himself(client, superuser, owner):
    client.force_login(superuser)
    data = _profile(superuser, position="Админ")  # is_superuser, is_staff, is_active left unticked
    response = client.post(reverse("admin:accounts_user_change", args=[superuser.pk]), data)
    assert response.status_code == 302
    superuser.refresh_from_db()
    assert superuser.position == "Админ" and superuser.is_superuser and superuser.is_staff and superuser.is_active

    response = client.post(reverse("admin:accounts_user_change", args=[owner.pk]),
                           _profile(owner, is_staff="on", is_active="on"))
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.is_staff
    assert client.get(reverse("admin:accounts_role_changelist")).status_code == 200


def test_the_supervisors_group_grants_what_a_head_needs_and_no_accounts_power(supervisor):
    granted = set(supervisor_permissions().values_list("content_type__app_label", "codename"))
    wanted = sum(len(actions) for models in SUPERVISOR_PERMISSIONS.values() for actions in models.values())
    assert len(granted) == wanted  # every codename listed exists
    supervisor = User.objects.get(pk=supervisor.pk)  # a fresh permission cache
    assert supervisor.has_perm("crm.change_niche") and supervisor.has_perm("deals.change_stage")
    assert supervisor.has_perm("leads.add_requirement") and supervisor.has_perm("clients.delete_company")
    assert {codename for app, codename in granted if app == "accounts"} == {"view_user", "change_user"}
    assert not supervisor.has_perm("accounts.change_role") and not supervisor.has_perm("auth.change_group")
    assert not supervisor.has_perm("crm.delete_deletionrecord") and not supervisor.has_perm("clients.change_company")


def test_even_a_granted_django_permission_opens_no_roles_groups_or_departments(client, supervisor, org):
    """Defence in depth: were the supervisors' group given accounts or auth permissions by
    mistake, the head still could not raise his own access."""
    from django.contrib.auth.models import Permission

    group = supervisor.groups.get()
    group.permissions.add(*Permission.objects.filter(content_type__app_label__in=["accounts", "auth"]))
    client.force_login(supervisor)
    for url in (reverse("admin:auth_group_change", args=[group.pk]), reverse("admin:accounts_role_changelist"),
                reverse("admin:accounts_department_change", args=[org["sales"].pk]),
                reverse("admin:accounts_user_add")):
        assert client.get(url).status_code == 403, url
    client.post(reverse("admin:accounts_user_change", args=[supervisor.pk]), _profile(supervisor, is_superuser="on"))
    supervisor.refresh_from_db()
    assert not supervisor.is_superuser
