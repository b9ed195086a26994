"""Demo departments and users. Other apps add their records in their own `demo.py`
(`seed(users, stdout)`), which `manage.py demo_data` calls in INSTALLED_APPS order."""

from django.db import transaction

from .models import Department, Role, User

DEMO_PASSWORD = "demo"

# login → (last name, first name, position, department, role, superuser)
DEMO_USERS = {
    "admin": ("Администратор", "Системный", "Администратор CRM", "«Решение»", "Администратор CRM", True),
    "head": ("Смирнова", "Ольга", "Руководитель отдела продаж", "Отдел продаж", "Руководитель отдела продаж", False),
    "ivanov": ("Иванов", "Пётр", "Менеджер по продажам", "Группа продаж 1", "Менеджер", False),
    "petrova": ("Петрова", "Мария", "Менеджер по продажам", "Группа продаж 1", "Менеджер", False),
    "sidorov": ("Сидоров", "Алексей", "Менеджер по продажам", "Группа продаж 2", "Менеджер", False),
}
DEPARTMENTS = [  # (name, parent)
    ("«Решение»", None),
    ("Отдел продаж", "«Решение»"),
    ("Группа продаж 1", "Отдел продаж"),
    ("Группа продаж 2", "Отдел продаж"),
]


@transaction.atomic
def seed(users=None, stdout=None) -> dict[str, User]:
    departments: dict[str, Department] = {}
    for name, parent in DEPARTMENTS:
        departments[name], _ = Department.objects.get_or_create(
            name=name, defaults={"parent": departments.get(parent)}
        )
    result = {}
    for login, (last, first, position, dept, role, superuser) in DEMO_USERS.items():
        user, created = User.objects.get_or_create(
            username=login,
            defaults=dict(
                last_name=last, first_name=first, position=position, department=departments[dept],
                is_staff=superuser or role == "Руководитель отдела продаж", is_superuser=superuser,
                email=f"{login}@reshenie.example",
            ),
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            user.roles.add(Role.objects.get(name=role))
        result[login] = user
    sales = departments["Отдел продаж"]
    if sales.head_id is None:
        sales.head = result["head"]
        sales.save(update_fields=["head"])
    return result


SUPERVISORS_GROUP = "Руководители"
# Apps whose admin pages supervisors use: the structure, reference lists, rules and records.
SUPERVISED_APPS = ("accounts", "crm", "leads", "deals", "clients", "tasks_app", "calendar_app", "disk")


def grant_supervisors(users: dict[str, User]) -> None:
    """Django-admin permissions for the head of sales (the CRM's own access levels are roles)."""
    from django.contrib.auth.models import Group
    from django.contrib.auth.models import Permission as DjangoPermission

    group, _ = Group.objects.get_or_create(name=SUPERVISORS_GROUP)
    group.permissions.set(DjangoPermission.objects.filter(content_type__app_label__in=SUPERVISED_APPS))
    users["head"].groups.add(group)
