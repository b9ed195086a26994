"""The admin for supervisors: reference lists here, and `ScopedAdmin`, the base of every admin
of CRM records (leads, deals, companies, contacts), which asks the access module exactly as the
CRM does, and the read-only list of deletions."""

import json

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.models import Action

from . import deletion, selectors, timeline
from .models import (
    ClientType,
    CrmSystem,
    DeletionRecord,
    JunkReason,
    Niche,
    Product,
    SalesChannel,
    Source,
    UsedProduct,
)


def linked_field(name: str, description):
    """A read-only column or field for `ScopedAdmin.linked_fields`: the linked record's name if
    the user may see it, else only that there is one (as the CRM card shows it)."""

    @admin.display(description=description)
    def show(self, obj):
        field = obj._meta.get_field(name)
        if field.many_to_many:  # one count per record: for change pages, not list columns
            visible = getattr(obj, f"_visible_{name}", [])
            hidden = getattr(obj, name).count() - len(visible)
            parts = [str(o) for o in visible]
        else:
            if getattr(obj, f"{name}_id") is None:
                return "—"
            visible = getattr(obj, f"_visible_{name}", False)
            parts, hidden = ([str(getattr(obj, name))], 0) if visible else ([], 1)
        if hidden:
            parts.append(gettext("ещё без доступа: %(n)s") % {"n": hidden} if parts else gettext("есть, нет доступа"))
        return "; ".join(parts) or "—"

    show.__name__ = f"linked_{name}"
    return show


class NotFoundAdmin(admin.ModelAdmin):
    """An admin whose queryset is what the user may reach: an id out of it is «not found» (404), as
    on the CRM's card, so ids cannot be probed (Django would redirect with «does not exist»)."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(gettext("Запись не найдена."))
        return obj


class ReadOnlyAdmin(NotFoundAdmin):
    """A list supervisors read and nobody edits here (the deletions, the import jobs): what it
    shows is written by the CRM's own services, so nothing is added, changed or deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedAdmin(NotFoundAdmin):
    """A CRM record in the admin obeys the same rules as in the CRM: the list and every page
    start from `access.scope` (view level), a record is viewed, changed or deleted only if
    `access.can` allows it (and the Django model permission too), and a record out of reach is
    «not found» (404), as on the card, so ids cannot be probed. Subclasses filter by responsible
    with `RelatedOnlyFieldListFilter`, which reads this scoped queryset: only the owners of
    records the user sees are offered. Deleting — one record or the bulk action — goes through
    the app's delete service (`delete_service`), which checks access again, refuses what other
    records depend on and leaves a DeletionRecord."""

    delete_service = None  # e.g. staticmethod(leads.services.lead_delete): (obj, *, by) → DeletionRecord
    # Links to other CRM records (a deal's company, a contact's companies) shown through
    # `linked_field`: named only when the user may see the linked record.
    linked_fields: tuple[str, ...] = ()

    def get_queryset(self, request):
        queryset = access.scope(request.user, super().get_queryset(request), Action.VIEW)
        for name in self.linked_fields:
            field = self.model._meta.get_field(name)
            visible = access.scope(request.user, field.related_model._default_manager.all(), Action.VIEW)
            if field.many_to_many:
                queryset = queryset.prefetch_related(Prefetch(name, queryset=visible, to_attr=f"_visible_{name}"))
            else:
                queryset = queryset.annotate(**{f"_visible_{name}": Exists(visible.filter(pk=OuterRef(f"{name}_id")))})
        return queryset

    def shown(self, names) -> list[str]:
        """Field names for a read-only page, links to other records replaced by `linked_field`s."""
        return [f"linked_{name}" if name in self.linked_fields else name for name in names]

    @admin.display(description=_("История"))
    def history(self, obj):
        """The record's last entries, rendered as the card renders them (reader's language)."""
        return format_html_join("", "<div>{} · {} · {} {}</div>", (
            (formats.date_format(timezone.localtime(e.created_at), "SHORT_DATETIME_FORMAT"), e.author or "—",
             e.get_kind_display(), str(timeline.render(e))) for e in timeline.entries(obj)[:50]
        ))

    def _allowed(self, request, obj, action) -> bool:
        return obj is None or (access.can(request.user, Action.VIEW, obj) and access.can(request.user, action, obj))

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._allowed(request, obj, Action.VIEW)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._allowed(request, obj, Action.CHANGE)

    def has_delete_permission(self, request, obj=None):
        return (self.delete_service is not None and super().has_delete_permission(request, obj)
                and self._allowed(request, obj, Action.DELETE))

    # --- deletion through the service ---

    def get_deleted_objects(self, objs, request):
        """What the confirmation page lists: the records themselves (their timeline, phones and
        product rows go with them), and as «protected» what the service would refuse, naming
        only records the user may see."""
        objs = list(objs)
        refusals = []
        for obj in objs:
            if not self.has_delete_permission(request, obj):
                refusals.append(gettext("«%(record)s»: нет прав на удаление.") % {"record": obj})
            for line in deletion.blockers(obj, request.user):
                refusals.append(f"«{obj}»: {line}")
        return [str(obj) for obj in objs], {self.opts.verbose_name_plural: len(objs)}, set(), refusals

    def delete_model(self, request, obj):
        try:
            self.delete_service(obj, by=request.user)
        except (PermissionDenied, deletion.DeletionRefused) as exc:
            # Someone linked a deal or took the record away since the confirmation page.
            request._deletion_refused = str(exc)
            return
        super().log_deletions(request, [obj])

    def log_deletions(self, request, queryset):
        """Logged by delete_model once the service has deleted the record, not before."""

    def response_delete(self, request, obj_display, obj_id):
        refused = getattr(request, "_deletion_refused", None)
        if refused:
            self.message_user(request, refused, messages.ERROR)
            return redirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))
        return super().response_delete(request, obj_display, obj_id)

    def delete_queryset(self, request, queryset):
        # Not reached through our delete_selected; kept so that no caller deletes around the service.
        self._delete_each(request, queryset)

    def _delete_each(self, request, queryset) -> None:
        deleted = 0
        for obj in queryset:
            try:
                self.delete_service(obj, by=request.user)
            except (PermissionDenied, deletion.DeletionRefused) as exc:
                self.message_user(request, f"«{obj}»: {exc}", messages.ERROR)
                continue
            super().log_deletions(request, [obj])
            deleted += 1
        if deleted:
            self.message_user(request, gettext("Удалено записей: %(n)s.") % {"n": deleted}, messages.SUCCESS)

    def delete_selected(self, request, queryset):
        """The bulk «delete» action: Django's confirmation page, then each record through the
        service, each refusal reported by name."""
        if request.POST.get("post"):
            self._delete_each(request, queryset)
            return None
        return django_delete_selected(self, request, queryset)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            actions["delete_selected"] = (type(self).delete_selected, "delete_selected", actions["delete_selected"][2])
        return actions


