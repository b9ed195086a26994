"""Demo leads: the seed document's example «Тест Решение» (left in «Не обработан», so a new user
who types it in following the company's document meets the duplicate warning) and one lead per
prospect company, walked through the real service to every status — three of them converted into
a company, a contact and a deal (with the pinned comment of their «Разведка»)."""

import random
from datetime import date, timedelta
from decimal import Decimal

from clients.demo import short_name
from crm import timeline
from crm.models import ClientType, CrmSystem, JunkReason, Niche, Product, SalesChannel, Source, UsedProduct
from deals.models import Pipeline

from . import services
from .models import Lead, Status

SEED_TITLE = "Тест Решение"

# Prospects: companies the CRM meets first as leads (the clients demo holds the companies already
# won). (company, address, what is sold, source, amount, the status the lead is walked to)
PROSPECTS = [
    ("ООО «Балтийский берег»", "Калининград, ул. Театральная, 30", "Битрикс24", "Контур.Компас", 0, Status.NEW),
    ("ИП Кузнецов А. В.", "Самара, ул. Молодогвардейская, 40", "тайный покупатель", "Холодный звонок", 0, Status.NEW),
    ("ООО «Вкусная жизнь»", "Нижний Новгород, ул. Большая Покровская, 7", "обучение", "Сайт", 0, Status.NEW),
    ("ООО «Зелёный сад»", "Краснодар, ул. Северная, 210", "Битрикс24", "Веб-форма", 25000, Status.NEW),
    ("ООО «Автодеталь»", "Воронеж, ул. Кольцовская, 9", "тайный покупатель", "Контур.Компас", 0, Status.FIRST_CALL),
    ("ООО «Модный квартал»", "Ростов-на-Дону, ул. Пушкинская, 15", "обучение", "Входящий звонок", 60000,
     Status.FIRST_CALL),
    ("ООО «Уют-Сервис»", "Уфа, ул. Ленина, 70", "интеграция", "Выставка", 0, Status.FIRST_CALL),
    ("ООО «Аптека Здоровье»", "Тюмень, ул. Республики, 90", "Битрикс24", "Рекомендация", 150000, Status.QUALIFICATION),
    ("ООО «СпортЛайн»", "Омск, ул. Ленина, 10", "тайный покупатель", "Контур.Компас", 25000, Status.QUALIFICATION),
    ("ООО «ЭкоДом»", "Ярославль, ул. Свободы, 25", "интеграция", "Партнёр", 0, Status.QUALIFICATION),
    ("ООО «КлинингПро»", "Тула, пр-т Ленина, 45", "обучение", "Холодный звонок", 60000, Status.RECONNAISSANCE),
    ("ООО «Детский мир игрушек»", "Владимир, ул. Большая Московская, 19", "Битрикс24", "Битрикс24.Маркет", 150000,
     Status.RECONNAISSANCE),
    ("ООО «Оптторг»", "Иркутск, ул. Карла Маркса, 14", "интеграция", "Контур.Компас", 320000, Status.DECISION_MAKER),
    ("ООО «Пекарня №1»", "Псков, Октябрьский пр-т, 30", "тайный покупатель", "Электронная почта", 60000,
     Status.DECISION_MAKER),
    # Converted: their deals are in the cold, the inbound and the general pipeline (deals/demo.py
    # moves them further).
    ("ООО «Ромашка»", "Казань, ул. Баумана, 5", "Битрикс24", "Контур.Компас", 150000, Status.CONVERTED),
    ("ООО «ТехноПарк»", "Пермь, ул. Сибирская, 60", "интеграция", "Сайт", 320000, Status.CONVERTED),
    ("ООО «Цифровые решения»", "Томск, пр-т Ленина, 80", "обучение", "Рекомендация", 90000, Status.CONVERTED),
    ("ООО «Мебельный двор»", "Новосибирск, ул. Фрунзе, 12", "Битрикс24", "Холодный звонок", 0, Status.JUNK),
    ("ООО «СтройМаркет»", "Челябинск, ул. Кирова, 51", "интеграция", "Другое", 0, Status.JUNK),
]
# The pipeline each converted lead's manager picks (by position among the converted ones).
CONVERT_INTO = ["Холодное подключение «Битрикс 24»", "Входящие заявки «Битрикс 24»", "Общая воронка"]
PEOPLE = [("Соколов", "Дмитрий", "Олегович", "Генеральный директор"),
          ("Морозова", "Елена", "Сергеевна", "Коммерческий директор"), ("Волков", "Игорь", "Петрович", "Собственник"),
          ("Никитина", "Ольга", "Андреевна", "Директор по развитию"),
          ("Фёдоров", "Сергей", "Николаевич", "Руководитель отдела продаж")]


