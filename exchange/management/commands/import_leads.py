from ._importing import SingleImport


class Command(SingleImport):
    help = "Импорт: лиды из CSV, XLSX или «Экспорта в Excel» Битрикс24. Последняя строка — итог."
    entity = "lead"
