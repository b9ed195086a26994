from ._export_base import ExportCommand


class Command(ExportCommand):
    help = "Выгружает список «Сделки» в CSV или XLSX (--filter в синтаксисе адресной строки списка)."
    entity = "deal"
