from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from crm import lists
from crm.admin import ScopedAdmin, linked_field
from crm.lists import search_condition

from . import services
from .models import Lead, Requirement, Status
from .requirements import CATALOGUE


class RequirementForm(forms.ModelForm):
    key = forms.ChoiceField(label=_("Обязательное поле"), choices=[(k, r.label) for k, r in CATALOGUE.items()])

    class Meta:
        model = Requirement
        fields = ["status", "key"]


@admin.register(Requirement)
class RequirementAdmin(admin.ModelAdmin):
    """«Обязательное на стадии»: the next move obeys a row added or removed here."""

    form = RequirementForm
    list_display = ("status", "label")
    list_filter = ("status",)

    @admin.display(description=_("Обязательное поле"))
    def label(self, obj):
        return CATALOGUE[obj.key].label if obj.key in CATALOGUE else obj.key


def _move_action(status):
    def action(modeladmin, request, queryset):
        report = services.leads_bulk_move(queryset, to=status, by=request.user)
        if report.done:
            messages.success(request, _("Переведено лидов: %(n)s.") % {"n": len(report.done)})
        for lead, reason in report.failed:
            messages.error(request, f"«{lead.title}»: {reason}")

    action.__name__ = f"move_to_{status}"
    action.allowed_permissions = ("change",)
    action.short_description = _("Перевести в «%(status)s»") % {"status": status.label}
    return action


@admin.register(Lead)
class LeadAdmin(ScopedAdmin):
    """Supervisors' view of leads, scoped as in the CRM. The status is read-only here: status
    changes go through the admin actions, which call the same service as the card and the kanban;
    deletion goes through `lead_delete`."""

    delete_service = staticmethod(services.lead_delete)
    linked_fields = ("company", "contact")
    linked_company = linked_field("company", _("Компания"))
    linked_contact = linked_field("contact", _("Контакт"))

    list_display = ("title", "company_name", "status", "source", "responsible", "amount", "created_at")
    list_filter = ("status", "source", ("responsible", admin.RelatedOnlyFieldListFilter), "niche", "client_type",
                   "crm_system", "created_at")
    search_fields = ("search_text",)  # the search box is the CRM's: get_search_results
    list_select_related = ("source", "responsible")
    date_hierarchy = "created_at"
    actions = [_move_action(s) for s in (Status.FIRST_CALL, Status.QUALIFICATION, Status.RECONNAISSANCE,
                                         Status.DECISION_MAKER)]

    def get_search_results(self, request, queryset, search_term):
        """The CRM's lead search, on its indexes: every word of the title, company, contact and
        requisites, a phone in any format, an e-mail (Django's own was a `LIKE` scan of eight
        columns — a million leads)."""
        condition = lists.search(queryset, search_condition(search_term),
                                 lists.email_condition(search_term, Lead.EMAIL_FIELDS))
        return (queryset if condition is None else queryset.filter(condition)), False

    def get_readonly_fields(self, request, obj=None):
        # Edits happen on the lead card in the CRM (rules, duplicates, optimistic locking); the
        # admin shows everything and changes statuses only through the actions above.
        return self.shown([f.name for f in Lead._meta.fields if f.name != "id"]) + [
            "products_to_sell", "used_products", "history", "card_link"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("Карточка в CRM"))
    def card_link(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html

        return format_html('<a href="{}">{}</a>', reverse("leads:detail", args=[obj.pk]), _("Открыть карточку лида"))
