from ._importing import SingleImport


class Command(SingleImport):
    help = "Импорт: компании из CSV, XLSX или «Экспорта в Excel» Битрикс24. Последняя строка — итог."
    entity = "company"
