"""Default reference lists (PROCESS.md §1.2), seeded by a data migration; supervisors edit them
in the admin. `seed(apps)` works with historical models (migration) and live ones (tests)."""

SOURCES = [  # (name, kind): cold sources default to the «Холодное подключение» pipeline
    ("Контур.Компас", "cold"),
    ("Холодный звонок", "cold"),
    ("Входящий звонок", "inbound"),
    ("Сайт", "inbound"),
    ("Веб-форма", "inbound"),
    ("Битрикс24.Маркет", "inbound"),
    ("Электронная почта", "inbound"),
    ("Рекомендация", "inbound"),
    ("Партнёр", "inbound"),
    ("Выставка", "cold"),
    ("Другое", "inbound"),
]
NICHES = [
    "Розничная торговля", "Оптовая торговля", "Производство", "Строительство и ремонт",
    "IT и телеком", "Услуги для бизнеса", "Образование", "Медицина и красота", "HoReCa",
    "Логистика", "Недвижимость", "Финансы и страхование", "Другое",
]
CLIENT_TYPES = [
    "Розничные магазины", "Розничные магазины (до 5)", "Розничные магазины (до 10)",
    "Оптовая торговля", "Услуги", "Производство", "Другое",
]
CRM_SYSTEMS = [
    "Нет", "Битрикс24 (облако)", "Битрикс24 (коробка)", "AMO CRM", "Сбербанк", "Своя разработка", "Другая",
]
SALES_CHANNELS = [
    "Розничные точки", "Интернет-магазин", "Маркетплейсы", "Оптовые продажи", "Дилерская сеть",
    "Прямые продажи (B2B)", "Другое",
]
PRODUCTS = [
    "Тайные покупатели", "Оплата Битрикс24",
    "Дополнительные интеграции (разработки) корпоративного портала (CRM-системы)",
    "Тренинги", "Консультации", "Проект",
]
USED_PRODUCTS = [
    "Оплата корпоративного портала (CRM-системы)", "Тайный покупатель", "Тренинги (внешние)",
    "Тренинги (внутренние)", "Проектные работы с консалтинговыми компаниями", "Консультации",
    "Разработка и интеграции корпоративного портала (CRM-системы)",
]
NOTHING_USED = "Ничем не пользовалась"
JUNK_REASONS = ["Некачественный лид", "Не целевая компания", "Нет выхода на ЛПР", "Отказ клиента", "Дубликат"]


def _fill(model, names, **extra_by_name):
    for sort, name in enumerate(names, start=1):
        model.objects.get_or_create(name=name, defaults={"sort": sort * 10, **extra_by_name.get(name, {})})


def seed(apps) -> None:
    get = lambda name: apps.get_model("crm", name)  # noqa: E731
    _fill(get("Source"), [n for n, _ in SOURCES], **{n: {"kind": k} for n, k in SOURCES})
    _fill(get("Niche"), NICHES)
    _fill(get("ClientType"), CLIENT_TYPES)
    _fill(get("CrmSystem"), CRM_SYSTEMS)
    _fill(get("SalesChannel"), SALES_CHANNELS)
    _fill(get("Product"), PRODUCTS)
    _fill(get("UsedProduct"), [*USED_PRODUCTS, NOTHING_USED], **{NOTHING_USED: {"means_none": True}})
    _fill(get("JunkReason"), JUNK_REASONS)
