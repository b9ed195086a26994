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
ALL = ("view", "add", "change", "delete")
# What a head of sales does in the admin, as Django permissions (app → model → actions). The
# CRM's own access levels (roles) still decide which records he reaches: every record admin is
# scoped by accounts.access, so «view lead» here means «his department's leads».
SUPERVISOR_PERMISSIONS = {
    # Reference lists and the lead rules are his to run; the deletion log is his to read.
    "crm": {"source": ALL, "niche": ALL, "clienttype": ALL, "crmsystem": ALL, "saleschannel": ALL,
            "product": ALL, "usedproduct": ALL, "junkreason": ALL, "deletionrecord": ("view",)},
    # Records: read, status moves through the admin actions (change), delete through the service
    # (access-checked and recorded); he returns closed leads to work.
    "leads": {"requirement": ALL, "lead": ("view", "change", "delete", "reopen_lead")},
    "deals": {"pipeline": ALL, "stage": ALL, "stagerequirement": ALL, "lossreason": ALL,
              "deal": ("view", "change", "delete"), "dealproduct": ("view",)},
    "clients": {"company": ("view", "delete"), "contact": ("view", "delete")},
    # The automation rules («when a lead enters a status, plan a call») are his process to run,
    # like the stage requirements: the tasks they create still obey the access rules.
    # Tasks: read his department's (scoped like the records), complete them with the admin's
    # action (through the service), delete through the service.
    "tasks_app": {"automationrule": ALL, "task": ("view", "change", "delete")},
    # People: names, phones, positions and departments of his own tree (accounts.admin.UserAdmin
    # says what exactly). Never roles, groups, departments or the access matrix: with those he
    # could raise his own access; they are a superuser's (accounts.admin.SuperuserOnly).
    "accounts": {"user": ("view", "change")},
    # Webhooks of his tree's people: he sees them and revokes one (rest.admin: never a code, never
    # a new webhook or wider scopes).
    "rest": {"webhook": ("view", "change")},
}


def supervisor_permissions():
    from django.contrib.auth.models import Permission as DjangoPermission
    from django.db.models import Q

    condition = Q(pk__in=[])
    for app, models in SUPERVISOR_PERMISSIONS.items():
        for model, actions in models.items():
            codenames = [a if "_" in a else f"{a}_{model}" for a in actions]
            condition |= Q(content_type__app_label=app, content_type__model=model, codename__in=codenames)
    return DjangoPermission.objects.filter(condition)


def grant_supervisors(users: dict[str, User]) -> None:
    """Django-admin permissions for the head of sales (the CRM's own access levels are roles)."""
    from django.contrib.auth.models import Group

    group, _ = Group.objects.get_or_create(name=SUPERVISORS_GROUP)
    group.permissions.set(supervisor_permissions())
    users["head"].groups.add(group)
