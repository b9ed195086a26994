"""Demo deals: ~25 deals over the three pipelines, every stage with an example, each deal of the
demo company its title names (and owned by that company's manager, with its contacts), created and
moved through deals.services so their histories look like real work, some with product rows.
The deals that conversion made from the demo's leads (leads/demo.py) are moved on a few stages.
Idempotent: a second run adds nothing."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from clients.demo import short_name
from clients.models import Company, Contact
from crm.models import Product, Source

from . import services
from .models import Deal, LossReason, Pipeline, Stage
from .requirements import missing_for

GENERAL, COLD, INBOUND = "Общая воронка", "Холодное подключение «Битрикс 24»", "Входящие заявки «Битрикс 24»"

# (pipeline, target stage, company as titles name it, what is sold); the first deal marks that the
# demo has run.
PLAN = [
    (COLD, "Новая", "Волга-Моторс", "тайный покупатель в автосалоне"),
    (COLD, "Бесплатный продукт согласован", "Северный ветер", "бесплатный аудит портала"),
    (COLD, "Бесплатный продукт проведён", "Дубрава", "аудит отдела продаж"),
    (COLD, "Презентация", "УралСтройКомплект", "CRM для отдела снабжения"),
    (COLD, "Презентация", "Зерно", "обучение продавцов"),
    (COLD, "КП отправлено", "Сибирские окна", "интеграция с 1С"),
    (COLD, "Счёт выставлен", "Кубань-Агро", "лицензия Битрикс24"),
    (COLD, "Оплачено", "Добрый доктор", "тайный покупатель (3 филиала)"),
    (COLD, "Отказ", "Профи", "внедрение CRM"),
    (INBOUND, "Новая заявка", "Здоровье+", "заявка с сайта"),
    (INBOUND, "Новая заявка", "Зерно", "веб-форма: вторая кофейня"),
    (INBOUND, "Первичный контакт", "Северный ветер", "продление Битрикс24"),
    (INBOUND, "Выявление потребностей", "Сибирские окна", "настройка воронок"),
    (INBOUND, "Демонстрация", "Профи", "демонстрация CRM"),
    (INBOUND, "КП отправлено", "УралСтройКомплект", "роботы и бизнес-процессы"),
    (INBOUND, "Счёт выставлен", "Дубрава", "тренинг для менеджеров"),
    (INBOUND, "Оплачено", "Волга-Моторс", "консультации"),
    (INBOUND, "Отказ", "Кубань-Агро", "телефония в Битрикс24"),
    (GENERAL, "Новая", "Добрый доктор", "проект внедрения"),
    (GENERAL, "Подготовка документов", "Северный ветер", "договор на сопровождение"),
    (GENERAL, "Счёт на предоплату", "Здоровье+", "предоплата за проект"),
    (GENERAL, "В работе", "УралСтройКомплект", "проект интеграции"),
    (GENERAL, "Финальный счёт", "Дубрава", "финальный этап проекта"),
    (GENERAL, "Сделка успешна", "Волга-Моторс", "обучение руководителей"),
    (GENERAL, "Сделка провалена", "Зерно", "проект для сети кофеен"),
]
# Where the deals converted from the demo's leads have got to since, by pipeline.
CONVERTED_MOVED_TO = {COLD: "Бесплатный продукт согласован", INBOUND: "Выявление потребностей"}
PRICES = [Decimal(p) for p in ("15000", "25000", "40000", "60000", "90000", "150000")]
COMMENTS = ["Клиент просит перезвонить после планёрки.", "ЛПР — собственник, решение за ним.",
            "Интересует интеграция с 1С и телефонией.", "Сравнивают с amoCRM.", ""]


def title(company: str, what: str) -> str:
    return f"{company} — {what}"


def seed(users, stdout=None) -> None:
    if Deal.objects.filter(title=title(*PLAN[0][2:])).exists():
        return
    rng = random.Random(2026)
    managers = [users["ivanov"], users["petrova"], users["sidorov"]]
    pipelines = {p.name: p for p in Pipeline.objects.all()}
    if not all(name in pipelines for name in (GENERAL, COLD, INBOUND)):
        return  # a supervisor renamed the default pipelines: nothing sensible to seed
    companies = {short_name(c.name): c for c in Company.objects.select_related("responsible")}
    contacts = list(Contact.objects.prefetch_related("companies").order_by("pk"))
    sources = list(Source.objects.filter(is_active=True))
    products = list(Product.objects.filter(is_active=True))
    reasons = list(LossReason.objects.filter(is_active=True))
    today = timezone.localdate()
    for n, (pipeline_name, target_name, company_name, what) in enumerate(PLAN):
        company = companies.get(company_name)
        # The company's manager leads its deals; the managers take turns if the company is missing.
        owner = company.responsible if company and company.responsible else managers[n % len(managers)]
        people = [c for c in contacts if company in c.companies.all()][:2] if company else []
        pipeline = pipelines[pipeline_name]
        deal = services.deal_create(by=owner, pipeline=pipeline, data={
            "title": title(company_name, what), "responsible": owner, "company": company,
            "source": rng.choice(sources) if sources else None,
            "start_date": today - timedelta(days=rng.randrange(3, 60)),
            "close_date": today + timedelta(days=rng.randrange(-5, 45)),
            "comment": rng.choice(COMMENTS),
        }, m2m={"contacts": people} if people else None)
        _walk(deal, pipeline, target_name, owner, rng, products, reasons, sources, today)
    for deal in Deal.objects.filter(lead__isnull=False).select_related("pipeline", "responsible").order_by("pk"):
        if deal.pipeline.name in CONVERTED_MOVED_TO:
            _walk(deal, deal.pipeline, CONVERTED_MOVED_TO[deal.pipeline.name], deal.responsible, rng, products,
                  reasons, sources, today)
    if stdout:
        stdout.write(f"  сделки: {Deal.objects.count()}")


def _walk(deal, pipeline, target_name, owner, rng, products, reasons, sources, today):
    stages = list(pipeline.stages.order_by("sort", "pk"))
    target = next((s for s in stages if s.name == target_name), None)
    if target is None:
        return
    for stage in _path(stages, target, rng):
        deal = _move(deal, stage, owner, rng, products, reasons, sources, today)


def _path(stages: list[Stage], target: Stage, rng) -> list[Stage]:
    """The stages a manager would walk through to reach `target` (a lost deal stops somewhere first)."""
    process = [s for s in stages if s.semantics == Stage.Semantics.IN_PROCESS]
    if target.semantics == Stage.Semantics.SUCCESS:
        return [*process[1:], target]
    if target.semantics == Stage.Semantics.FAILURE:
        return [*process[1:rng.randrange(1, max(2, len(process) - 1))], target]
    return process[1: process.index(target) + 1]


def _move(deal, stage, owner, rng, products, reasons, sources, today):
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