class ReferenceAdmin(admin.ModelAdmin):
    """Reference lists: rename, reorder, deactivate. Values in use cannot be deleted (PROTECT),
    deactivating hides them from new choices while old records keep their meaning."""

    list_display = ("name", "sort", "is_active")
    list_editable = ("sort", "is_active")
    search_fields = ("name",)
    list_filter = ("is_active",)


for model in (Niche, ClientType, CrmSystem, SalesChannel, Product, JunkReason):
    admin.site.register(model, ReferenceAdmin)


@admin.register(Source)
class SourceAdmin(ReferenceAdmin):
    list_display = ("name", "kind", "sort", "is_active")
    list_editable = ("kind", "sort", "is_active")


@admin.register(UsedProduct)
class UsedProductAdmin(ReferenceAdmin):
    list_display = ("name", "means_none", "sort", "is_active")
    list_editable = ("means_none", "sort", "is_active")


@admin.register(DeletionRecord)
class DeletionRecordAdmin(ReadOnlyAdmin):
    """«Удалённые записи»: what was deleted, by whom and when, read-only for everyone. A
    supervisor sees the deletions of records he could have seen (crm.selectors)."""

    list_display = ("deleted_at", "entity", "title", "responsible", "deleted_by")
    list_filter = ("entity", "deleted_at")
    search_fields = ("title",)
    date_hierarchy = "deleted_at"
    fields = ("entity", "object_id", "title", "responsible", "deleted_by", "deleted_at", "shown_snapshot")
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.deletion_records(request.user)

    @admin.display(description=_("Содержимое"))
    def shown_snapshot(self, obj):
        return format_html("<pre style=\"white-space: pre-wrap\">{}</pre>",
                           json.dumps(obj.snapshot, ensure_ascii=False, indent=2))
