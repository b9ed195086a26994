"""The company's own example lead «Тест Решение» (the seed document), for browser tests: put in a
status through the services, and the «Выход на ЛПР» dialog filled as a manager fills it."""

from leads import services
from leads.models import Lead, Status
from tests.factories import ref
from tests.leads.conftest import decision_maker_data, decision_maker_m2m, qualification_data

PINNED = "Разведка: 3 магазина, Битрикс24 (облако) не внедрён; ЛПР — Лактионова А. И."


def seed_lead(owner, upto: str = Status.NEW) -> Lead:
    """The seed's lead, created and moved up to `upto` (an in-process status) by the services."""
    lead = services.lead_create(data={
        "title": "Тест Решение", "source": ref("Source", "Контур.Компас"), "company_name": 'Тест "Решение"',
        "company_phone": "+78800000000", "responsible": owner,
        "contact_last_name": "Лактионова", "contact_first_name": "Анна", "contact_middle_name": "Игоревна",
        "contact_position": "Руководитель отдела продаж", "contact_phone": "+79522666348",
    }, by=owner)
    steps = [(Status.FIRST_CALL, {}), (Status.QUALIFICATION, {"data": qualification_data()}),
             (Status.RECONNAISSANCE, {}),
             (Status.DECISION_MAKER, {"data": decision_maker_data(), "m2m": decision_maker_m2m(),
                                      "pinned_comment": PINNED})]
    for status, kwargs in steps:
        if lead.status == upto:
            break
        lead = services.lead_move(lead, to=status, by=owner, **kwargs)
    return lead


def fill_decision_maker_dialog(dialog, click=lambda locator: locator.check(),
                               choose=lambda locator, label: locator.select_option(label=label)) -> None:
    """What «Выход на ЛПР» asks for, answered for the seed's lead. `click` and `choose` let a test
    count the actions."""
    dialog.get_by_label("Закреплённый комментарий").fill(PINNED)
    choose(dialog.get_by_label("Канал сбыта"), "Розничные точки")
    dialog.get_by_label("Количество сотрудников").fill("25")
    for label in ("Разговор с ЛПР/ЛВР состоялся", "ЛПР/ЛВР ознакомлен с УТП компании «Решение»",
                  "Ничем не пользовалась"):
        click(dialog.get_by_label(label))
    click(dialog.get_by_label("Тренинги", exact=True))
    dialog.get_by_label("Договорённость о следующем касании или о бесплатном продукте").fill("Бесплатный аудит портала")
    dialog.get_by_label("Какое обучение проводят для сотрудников").fill("Внутреннее, раз в квартал")


def watch(page) -> dict:
    """Counts full page loads and collects script errors from here on."""
    seen = {"loads": 0, "problems": []}
    page.on("load", lambda _page: seen.__setitem__("loads", seen["loads"] + 1))
    page.on("console", lambda msg: msg.type == "error" and seen["problems"].append(msg.text))
    page.on("pageerror", lambda exc: seen["problems"].append(str(exc)))
    return seen
