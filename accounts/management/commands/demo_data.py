from django.core.management.base import BaseCommand
from django.db import connection

from accounts import demo
from config.discovery import app_modules


class Command(BaseCommand):
    help = "Создаёт демонстрационные отделы, пользователей и записи CRM (повторный запуск ничего не дублирует)."

    def handle(self, *args, **options):
        users = demo.seed()
        for module in app_modules("demo"):
            if module is not demo:
                module.seed(users, self.stdout)
        demo.grant_supervisors(users)
        if connection.vendor == "sqlite":
            # Planner statistics after a bulk load (PostgreSQL's autovacuum does this by itself).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(self.style.SUCCESS(f"Демо-данные готовы. Пользователи (пароль у всех: {demo.DEMO_PASSWORD}):"))
        for login, (last, first, position, dept, role, _su) in demo.DEMO_USERS.items():
            self.stdout.write(f"  {login:<8} {last} {first} — {position}, {dept} (роль «{role}»)")
