from ._importing import SingleImport


class Command(SingleImport):
    help = "Импорт: контакты из CSV, XLSX или «Экспорта в Excel» Битрикс24. Последняя строка — итог."
    entity = "contact"
