"""The «Успешный» dialog on the lead card: choice, preview, one click, links back."""

import pytest
from django.urls import reverse

from clients import services as clients
from deals.models import Deal
from leads import services
from leads.models import Status
from tests.factories import COLD, GENERAL, pipeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(ready_lead, owner):
    return services.lead_move(ready_lead, to=Status.DECISION_MAKER, by=owner)


def html(response):
    return response.content.decode()


def test_the_status_bar_offers_conversion_only_from_decision_maker(client, owner, lead, decided):
    client.force_login(owner)
    page = html(client.get(reverse("leads:detail", args=[decided.pk])))
    assert reverse("leads:convert", args=[decided.pk]) in page
    other = type(lead).objects.create(title="Ранний", source=decided.source, company_name="X",
                                      company_phone="+79120000077", responsible=owner)
    assert reverse("leads:convert", args=[other.pk]) not in html(client.get(reverse("leads:detail", args=[other.pk])))


def test_the_dialog_previews_values_and_defaults_the_pipeline_by_source(client, owner, decided):
    client.force_login(owner)
    response = client.post(reverse("leads:convert", args=[decided.pk]), HTTP_HX_REQUEST="true")
    page = html(response)
    assert response["HX-Retarget"] == "#crm-modal-content"
    assert "Успешный лид: что создать в CRM" in page
    assert 'Тест "Решение"' in page or "Тест &quot;Решение&quot;" in page
    assert "Лактионова Анна" in page and "+7 (880) 000-00-00" in page and "Тренинги" in page
    assert f'value="{pipeline(COLD).pk}" selected' in page


def test_the_dialog_says_which_existing_company_will_be_reused(client, owner, decided):
    services.lead_update(decided, data={"inn": "7707083893"}, by=owner, version=decided.version)
    clients.company_create(data={"name": "ПАО Сбербанк", "inn": "7707083893", "responsible": owner}, by=None)
    client.force_login(owner)
    page = html(client.post(reverse("leads:convert", args=[decided.pk])))
    assert "Уже есть в CRM" in page and "ПАО Сбербанк" in page


def test_converting_creates_the_records_and_links_them_from_the_lead(client, owner, decided):
    client.force_login(owner)
    response = client.post(reverse("leads:convert", args=[decided.pk]),
                           {"dialog": "1", "contact": "on", "company": "on", "deal": "on",
                            "pipeline": pipeline(GENERAL).pk})
    deal = Deal.objects.get()
    assert response.status_code == 302 and response["Location"] == deal.get_absolute_url()
    assert deal.pipeline.name == GENERAL
    page = html(client.get(reverse("leads:detail", args=[decided.pk])))
    assert "Создано при конвертации" in page and deal.get_absolute_url() in page
    assert deal.company.get_absolute_url() in page


def test_nothing_chosen_is_refused_and_nothing_created(client, owner, decided):
    client.force_login(owner)
    page = html(client.post(reverse("leads:convert", args=[decided.pk]), {"dialog": "1"}))
    assert "Выберите, что создать" in page
    decided.refresh_from_db()
    assert decided.status == Status.DECISION_MAKER and not Deal.objects.exists()


def test_a_pipeline_the_user_may_not_use_is_refused(client, owner, decided):
    from accounts.models import Permission

    Permission.objects.create(role=owner.roles.get(), entity="deal", action="add", level=0,
                              scope=pipeline(GENERAL).access_scope)
    client.force_login(owner)
    page = html(client.post(reverse("leads:convert", args=[decided.pk]),
                            {"dialog": "1", "deal": "on", "pipeline": pipeline(GENERAL).pk}))
    assert "недоступна" in page and not Deal.objects.exists()


def test_strangers_cannot_convert(client, teammate, decided):
    client.force_login(teammate)
    assert client.post(reverse("leads:convert", args=[decided.pk]), {"dialog": "1", "deal": "on"}).status_code == 404


def test_the_company_and_contact_cards_show_the_leads_pinned_comment(client, owner, decided):
    result = services.lead_convert(decided, contact=True, company=True, deal=False, by=owner)
    client.force_login(owner)
    for record in (result.company, result.contact):
        page = html(client.get(record.get_absolute_url()))
        assert 'data-testid="lead-pinned-comment"' in page and "Разведка: 12 магазинов" in page
