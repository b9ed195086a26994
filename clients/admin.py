"""Supervisors' view of companies and contacts, scoped as in the CRM. Read-only, as for leads: a
company or contact changes only through clients.services (the CRM card), which keeps the search
column, the optimistic lock and the history; the admin lists, searches, filters, links to the
card and deletes through `company_delete`/`contact_delete`."""

from django.contrib import admin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm import lists, phones
from crm.admin import ScopedAdmin, linked_field
from crm.lists import search_condition
from crm.models import Communication

from . import selectors, services
from .models import Company, Contact

HIDDEN = {"id", "search_text", "company_key"}  # internal columns


class CommunicationInline(GenericTabularInline):
    model = Communication
    fields = ("kind", "type", "shown_value", "ext")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = _("Телефон или e-mail")
    verbose_name_plural = _("Телефоны и e-mail")

    @admin.display(description=_("Значение"))
    def shown_value(self, obj):
        return phones.display(obj.value) if obj.kind == Communication.Kind.PHONE else obj.value

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ClientAdmin(ScopedAdmin):
    inlines = [CommunicationInline]
    list_select_related = ("responsible",)
    date_hierarchy = "created_at"
    # The search column holds names, requisites, phones (also with 8) and e-mails, lower-cased.
    search_fields = ("search_text",)
    search_help_text = _("Название или ФИО, ИНН, телефон в любом формате или e-mail.")
    card_url_name = ""
    extra_readonly: list[str] = []

    def get_search_results(self, request, queryset, search_term):
        condition = lists.search(queryset, search_condition(search_term))
        if condition is None:
            return queryset, False
        return queryset.filter(condition), False

    def get_readonly_fields(self, request, obj=None):
        return self.shown([f.name for f in self.model._meta.fields if f.name not in HIDDEN] + self.extra_readonly) + [
            "history", "card_link"]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("Карточка в CRM"))
    def card_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse(self.card_url_name, args=[obj.pk]), _("Открыть карточку"))


@admin.register(Company)
class CompanyAdmin(ClientAdmin):
    list_display = ("name", "inn", "niche", "client_type", "responsible", "created_at")
    list_filter = (("responsible", admin.RelatedOnlyFieldListFilter), "niche", "client_type", "created_at")
    list_select_related = ("responsible", "niche", "client_type")
    card_url_name = "clients:company_detail"
    delete_service = staticmethod(services.company_delete)


class CompanyFilter(admin.SimpleListFilter):
    """Contacts of one company, choosing among the companies the user may see (the default
    filter would list every company's name)."""

    title = _("Компания")
    parameter_name = "company"
    LIMIT = 200  # a longer drop-down is of no use; the search box finds the rest

    def lookups(self, request, model_admin):
        return [(c.pk, c.name) for c in selectors.visible_companies(request.user).only("pk", "name")
                .order_by("name")[:self.LIMIT]]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isascii() and value.isdigit() and len(value) < 19:
            # A company out of reach filters to nothing: its contacts are not a way to learn of it.
            return queryset.filter(companies__in=selectors.visible_companies(request.user).filter(pk=int(value)))
        return queryset


@admin.register(Contact)
class ContactAdmin(ClientAdmin):
    list_display = ("full_name", "position", "responsible", "created_at")
    list_filter = (("responsible", admin.RelatedOnlyFieldListFilter), CompanyFilter, "created_at")
    card_url_name = "clients:contact_detail"
    delete_service = staticmethod(services.contact_delete)
    extra_readonly = ["companies"]
    linked_fields = ("companies",)
    linked_companies = linked_field("companies", _("Компании"))

    @admin.display(description=_("ФИО"), ordering="last_name")
    def full_name(self, obj):
        return obj.full_name
