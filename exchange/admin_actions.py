"""Imports and exports in the Django admin, through the same code as the CRM's pages: the actions
«Экспортировать (CSV)» and «Экспортировать (Excel)» on the ticked records (of those, what the
admin user may export — the admin is a path like any other, exchange.exports applies his
scope), and an «Импорт» link over the list to the import page (exchange:import, ?entity=…).

The lead, company, contact and deal admins get them at start-up (`install`, from the app's
ready()): the kernel's admins (clients) name no feature app, as with crm.cards and crm.hooks."""

from __future__ import annotations

from django.contrib import messages
from django.utils.translation import gettext_lazy

from accounts import access

from . import exports
from .views_export import respond

FORMAT_LABELS = {"csv": gettext_lazy("Экспортировать (CSV)"), "xlsx": gettext_lazy("Экспортировать (Excel)")}


def export_action(fmt: str):
    def action(modeladmin, request, queryset):
        entity = exports.model_entity(modeladmin.model)
        try:
            export = exports.prepare(entity, request.user, None, queryset=queryset)
        except exports.ExportError as exc:
            messages.error(request, " ".join(exc.messages))
            return None
        return respond(export, fmt)

    action.__name__ = f"export_{fmt}"
    action.short_description = FORMAT_LABELS[fmt]
    action.allowed_permissions = ("export",)
    return action


ACTIONS = [export_action(fmt) for fmt in exports.FORMATS]


class ExchangeAdmin:
    """The export actions (for a user with the export right) and the «Импорт» link (with the
    import right) on a CRM record's list in the admin."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        for action in ACTIONS:
            actions[action.__name__] = (action, action.__name__, action.short_description)
        # The base class filtered its own actions by permission; these are filtered here.
        if not self.has_export_permission(request):
            for action in ACTIONS:
                actions.pop(action.__name__, None)
        return actions

    def has_export_permission(self, request) -> bool:
        return exports.may_export(request.user, exports.model_entity(self.model))

    def changelist_view(self, request, extra_context=None):
        entity = exports.model_entity(self.model)
        extra = {"exchange_import_entity": entity if access.can_import(request.user, entity) else ""}
        return super().changelist_view(request, {**(extra_context or {}), **extra})


def install(site=None) -> None:
    """Give the registered lead, company, contact and deal admins the actions and the link: each
    is registered again as a subclass with `ExchangeAdmin` first. Idempotent."""
    from django.contrib import admin

    site = site or admin.site
    for entity in ("lead", "company", "contact", "deal"):
        model = exports.model_for(entity)
        if not site.is_registered(model):
            continue
        current = type(site.get_model_admin(model))
        if issubclass(current, ExchangeAdmin):
            continue
        site.unregister(model)
        site.register(model, type(current.__name__, (ExchangeAdmin, current), {"__module__": current.__module__}))
