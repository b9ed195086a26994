"""Demo companies and contacts owned by the demo managers, created through the services (with
the owner as the author), so their cards, search and history look like real work. Runs before
the leads' and deals' demo data (INSTALLED_APPS order)."""

from crm import timeline
from crm.inn import is_valid
from crm.models import ClientType, Niche

from . import services
from .models import Company, Contact

PHONE, EMAIL = "phone", "email"


def short_name(company: str) -> str:
    """«ООО «Ромашка»» → «Ромашка», «Торговый дом «Северный ветер»» → «Северный ветер»: how managers
    name a company in a lead's or deal's title (the demo titles follow it)."""
    return company.split("«", 1)[1].rstrip("»") if "«" in company else company


def _inn(base9: str) -> str:
    """A 10-digit ИНН of an organisation: the nine digits given and the check digit that fits."""
    return next(base9 + str(d) for d in range(10) if is_valid(base9 + str(d)))


def _ogrn(base12: str) -> str:
    return base12 + str(int(base12) % 11 % 10)


# (name, legal name, ИНН base, city/address, site, phone, e-mail, owner, niche index, client type index)
COMPANIES = [
    ("Торговый дом «Северный ветер»", "Общество с ограниченной ответственностью «Торговый дом «Северный ветер»",
     "770112345", "Москва, ул. Тверская, 12, офис 305", "sevveter.ru", "+74951234501", "info@sevveter.ru", "ivanov", 0, 3),
    ("Мебельная фабрика «Дубрава»", "Общество с ограниченной ответственностью «Мебельная фабрика «Дубрава»",
     "781023456", "Санкт-Петербург, Выборгское ш., 40", "dubrava-mebel.ru", "+78124567802", "zakaz@dubrava-mebel.ru",
     "ivanov", 1, 5),
    ("Сеть аптек «Здоровье+»", "Общество с ограниченной ответственностью «Здоровье плюс»", "165501234",
     "Казань, ул. Баумана, 44", "zdorovie-plus.ru", "+78432345603", "office@zdorovie-plus.ru", "petrova", 2, 2),
    ("УралСтройКомплект", "Акционерное общество «УралСтройКомплект»", "667011223",
     "Екатеринбург, ул. Малышева, 51", "uralstroykomplekt.ru", "+73433456704", "sales@uskomplekt.ru", "petrova", 3, 3),
    ("Сибирские окна", "Общество с ограниченной ответственностью «Сибирские окна»", "540612345",
     "Новосибирск, Красный пр-т, 86", "sibokna.ru", "+73832223305", "hello@sibokna.ru", "sidorov", 4, 5),
    ("Кофейня «Зерно»", "Общество с ограниченной ответственностью «Зерно»", "631501122",
     "Самара, ул. Ленинградская, 40", "zerno-coffee.ru", "+78462001106", "coffee@zerno-coffee.ru", "sidorov", 5, 1),
    ("Автосалон «Волга-Моторс»", "Общество с ограниченной ответственностью «Волга-Моторс»", "526011234",
     "Нижний Новгород, Московское ш., 52", "volga-motors.ru", "+78312778807", "sales@volga-motors.ru", "ivanov", 6, 0),
    ("Клиника «Добрый доктор»", "Общество с ограниченной ответственностью «Медицинский центр «Добрый доктор»",
     "590212345", "Пермь, ул. Ленина, 60", "dobdoc.ru", "+73422107708", "reception@dobdoc.ru", "petrova", 7, 4),
    ("Кубань-Агро", "Общество с ограниченной ответственностью «Кубань-Агро»", "231012345",
     "Краснодар, ул. Красная, 122", "kuban-agro.ru", "+78612556609", "agro@kuban-agro.ru", "sidorov", 8, 3),
    ("Учебный центр «Профи»", "Автономная некоммерческая организация «Учебный центр «Профи»", "366401234",
     "Воронеж, пр-т Революции, 33", "profi-vrn.ru", "+74732391110", "study@profi-vrn.ru", "ivanov", 9, 4),
]

