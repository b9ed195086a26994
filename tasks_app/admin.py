"""Tasks in the admin, scoped as in the CRM (crm.admin.ScopedAdmin: the list and every page go
through the access gate, deletion through tasks_app.services.task_delete). Everything is read-only
here: a task is edited on its card; the status changes only through task_transition (the
«Завершить» action below calls it, with its role checks and messages)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.admin import ScopedAdmin

from . import selectors, services
from .models import Task


@admin.action(description=_("Завершить выбранные задачи"), permissions=["change"])
def complete(modeladmin, request, queryset):
    done = 0
    for task in queryset:
        try:
            services.task_transition(task, "complete", by=request.user)
        except (services.TaskError, PermissionDenied, ValidationError) as exc:
            messages.error(request, f"«{task.title}»: {exc.messages[0] if isinstance(exc, ValidationError) else exc}")
        else:
            done += 1
    if done:
        messages.success(request, gettext("Завершено задач: %(n)s.") % {"n": done})


@admin.register(Task)
class TaskAdmin(ScopedAdmin):
    delete_service = staticmethod(services.task_delete)

    list_display = ("title", "kind", "status", "responsible", "deadline", "is_important")
    list_filter = ("status", "kind", "is_important", ("responsible", admin.RelatedOnlyFieldListFilter), "deadline")
    search_fields = ("title",)
    list_select_related = ("responsible",)
    date_hierarchy = "deadline"
    actions = [complete]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Task._meta.fields if f.name != "id"] + [
            "coexecutors", "observers", "checklist_items", "bound_records", "history", "card_link"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("Чек-лист"))
    def checklist_items(self, obj):
        return format_html_join("", "<div>{} {}</div>", (("☑" if i.is_done else "☐", i.text) for i in obj.checklist.all()))

    @admin.display(description=_("Привязана к"))
    def bound_records(self, obj):
        records = getattr(obj, "_visible_records", [])
        return format_html_join("", "<div>{}</div>", ((str(r),) for r in records)) or "—"

    @admin.display(description=_("Карточка в CRM"))
    def card_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("tasks:detail", args=[obj.pk]), _("Открыть карточку задачи"))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        # Only the records the reader may see, as on the card.
        obj._visible_records = selectors.visible_bindings(request.user, [obj.pk]).get(obj.pk, [])
        return obj
