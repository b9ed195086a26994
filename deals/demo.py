"""Demo deals: ~25 deals over the three pipelines and their stages, owned by the demo managers,
created and moved through deals.services (so their histories look like real work), some with
product rows. Linked to the demo companies and contacts when the clients demo made any.
Idempotent: a second run adds nothing."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from clients.models import Company, Contact
from crm.models import Product, Source

from . import services
from .models import Deal, LossReason, Pipeline, Stage
from .requirements import missing_for

GENERAL, COLD, INBOUND = "Общая воронка", "Холодное подключение «Битрикс 24»", "Входящие заявки «Битрикс 24»"

# (pipeline, target stage, title); the first title marks that the demo has run.
PLAN = [
    (COLD, "Новая", "Ромашка — внедрение Битрикс24"),
    (COLD, "Новая", "Автодеталь — тайный покупатель"),
    (COLD, "Бесплатный продукт согласован", "Северный ветер — бесплатный аудит портала"),
    (COLD, "Бесплатный продукт проведён", "Мебельный двор — аудит отдела продаж"),
    (COLD, "Презентация", "СтройМаркет — CRM для розницы"),
    (COLD, "Презентация", "Вкусная жизнь — обучение продавцов"),
    (COLD, "КП отправлено", "ТехноПарк — интеграция с 1С"),
    (COLD, "Счёт выставлен", "Зелёный сад — лицензия Битрикс24"),
    (COLD, "Оплачено", "Модный квартал — тайный покупатель (3 точки)"),
    (COLD, "Отказ", "Уют-Сервис — внедрение CRM"),
    (INBOUND, "Новая заявка", "Заявка с сайта: Аптека Здоровье"),
    (INBOUND, "Новая заявка", "Веб-форма: СпортЛайн"),
    (INBOUND, "Первичный контакт", "ЭкоДом — продление Битрикс24"),
    (INBOUND, "Выявление потребностей", "КлинингПро — настройка воронок"),
    (INBOUND, "Демонстрация", "Детский мир игрушек — демонстрация CRM"),
    (INBOUND, "КП отправлено", "Оптторг — роботы и бизнес-процессы"),
    (INBOUND, "Счёт выставлен", "Пекарня №1 — тренинг для менеджеров"),
    (INBOUND, "Оплачено", "Цифровые решения — консультации"),
    (INBOUND, "Отказ", "Входящий звонок: Альфа-Строй"),
    (GENERAL, "Новая", "Тест \"Решение\" — проект внедрения"),
    (GENERAL, "Подготовка документов", "Северный ветер — договор на сопровождение"),
    (GENERAL, "Счёт на предоплату", "Ромашка — предоплата за проект"),
    (GENERAL, "В работе", "СтройМаркет — проект интеграции"),
    (GENERAL, "Финальный счёт", "Мебельный двор — финальный этап проекта"),
    (GENERAL, "Сделка успешна", "ТехноПарк — обучение руководителей"),
]
PRICES = [Decimal(p) for p in ("15000", "25000", "40000", "60000", "90000", "150000")]
COMMENTS = ["Клиент просит перезвонить после планёрки.", "ЛПР — собственник, решение за ним.",
            "Интересует интеграция с 1С и телефонией.", "Сравнивают с amoCRM.", ""]


def seed(users, stdout=None) -> None:
    if Deal.objects.filter(title=PLAN[0][2]).exists():
        return
    rng = random.Random(2026)
    managers = [users["ivanov"], users["petrova"], users["sidorov"]]
    pipelines = {p.name: p for p in Pipeline.objects.all()}
    if not all(name in pipelines for name in (GENERAL, COLD, INBOUND)):
        return  # a supervisor renamed the default pipelines: nothing sensible to seed
    companies = list(Company.objects.order_by("pk")[:40])
    contacts = list(Contact.objects.prefetch_related("companies").order_by("pk")[:80])
    sources = list(Source.objects.filter(is_active=True))
    products = list(Product.objects.filter(is_active=True))
    reasons = list(LossReason.objects.filter(is_active=True))
    today = timezone.localdate()
    for n, (pipeline_name, target_name, title) in enumerate(PLAN):
        owner = managers[n % len(managers)]
        pipeline = pipelines[pipeline_name]
        company = companies[n % len(companies)] if companies and n % 4 != 3 else None
        people = [c for c in contacts if company and company in c.companies.all()][:2] if company else []
        deal = services.deal_create(by=owner, pipeline=pipeline, data={
            "title": title, "responsible": owner, "company": company,
            "source": rng.choice(sources) if sources else None,
            "start_date": today - timedelta(days=rng.randrange(3, 60)),
            "close_date": today + timedelta(days=rng.randrange(-5, 45)),
            "comment": rng.choice(COMMENTS),
        }, m2m={"contacts": people} if people else None)
        stages = list(pipeline.stages.order_by("sort", "pk"))
        target = next((s for s in stages if s.name == target_name), None)
        if target is None:
            continue
        for stage in _path(stages, target, rng):
            deal = _move(deal, stage, owner, rng, products, reasons, companies, contacts, sources, today)
    if stdout:
        stdout.write(f"  сделки: {Deal.objects.count()}")


def _path(stages: list[Stage], target: Stage, rng) -> list[Stage]:
    """The stages a manager would walk through to reach `target` (a lost deal stops somewhere first)."""
    process = [s for s in stages if s.semantics == Stage.Semantics.IN_PROCESS]
    if target.semantics == Stage.Semantics.SUCCESS:
        return [*process[1:], target]
    if target.semantics == Stage.Semantics.FAILURE:
        return [*process[1:rng.randrange(1, max(2, len(process) - 1))], target]
    return process[1: process.index(target) + 1]


def _move(deal, stage, owner, rng, products, reasons, companies, contacts, sources, today):
    """Fill what the stage's rules ask for (as a manager would in the dialog), then move."""
    data, m2m = {}, {}
    for requirement in missing_for(deal, stage):
        key = requirement.key
        if key == "products" and products:
            rows = [(p, Decimal(rng.choice([1, 1, 2, 3])), rng.choice(PRICES))
                    for p in rng.sample(products, min(len(products), rng.choice([1, 2])))]
            deal = services.deal_set_products(deal, rows=rows, by=owner)
        elif key == "amount":
            data["amount"] = rng.choice(PRICES)
        elif key == "loss_reason" and reasons:
            data["loss_reason"] = rng.choice(reasons)
        elif key == "company" and companies:
            data["company"] = rng.choice(companies)
        elif key == "contacts" and contacts:
            m2m["contacts"] = [rng.choice(contacts)]
        elif key == "source" and sources:
            data["source"] = rng.choice(sources)
        elif key in ("start_date", "close_date"):
            data[key] = today + timedelta(days=rng.randrange(1, 30))
        elif key == "comment":
            data["comment"] = "Договорились о следующем звонке."
    if "amount" in data and deal.products.exists():
        data.pop("amount")  # the rows set it
    try:
        return services.deal_move(deal, to=stage, by=owner, data=data or None, m2m=m2m or None)
    except services.DealError:
        return deal  # a rule the demo cannot meet (added by a supervisor): the deal stays where it is