# (last, first, middle, position, mobile, e-mail, company indexes, owner)
CONTACTS = [
    ("Лебедев", "Андрей", "Викторович", "Генеральный директор", "+79161234501", "lebedev@sevveter.ru", [0], "ivanov"),
    ("Ковалёва", "Наталья", "Сергеевна", "Коммерческий директор", "+79161234502", "kovaleva@sevveter.ru", [0], "ivanov"),
    ("Орлов", "Максим", "Игоревич", "Собственник", "+79211234503", "orlov@dubrava-mebel.ru", [1], "ivanov"),
    ("Григорьева", "Екатерина", "Павловна", "Руководитель отдела продаж", "+79211234504", "", [1], "ivanov"),
    ("Сафин", "Ринат", "Ильдарович", "Директор по развитию", "+79171234505", "safin@zdorovie-plus.ru", [2], "petrova"),
    ("Зайцева", "Ольга", "Николаевна", "Главный бухгалтер", "", "buh@zdorovie-plus.ru", [2], "petrova"),
    ("Пономарёв", "Денис", "Алексеевич", "Генеральный директор", "+79221234507", "ponomarev@uskomplekt.ru", [3],
     "petrova"),
    ("Белова", "Ирина", "Юрьевна", "Руководитель отдела продаж", "+79131234508", "belova@sibokna.ru", [4], "sidorov"),
    ("Ткаченко", "Артём", "Олегович", "Собственник", "+79271234509", "artem@zerno-coffee.ru", [5], "sidorov"),
    ("Мельников", "Сергей", "Владимирович", "Коммерческий директор", "+79101234510", "melnikov@volga-motors.ru", [6],
     "ivanov"),
    ("Яковлева", "Марина", "Андреевна", "Главный врач", "+79121234511", "yakovleva@dobdoc.ru", [7], "petrova"),
    ("Кравченко", "Виктор", "Петрович", "Директор", "+79181234512", "kravchenko@kuban-agro.ru", [8], "sidorov"),
    # A consultant advising two firms: one person, two companies (as in Bitrix24).
    ("Гусев", "Павел", "Сергеевич", "Внешний консультант по CRM", "+79031234513", "gusev.crm@yandex.ru", [0, 6],
     "ivanov"),
    ("Фролова", "Анастасия", "Игоревна", "Директор", "+79201234514", "frolova@profi-vrn.ru", [9], "ivanov"),
    ("Никитин", "Илья", "Романович", "ИТ-директор", "+79031234515", "nikitin@uskomplekt.ru", [3], "petrova"),
]


def seed(users, stdout=None) -> None:
    first_inn = _inn(COMPANIES[0][2])
    if Company.objects.filter(inn=first_inn).exists():
        return
    niches = list(Niche.objects.all())
    client_types = list(ClientType.objects.all())
    companies = []
    for n, (name, legal, base, address, site, phone, email, owner, niche, client_type) in enumerate(COMPANIES):
        by = users[owner]
        inn = _inn(base)
        company = services.company_create(by=by, data=dict(
            name=name, legal_name=legal, inn=inn, kpp=f"{inn[:4]}01001", ogrn=_ogrn(f"11{inn[:2]}{n:02d}{inn[2:9]}"[:12]),
            legal_address=address, address=address, website=site, responsible=by,
            niche=niches[niche % len(niches)] if niches else None,
            client_type=client_types[client_type % len(client_types)] if client_types else None,
        ), communications=[(PHONE, "work", phone, ""), (EMAIL, "work", email, "")])
        companies.append(company)
    timeline.add_comment(companies[0], users["ivanov"],
                         "Разведка: 14 магазинов, Битрикс24 (облако) куплен год назад, внедрением никто не занимался. "
                         "ЛПР — Лебедев А. В.", pin_it=True)
    timeline.add_comment(companies[2], users["petrova"], "Просили перезвонить после 15-го: закрывают квартал.")
    for last, first, middle, position, mobile, email, company_ids, owner in CONTACTS:
        by = users[owner]
        communications = []
        if mobile:
            communications.append((PHONE, "mobile", mobile, ""))
        if email:
            communications.append((EMAIL, "work", email, ""))
        if company_ids:
            # The company's switchboard with an extension, as managers usually reach the person.
            ext = str(100 + len(last))
            communications.append((PHONE, "work", COMPANIES[company_ids[0]][5], ext))
        services.contact_create(by=by, data=dict(
            last_name=last, first_name=first, middle_name=middle, position=position, responsible=by,
        ), communications=communications, companies=[companies[i] for i in company_ids])
    if stdout:
        stdout.write(f"  компании: {Company.objects.count()}, контакты: {Contact.objects.count()}")
