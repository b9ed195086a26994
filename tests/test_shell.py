"""Login, logout, password change, the menu and the language switch."""

import pytest
from django.urls import reverse

from accounts.models import Action, Entity, Level, Permission
from tests.factories import PASSWORD


def test_every_page_requires_login(client, db):
    for url in (reverse("home"), reverse("profile"), reverse("password_change"), "/admin/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login/" in response["Location"]


def test_login_page_is_in_russian(client, db):
    html = client.get(reverse("login")).content.decode()
    assert "Войти" in html and "Имя пользователя" in html and 'lang="ru"' in html


def test_it_logs_in_and_out(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": PASSWORD}, follow=True)
    assert response.context["user"] == owner
    assert "Иванов Пётр" in response.content.decode()
    response = client.post(reverse("logout"), follow=True)
    assert not response.context["user"].is_authenticated


def test_a_wrong_password_gives_a_clear_russian_message(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": "wrong"})
    assert "Неверный логин или пароль" in response.content.decode()


def test_repeated_failures_lock_the_login(client, owner, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "owner", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "owner", "password": PASSWORD})
    assert response.status_code == 429
    assert "Слишком много неудачных попыток" in response.content.decode()


def test_password_change(client, owner):
    client.force_login(owner)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Nov-parol-2026!", "new_password2": "Nov-parol-2026!"},
        follow=True,
    )
    assert "Пароль изменён" in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password("Nov-parol-2026!")


def test_the_profile_shows_department_and_levels(client, owner):
    client.force_login(owner)
    html = client.get(reverse("profile")).content.decode()
    assert "Группа продаж 1" in html
    assert "Свои" in html and "Все" not in html.split('data-testid="access-table"')[1]


def test_menu_has_no_entries_for_unbuilt_modules_or_forbidden_entities(client, owner):
    from django.test import RequestFactory

    from accounts.context_processors import MENU, navigation

    request = RequestFactory().get("/")
    request.user = owner
    request.resolver_match = None
    menu = navigation(request)["menu"]
    urls = [child["url"] for item in menu for child in item.get("children", [item])]
    # Every entry shown resolves; entries shown depend on what exists.
    for url in urls:
        assert client.get(url).status_code in (200, 302)
    Permission.objects.filter(role__name="Менеджер", action=Action.VIEW).update(level=Level.NONE)
    request.user = type(owner).objects.get(pk=owner.pk)
    assert navigation(request)["menu"] == []
    assert MENU  # the declaration itself is not empty


def test_language_switch_to_english(client, owner):
    client.force_login(owner)
    client.post(reverse("set_language"), {"language": "en", "next": "/profile/"})
    html = client.get(reverse("profile")).content.decode()
    assert 'lang="en"' in html and "My profile" in html


@pytest.mark.parametrize("persona", ["owner", "head", "crm_admin"])
def test_the_topbar_shows_user_and_department(client, personas, persona):
    user = personas[persona]
    client.force_login(user)
    html = client.get(reverse("profile")).content.decode()
    assert str(user) in html and str(user.department) in html


def test_the_admin_is_in_russian_for_supervisors(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    html = client.get("/admin/accounts/role/").content.decode()
    assert "Роли" in html
    html = client.get("/admin/").content.decode()
    assert "Отделы" in html and "Пользователи" in html


def test_head_can_see_levels_in_every_entity(personas):
    from accounts import access

    assert all(access.level(personas["head"], e, Action.VIEW) == Level.SUBDEPARTMENTS for e in Entity)


def test_only_the_current_section_is_highlighted_in_the_menu(client, owner):
    client.force_login(owner)
    html = client.get("/clients/contacts/").content.decode()
    menu = html.split('data-testid="menu"')[1].split("</ul>")[0]
    assert 'nav-link active" href="/clients/contacts/"' in menu
    assert 'nav-link active" href="/clients/companies/"' not in menu


def test_a_role_gets_rights_on_one_pipeline_in_the_admin(client, db):
    from accounts.models import Role
    from deals.models import Pipeline
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    role = Role.objects.get(name="Менеджер")
    inbound = Pipeline.objects.get(name="Входящие заявки «Битрикс 24»")
    page = client.get(f"/admin/accounts/role/{role.pk}/change/").content.decode()
    assert f'value="pipeline:{inbound.pk}"' in page and "Входящие заявки" in page
    existing = list(role.permissions.order_by("pk"))
    data = {"name": role.name, "description": role.description,
            "permissions-TOTAL_FORMS": str(len(existing) + 1), "permissions-INITIAL_FORMS": str(len(existing)),
            "permissions-MIN_NUM_FORMS": "0", "permissions-MAX_NUM_FORMS": "1000"}
    for i, p in enumerate(existing):
        data.update({f"permissions-{i}-id": p.pk, f"permissions-{i}-role": role.pk, f"permissions-{i}-entity": p.entity,
                     f"permissions-{i}-action": p.action, f"permissions-{i}-scope": p.scope,
                     f"permissions-{i}-level": p.level})
    n = len(existing)
    data.update({f"permissions-{n}-role": role.pk, f"permissions-{n}-entity": "deal", f"permissions-{n}-action": "view",
                 f"permissions-{n}-scope": f"pipeline:{inbound.pk}", f"permissions-{n}-level": "0"})
    response = client.post(f"/admin/accounts/role/{role.pk}/change/", data)
    assert response.status_code == 302
    assert role.permissions.filter(scope=f"pipeline:{inbound.pk}", level=0).exists()
