from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand

from accounts import demo


class Command(BaseCommand):
    help = "Создаёт демонстрационные отделы, пользователей и записи CRM (повторный запуск ничего не дублирует)."

    def handle(self, *args, **options):
        users = demo.seed()
        for config in apps.get_app_configs():
            if config.name == "accounts":
                continue
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            module.seed(users, self.stdout)
        demo.grant_supervisors(users)
        self.stdout.write(self.style.SUCCESS(f"Демо-данные готовы. Пользователи (пароль у всех: {demo.DEMO_PASSWORD}):"))
        for login, (last, first, position, dept, role, _su) in demo.DEMO_USERS.items():
            self.stdout.write(f"  {login:<8} {last} {first} — {position}, {dept} (роль «{role}»)")
