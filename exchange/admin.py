"""Import jobs in the admin, for supervisors: read-only, scoped as on the «Импорт» page (the
queryset comes from exchange.selectors: one's own jobs, everybody's of a kind with the «Все» level
of import). An import is made on the page — the same upload, mapping, check and worker — which the
list and each job link to; nothing is added or changed here."""

from __future__ import annotations

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.admin import ReadOnlyAdmin

from . import selectors
from .models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "entity", "created_by", "created_at", "state", "created", "updated", "skipped",
                    "rejected", "page")
    list_filter = ("state", "entity")
    search_fields = ("original_name",)
    list_select_related = ("created_by",)
    date_hierarchy = "created_at"
    fields = ("page", "entity", "original_name", "size_shown", "format", "encoding", "delimiter", "created_by",
              "created_at", "state", "dry_run", "options", "mapping", "rows_total", "rows_done", "created", "updated",
              "skipped", "rejected", "error", "started_at", "finished_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.jobs(request.user)

    @admin.display(description=_("Размер"), ordering="size")
    def size_shown(self, obj):
        return filesizeformat(obj.size)

    @admin.display(description=_("Страница импорта"))
    def page(self, obj):
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), gettext("Открыть"))

    def changelist_view(self, request, extra_context=None):
        url = reverse("exchange:import") if selectors.importable(request.user) else ""
        return super().changelist_view(request, {**(extra_context or {}), "import_url": url})
