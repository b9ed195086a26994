from ._export_base import ExportCommand


class Command(ExportCommand):
    help = "Выгружает список «Компании» в CSV или XLSX (--filter в синтаксисе адресной строки списка)."
    entity = "company"