def seed(users, stdout=None) -> None:
    if Lead.objects.filter(title=SEED_TITLE).exists():
        return
    rng = random.Random(2026)
    managers = [users["ivanov"], users["petrova"], users["sidorov"]]

    # The seed document's example, exactly as the company wrote it down.
    services.lead_create(by=managers[0], data=dict(
        title=SEED_TITLE, source=Source.objects.get(name="Контур.Компас"), responsible=managers[0],
        company_name="Тест \"Решение\"", company_phone="+78800000000", company_email="proshenia.hr@yandex.ru",
        company_address="Санкт-Петербург, проспект Косыгина, 25 к1",
        contact_last_name="Лактионова", contact_first_name="Анна", contact_middle_name="Игоревна",
        contact_position="Руководитель отдела продаж", contact_phone="+79522666348",
    ))
    converted = 0
    for n, (company, address, topic, source, amount, target) in enumerate(PROSPECTS):
        manager = managers[n % 3]
        lead = services.lead_create(by=manager, data=dict(
            title=f"{short_name(company)} — {topic}", source=Source.objects.get(name=source), responsible=manager,
            company_name=company, company_phone=f"+7{rng.choice(['495', '812', '343', '843', '383'])}{1000000 + n:07d}",
            company_address=address, amount=Decimal(amount),
        ))
        lead = _advance(lead, target, manager, rng, PEOPLE[n % len(PEOPLE)], n)
        if target == Status.CONVERTED:
            services.lead_convert(lead, contact=True, company=True, deal=True, by=manager,
                                  pipeline=Pipeline.objects.filter(name=CONVERT_INTO[converted]).first())
            converted += 1
    if stdout:
        stdout.write(f"  лиды: {Lead.objects.count()}")


def _advance(lead, target, by, rng, person, n):
    path = [Status.FIRST_CALL, Status.QUALIFICATION, Status.RECONNAISSANCE, Status.DECISION_MAKER]
    if target == Status.JUNK:
        return services.lead_junk(lead, reason=rng.choice(list(JunkReason.objects.all())), by=by)
    if target == Status.CONVERTED:
        target = Status.DECISION_MAKER  # conversion itself is lead_convert's job
    last, first, middle, position = person
    for status in path[: path.index(target) + 1] if target in path else []:
        data, m2m, pinned = {}, {}, ""
        if status == Status.QUALIFICATION:
            data = {"niche": rng.choice(list(Niche.objects.all())), "crm_system": rng.choice(list(CrmSystem.objects.all())),
                    "client_type": rng.choice(list(ClientType.objects.all()))}
        if status == Status.RECONNAISSANCE:
            timeline.add_comment(lead, by, "Позвонил, секретарь дала почту ЛПР. Перезвонить во вторник.")
        if status == Status.DECISION_MAKER:
            shops = 3 + n % 10
            data = {"sales_channel": rng.choice(list(SalesChannel.objects.all())), "employees_count": rng.choice([8, 25, 60, 140]),
                    "contact_last_name": last, "contact_first_name": first, "contact_middle_name": middle,
                    "contact_position": position, "contact_phone": f"+7912{2000000 + n:07d}",
                    "talked_to_decision_maker": True, "usp_acknowledged": True,
                    "next_touch": "Бесплатный аудит портала", "next_touch_date": date.today() + timedelta(days=rng.randrange(1, 14)),
                    "training_info": "Внутренние тренинги для новых продавцов раз в квартал"}
            m2m = {"products_to_sell": rng.sample(list(Product.objects.all()), 2),
                   "used_products": [rng.choice(list(UsedProduct.objects.filter(means_none=False)))]}
            pinned = (f"Разведка: {short_name(lead.company_name)} — {shops} точек продаж, портал Битрикс24 куплен, "
                      f"но не внедрён. ЛПР — {last} {first[0]}. {middle[0]}., {position.lower()}.")
        lead = services.lead_move(lead, to=status, by=by, data=data, m2m=m2m, pinned_comment=pinned)
    return lead
