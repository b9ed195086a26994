"""Demo leads: the seed document's example plus a realistic spread over statuses, managers and
sources, moved through the real service so their histories look like real work."""

import random
from datetime import date, timedelta
from decimal import Decimal

from crm import timeline
from crm.models import ClientType, CrmSystem, JunkReason, Niche, Product, SalesChannel, Source, UsedProduct

from . import services
from .models import Lead, Status

COMPANIES = [
    ("Тест \"Решение\"", "Санкт-Петербург, проспект Косыгина, 25 к1"), ("ООО «Северный ветер»", "Москва, ул. Тверская, 12"),
    ("ООО «Ромашка»", "Казань, ул. Баумана, 5"), ("ИП Кузнецов А. В.", "Самара, ул. Ленинградская, 40"),
    ("АО «СтройМаркет»", "Екатеринбург, ул. Малышева, 51"), ("ООО «Мебельный двор»", "Новосибирск, Красный пр-т, 86"),
    ("ООО «Вкусная жизнь»", "Нижний Новгород, ул. Большая Покровская, 7"), ("ООО «ТехноПарк»", "Пермь, ул. Ленина, 60"),
    ("ООО «Зелёный сад»", "Краснодар, ул. Красная, 122"), ("ООО «Автодеталь»", "Воронеж, пр-т Революции, 33"),
    ("ООО «Модный квартал»", "Ростов-на-Дону, ул. Пушкинская, 15"), ("ООО «Уют-Сервис»", "Уфа, ул. Ленина, 70"),
    ("ООО «Аптека Здоровье»", "Тюмень, ул. Республики, 90"), ("ООО «СпортЛайн»", "Омск, ул. Ленина, 10"),
    ("ООО «ЭкоДом»", "Ярославль, ул. Свободы, 25"), ("ООО «КлинингПро»", "Тула, пр-т Ленина, 45"),
    ("ООО «Детский мир игрушек»", "Владимир, ул. Большая Московская, 19"), ("ООО «Оптторг»", "Иркутск, ул. Карла Маркса, 14"),
    ("ООО «Пекарня №1»", "Калининград, Ленинский пр-т, 30"), ("ООО «Цифровые решения»", "Томск, пр-т Ленина, 80"),
]
PEOPLE = [("Лактионова", "Анна", "Игоревна", "Руководитель отдела продаж"), ("Соколов", "Дмитрий", "Олегович", "Генеральный директор"),
          ("Морозова", "Елена", "Сергеевна", "Коммерческий директор"), ("Волков", "Игорь", "Петрович", "Собственник"),
          ("Никитина", "Ольга", "Андреевна", "Директор по развитию"), ("Фёдоров", "Сергей", "Николаевич", "Руководитель отдела продаж")]
TARGETS = [Status.NEW] * 6 + [Status.FIRST_CALL] * 5 + [Status.QUALIFICATION] * 4 + [Status.RECONNAISSANCE] * 3 + \
          [Status.DECISION_MAKER] * 3 + [Status.JUNK] * 3


def seed(users, stdout=None) -> None:
    if Lead.objects.filter(title="Тест Решение").exists():
        return
    rng = random.Random(2026)
    managers = [users["ivanov"], users["petrova"], users["sidorov"]]
    sources = list(Source.objects.all())

    # The seed document's example, exactly as the company wrote it down.
    services.lead_create(by=managers[0], data=dict(
        title="Тест Решение", source=Source.objects.get(name="Контур.Компас"), responsible=managers[0],
        company_name="Тест \"Решение\"", company_phone="+78800000000", company_email="proshenia.hr@yandex.ru",
        company_address="Санкт-Петербург, проспект Косыгина, 25 к1",
        contact_last_name="Лактионова", contact_first_name="Анна", contact_middle_name="Игоревна",
        contact_position="Руководитель отдела продаж", contact_phone="+79522666348",
    ))
    for n, target in enumerate(TARGETS):
        name, address = COMPANIES[(n + 1) % len(COMPANIES)]
        last, first, middle, position = PEOPLE[n % len(PEOPLE)]
        manager = managers[n % 3]
        lead = services.lead_create(by=manager, data=dict(
            title=f"{name.split('«')[-1].rstrip('»')} — {rng.choice(['Битрикс24', 'тайный покупатель', 'обучение', 'интеграция'])}",
            source=rng.choice(sources), responsible=manager, company_name=name,
            company_phone=f"+7{rng.choice(['495', '812', '343', '843', '383'])}{rng.randrange(10**6, 10**7)}",
            company_address=address, amount=Decimal(rng.choice([0, 25000, 60000, 150000, 320000])),
        ))
        _advance(lead, target, manager, rng, last, first, middle, position)
    if stdout:
        stdout.write(f"  лиды: {Lead.objects.count()}")


def _advance(lead, target, by, rng, last, first, middle, position):
    path = [Status.FIRST_CALL, Status.QUALIFICATION, Status.RECONNAISSANCE, Status.DECISION_MAKER]
    if target == Status.JUNK:
        services.lead_junk(lead, reason=rng.choice(list(JunkReason.objects.all())), by=by)
        return
    for status in path[: path.index(target) + 1] if target in path else []:
        data, m2m, pinned = {}, {}, ""
        if status == Status.QUALIFICATION:
            data = {"niche": rng.choice(list(Niche.objects.all())), "crm_system": rng.choice(list(CrmSystem.objects.all())),
                    "client_type": rng.choice(list(ClientType.objects.all()))}
        if status == Status.DECISION_MAKER:
            data = {"sales_channel": rng.choice(list(SalesChannel.objects.all())), "employees_count": rng.choice([8, 25, 60, 140]),
                    "contact_last_name": last, "contact_first_name": first, "contact_middle_name": middle,
                    "contact_position": position, "contact_phone": f"+7912{rng.randrange(10**6, 10**7)}",
                    "talked_to_decision_maker": True, "usp_acknowledged": True,
                    "next_touch": "Бесплатный аудит портала", "next_touch_date": date.today() + timedelta(days=rng.randrange(1, 14)),
                    "training_info": "Внутренние тренинги для новых продавцов раз в квартал"}
            m2m = {"products_to_sell": rng.sample(list(Product.objects.all()), 2),
                   "used_products": [rng.choice(list(UsedProduct.objects.filter(means_none=False)))]}
            pinned = "Разведка: сеть из 12 магазинов, портал Битрикс24 куплен, но не внедрён. ЛПР — собственник."
        if status == Status.RECONNAISSANCE:
            timeline.add_comment(lead, by, "Позвонил, секретарь дала почту ЛПР. Перезвонить во вторник.")
        lead = services.lead_move(lead, to=status, by=by, data=data, m2m=m2m, pinned_comment=pinned)
