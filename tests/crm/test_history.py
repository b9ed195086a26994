"""The history keeps what changed and renders the sentence when shown: in the reader's language,
values formatted as the cards format them (issue 8 §1: English users do not read Russian history)."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from clients import services as clients
from crm import timeline
from crm.models import TimelineEntry
from deals import services as deals
from leads import services as leads
from leads.models import Status
from tests.factories import COLD, DealFactory, LeadFactory, ref, stage
from tests.leads.conftest import qualification_data

pytestmark = pytest.mark.django_db

NBSP = "\xa0"


def last(record, kind: str) -> TimelineEntry:
    return timeline.entries(record).filter(kind=kind).first()


def in_english(entry: TimelineEntry) -> timeline.Shown:
    with translation.override("en"):
        return timeline.render(entry)


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_it_renders_an_amount_change_as_money_in_the_readers_language(owner):
    lead = LeadFactory(responsible=owner)
    lead = leads.lead_update(lead, data={"amount": Decimal("30000")}, by=owner, version=lead.version)
    entry = last(lead, "change")
    # Raw values, not a sentence; a new lead's amount is 0, not empty.
    assert entry.data["changes"] == [{"name": "amount", "old": "0.00", "new": "30000"}]
    assert timeline.render(entry).changes == [("Сумма", f"0{NBSP}₽", f"30{NBSP}000{NBSP}₽")]
    assert in_english(entry).changes == [("Amount", f"0{NBSP}₽", f"30,000{NBSP}₽")]


def test_the_card_shows_the_same_entry_to_each_reader_in_his_language(client, owner):
    lead = leads.lead_create(data=dict(title="Тест Решение", source=ref("Source", "Контур.Компас"),
                                       company_name="Тест", company_phone="+78800000000", responsible=owner), by=owner)
    leads.lead_update(lead, data={"amount": Decimal("30000")}, by=owner, version=lead.version)
    client.force_login(owner)
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert f'Сумма: <span class="text-body-secondary">0{NBSP}₽</span> → 30{NBSP}000{NBSP}₽' in page
    assert "Лид создан" in page
    page = english(client).get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert f'Amount: <span class="text-body-secondary">0{NBSP}₽</span> → 30,000{NBSP}₽' in page
    assert "Lead created" in page and "Лид создан" not in page


def test_a_status_move_keeps_the_codes_and_renders_the_labels(owner):
    lead = LeadFactory(responsible=owner)
    lead = leads.lead_move(lead, to=Status.QUALIFICATION, by=owner, data=qualification_data())
    entry = last(lead, "status")
    assert (entry.data["from"], entry.data["to"]) == ("new", "qualification")
    shown = timeline.render(entry)
    assert (shown.heading, shown.old, shown.new) == ("Статус", "Не обработан", "Квалификация")
    shown = in_english(entry)
    assert (shown.heading, shown.new) == ("Status", "Qualification")


def test_created_renders_from_the_catalog(owner):
    entry = last(LeadFactory(responsible=owner), "created")
    assert entry is None  # a factory skips the service; the service writes it
    lead = leads.lead_create(data=dict(title="Тест Решение", source=ref("Source", "Контур.Компас"),
                                       company_name="Тест", company_phone="+78800000000", responsible=owner), by=owner)
    entry = last(lead, "created")
    assert entry.text == "Лид создан" and timeline.render(entry).text == "Лид создан"
    assert in_english(entry).text == "Lead created"


def test_dates_in_the_history_are_short_dates(owner):
    deal = DealFactory(responsible=owner)
    deal = deals.deal_update(deal, data={"close_date": datetime.date(2026, 4, 30)}, by=owner, version=deal.version)
    entry = last(deal, "change")
    assert entry.data["changes"][0]["new"] == "2026-04-30"
    assert timeline.render(entry).changes == [("Предполагаемая дата закрытия", "—", "30.04.2026")]
    assert in_english(entry).changes[0][2] == "04/30/2026"


def test_links_choices_and_yes_no_are_named_as_they_were_and_labelled_for_the_reader(owner):
    lead = LeadFactory(responsible=owner)
    niche = ref("Niche")
    lead = leads.lead_update(lead, data={"niche": niche, "currency": "USD", "talked_to_decision_maker": True},
                             by=owner, version=lead.version)
    entry = last(lead, "change")
    rows = {label: (old, new) for label, old, new in timeline.render(entry).changes}
    assert rows["Ниша компании"] == ("—", niche.name)
    assert rows["Валюта"] == ("Российский рубль", "Доллар США")
    assert in_english(entry).changes[1][1:] == ("Russian ruble", "US dollar")
    assert "да" in {new for _label, _old, new in timeline.render(entry).changes}


def test_phones_in_the_history_read_as_phones(owner):
    company = clients.company_create(data={"name": "Ромашка", "responsible": owner},
                                     communications=[("phone", "work", "+7 912 859-87-48", "")], by=owner)
    company = clients.company_update(company, data={}, communications=[("phone", "work", "8 912 000-00-01", "")],
                                     by=owner, version=company.version)
    assert timeline.render(last(company, "change")).changes == [
        ("Телефоны и e-mail", "+7 (912) 859-87-48", "+7 (912) 000-00-01")]
    assert in_english(last(company, "change")).changes[0][0] == "Phones and e-mails"


def test_the_conversion_summary_renders_in_the_readers_language(owner):
    from tests.leads.conftest import decision_maker_data, decision_maker_m2m

    lead = LeadFactory(responsible=owner, company_name="Ромашка")
    lead = leads.lead_update(lead, data={**qualification_data(), **decision_maker_data()}, m2m=decision_maker_m2m(),
                             by=owner, version=lead.version)
    timeline.add_comment(lead, owner, "Разведка: 12 магазинов", pin_it=True)
    lead = leads.lead_move(lead, to=Status.DECISION_MAKER, by=owner)
    result = leads.lead_convert(lead, contact=False, company=True, deal=True, by=owner)
    entry = last(result.lead, "system")
    assert entry.text == f"Лид сконвертирован — компания: Ромашка; сделка: {result.deal}"
    assert in_english(entry).text == f"Lead converted — company: Ромашка; deal: {result.deal}"


def test_a_deal_move_keeps_the_stage_names_of_the_time_and_the_reason_in_the_readers_language(owner):
    deal = DealFactory(responsible=owner)
    lost = deal.pipeline.stages.get(semantics="failure")
    deal = deals.deal_move(deal, to=lost, by=owner, data={"loss_reason": ref_loss_reason()})
    entry = last(deal, "status")
    assert (entry.data["from"], entry.data["to_label"]) == (stage(COLD, "Новая").pk, lost.name)
    shown = in_english(entry)
    assert (shown.heading, shown.old, shown.new) == ("Stage", "Новая", lost.name)  # stage names are data
    assert shown.text.startswith("Reason: ")


def ref_loss_reason():
    from deals.models import LossReason

    return LossReason.objects.order_by("pk").first() or LossReason.objects.create(name="Дорого")


def test_an_entry_written_before_still_renders_as_it_was(owner):
    lead = LeadFactory(responsible=owner)
    timeline.log(lead, timeline.Kind.CHANGE, owner, changes=[{"field": "Сумма", "old": "—", "new": "30000"}])
    timeline.log(lead, timeline.Kind.STATUS, owner, "", **{"from": "new", "to": "gone", "from_label": "Не обработан",
                                                            "to_label": "Старый статус"})
    timeline.log(lead, timeline.Kind.SYSTEM, owner, "Лид сконвертирован — компания: Ромашка")
    assert timeline.render(last(lead, "change")).changes == [("Сумма", "—", "30000")]
    shown = timeline.render(last(lead, "status"))
    assert (shown.heading, shown.old, shown.new) == ("Статус", "Не обработан", "Старый статус")
    assert in_english(last(lead, "system")).text == "Лид сконвертирован — компания: Ромашка"


def test_the_admin_history_column_renders_the_same_entries(client, head, owner):
    from accounts.demo import grant_supervisors

    grant_supervisors({"head": head})
    lead = LeadFactory(responsible=owner)
    leads.lead_move(lead, to=Status.QUALIFICATION, by=owner, data=qualification_data())
    client.force_login(head)
    page = english(client).get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()
    assert "Status: Not processed → Qualification" in page and "Company niche: — → " in page
    assert "Квалификация" not in page.split("Status: ", 1)[1][:200]


def test_product_rows_keep_what_was_there_and_read_as_money(owner):
    deal = DealFactory(responsible=owner)
    deal = deals.deal_set_products(deal, rows=[(ref("Product", "Тренинги"), Decimal("2"), Decimal("15000"))], by=owner)
    deal = deals.deal_set_products(deal, rows=[(ref("Product", "Тренинги"), Decimal("1"), Decimal("5000.50"))],
                                   by=owner)
    (label, old, new), = timeline.render(last(deal, "change")).changes
    assert label == "Товары/услуги"
    assert old == f"Тренинги: 2 × 15{NBSP}000{NBSP}₽" and new == f"Тренинги: 1 × 5{NBSP}000,50{NBSP}₽"
    assert in_english(last(deal, "change")).changes[0][2] == f"Тренинги: 1 × 5,000.50{NBSP}₽"


def test_a_deleted_records_note_names_its_kind_in_the_readers_language(owner):
    company = clients.company_create(data={"name": "Ромашка", "responsible": owner}, by=owner)
    lead = LeadFactory(responsible=owner, title="Лид на удаление", company=company)
    leads.lead_delete(lead, by=owner)
    note = last(company, "system")
    assert note.text == "Удалена связанная запись: Лид «Лид на удаление»"
    assert timeline.render(note).text == note.text
    with translation.override("en"):
        assert "Lead “Лид на удаление”" in timeline.render(note).text  # the sentence waits for its translation
