"""The automation rules in the admin: a supervisor (staff with the tasks_app.automationrule
permissions: accounts.demo.SUPERVISOR_PERMISSIONS) writes «when a lead enters status X / a deal
enters stage Y, plan a call, a meeting or a task». The states come from `crm.hooks.states()` (the
lead and deal apps register theirs), so this module names neither app; they are read when the form
or the list is built, never at import.

The rules are the company's process, like the stage requirements: not scoped by department."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm import hooks

from .models import AutomationRule

MAX_DAYS = 60  # a rule plans the next steps, not next quarter
SEPARATOR = ":"  # the select's value: «leads.lead:qualification», «deals.deal:12»


def trigger_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """One group per kind of record: («Лид», [(«leads.lead:new», «Не обработан»), …])."""
    return [(label, [(f"{entity}{SEPARATOR}{state}", str(name)) for state, name in states])
            for entity, label, states in hooks.states()]


def trigger_names() -> dict[tuple[str, str], str]:
    """(entity, state) → «Лид → Квалификация», for the list."""
    return {(entity, str(state)): f"{label} → {name}" for entity, label, states in hooks.states() for state, name in states}


class AutomationRuleForm(forms.ModelForm):
    trigger = forms.ChoiceField(label=_("Запись переходит в статус или на стадию"),
                                help_text=_("Правило срабатывает при каждом переходе, в том числе при создании "
                                            "лида («Не обработан») или сделки (первая стадия воронки)."))
    deadline_days = forms.IntegerField(
        label=_("Крайний срок, рабочих дней"), min_value=0, max_value=MAX_DAYS, initial=1,
        error_messages={"min_value": _("Срок — от 0 до 60 рабочих дней."), "max_value": _("Срок — от 0 до 60 рабочих дней.")},
        help_text=_("До 18:00 через столько рабочих дней (пн–пт). 0 — сегодня, а если рабочий день уже "
                    "закончился или сегодня выходной — следующий рабочий день."))

    class Meta:
        model = AutomationRule
        fields = ["name", "is_active", "trigger", "kind", "title", "description", "deadline_days", "is_important"]
        labels = {"kind": _("Создать")}
        help_texts = {"title": _("Так задача или дело будет называться у ответственного за запись."),
                      "name": _("Для списка правил, например «Новый лид — позвонить в течение дня»."),
                      "is_active": _("Выключенное правило не срабатывает, но сохраняется.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trigger"].choices = [("", "---------"), *trigger_choices()]
        if self.instance.pk:
            self.initial["trigger"] = f"{self.instance.entity}{SEPARATOR}{self.instance.state}"

    def clean(self):
        cleaned = super().clean()
        trigger = cleaned.get("trigger")
        if trigger:
            self.instance.entity, self.instance.state = trigger.split(SEPARATOR, 1)
        return cleaned


@admin.register(AutomationRule)
class AutomationRuleAdmin(admin.ModelAdmin):
    form = AutomationRuleForm
    list_display_links = ("name",)
    list_filter = ("is_active", "kind")
    search_fields = ("name", "title")
    fieldsets = [
        (None, {"fields": ["name", "is_active"]}),
        (_("Когда"), {"fields": ["trigger"]}),
        (_("Что запланировать ответственному за запись"),
         {"fields": ["kind", "title", "description", "deadline_days", "is_important"]}),
    ]

    def get_list_display(self, request):
        # The states' names are read once per page (the deal stages are rows), not once per rule.
        names = trigger_names()

        @admin.display(description=_("Когда"), ordering="entity")
        def trigger(rule):
            return names.get((rule.entity, rule.state)) or gettext("Удалённый статус или стадия (%(state)s)") % {
                "state": rule.state}

        @admin.display(description=_("Что запланировать"), ordering="kind")
        def plan(rule):
            text = f"{rule.get_kind_display()}: {rule.title}"
            return text + " · " + gettext("важная") if rule.is_important else text

        @admin.display(description=_("Крайний срок"), ordering="deadline_days")
        def deadline(rule):
            if rule.deadline_days == 0:
                return gettext("сегодня")
            return gettext("+%(n)s раб. дн.") % {"n": rule.deadline_days}

        # Five columns: the list stays readable beside the admin's menu, down to a tablet.
        return ("name", trigger, plan, deadline, "is_active")
