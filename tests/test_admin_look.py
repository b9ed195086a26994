"""The admin speaks correct Russian and looks like the CRM: a kind of record in a title takes the
accusative («Выберите стадию для изменения»), a count takes the right plural form («20 обязательных
полей»), and every page leads back to the CRM."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from crm.admin_names import forms_for, plural
from deals.models import Stage, StageRequirement
from tests.factories import GENERAL, stage

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def admin_client(client, crm_admin):
    crm_admin.is_staff = crm_admin.is_superuser = True
    crm_admin.save()
    client.force_login(crm_admin)
    return client


def test_titles_name_the_record_in_the_accusative(admin_client):
    page = text(admin_client.get(reverse("admin:deals_stage_changelist")))
    assert "<h1>Выберите стадию для изменения</h1>" in page and "Выберите Стадия" not in page
    assert "Добавить стадию" in page
    page = text(admin_client.get(reverse("admin:deals_stage_change", args=[stage(GENERAL, "Новая").pk])))
    assert "<h1>Изменить стадию</h1>" in page
    assert "<h1>Добавить стадию</h1>" in text(admin_client.get(reverse("admin:deals_stage_add")))


def test_counts_take_the_russian_plural(admin_client):
    count = StageRequirement.objects.count()
    page = text(admin_client.get(reverse("admin:deals_stagerequirement_changelist")))
    assert f"{count} {plural(count, forms_for(StageRequirement._meta))}" in page
    assert "Обязательные поля по стадиям</p>" not in page
    forms = forms_for(StageRequirement._meta)
    assert [plural(n, forms) for n in (1, 2, 5, 11, 21, 22, 20)] == [
        "обязательное поле", "обязательных поля", "обязательных полей", "обязательных полей",
        "обязательное поле", "обязательных поля", "обязательных полей"]


def test_english_readers_get_english_counts():
    with translation.override("en"):
        assert plural(1, forms_for(Stage._meta)) != plural(5, forms_for(Stage._meta))


def test_every_admin_page_leads_back_to_the_crm(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert 'data-testid="admin-back-to-crm"' in page and f'href="{reverse("home")}"' in page
    assert "css/admin.css" in page


def test_stage_colours_are_shown_as_colours(admin_client):
    page = admin_client.get(reverse("admin:deals_stage_changelist")).content.decode()
    colour = stage(GENERAL, "Новая").color
    assert f'<span class="crm-color-swatch" style="background:{colour}"></span>{colour}' in page
