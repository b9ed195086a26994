"""One automation rule as an example, switched off: a fresh CRM shows the supervisor what a rule
looks like («Новый лид — позвонить сегодня») without planning work nobody asked for — which
follow-ups to plan is the company's process (PROCESS.md names none), and a rule on by default
would put a task on every manager's day from the first lead. Seeded by a data migration."""

EXAMPLE = {"name": "Новый лид — первый звонок сегодня", "entity": "leads.lead", "state": "new", "kind": "call",
           "title": "Первый звонок", "description": "Представиться, узнать, кто принимает решение, и "
                                                      "договориться о следующем касании.",
           "deadline_days": 0, "is_important": False, "is_active": False}


def seed(apps) -> None:
    AutomationRule = apps.get_model("tasks_app", "AutomationRule")
    if not AutomationRule.objects.exists():
        AutomationRule.objects.create(**EXAMPLE)
