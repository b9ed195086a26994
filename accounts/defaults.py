"""The default roles a fresh database starts with. Supervisors edit them in the admin.

`seed(apps)` is called by the data migration (with historical models) and by browser tests,
whose transactional database is emptied between tests (with the live app registry).
"""

# role name → (description, level per action), the same for every CRM entity.
DEFAULT_ROLES = {
    "Менеджер": ("Видит и изменяет только свои записи.", 10),
    "Руководитель отдела продаж": ("Видит и изменяет записи своего отдела и всех его подотделов.", 30),
    "Администратор CRM": ("Полный доступ ко всем записям CRM.", 40),
}
ENTITIES = ["lead", "deal", "contact", "company", "task", "event", "file"]
ACTIONS = ["view", "add", "change", "delete", "export"]
# «Импорт» (issue 12) brings thousands of records in at once: supervisors only, for the CRM's own
# records — a manager gets none (Bitrix24 likewise gives import to administrators by default).
IMPORT_ENTITIES = ["lead", "deal", "contact", "company"]
IMPORT_LEVELS = {"Менеджер": 0, "Руководитель отдела продаж": 30, "Администратор CRM": 40}


def seed(apps) -> None:
    Role = apps.get_model("accounts", "Role")
    Permission = apps.get_model("accounts", "Permission")
    for name, (description, level) in DEFAULT_ROLES.items():
        role, _ = Role.objects.get_or_create(name=name, defaults={"description": description})
        for entity in ENTITIES:
            for action in ACTIONS:
                Permission.objects.get_or_create(role=role, entity=entity, action=action, defaults={"level": level})
        for entity in IMPORT_ENTITIES:
            Permission.objects.get_or_create(role=role, entity=entity, action="import",
                                             defaults={"level": IMPORT_LEVELS[name]})
