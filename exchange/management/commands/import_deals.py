from ._importing import SingleImport


class Command(SingleImport):
    help = "Импорт: сделки из CSV, XLSX или «Экспорта в Excel» Битрикс24. Последняя строка — итог."
    entity = "deal"
