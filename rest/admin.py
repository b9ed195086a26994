"""Webhooks in the admin, for a supervisor: who has which, with what scopes, when last used — and
«Отозвать». Read-only otherwise: a supervisor never sees a code (none is stored), never makes a
webhook (that would act as someone else) and never widens one's scopes."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("__str__", "user", "scope_labels", "created_at", "last_used_at", "last_used_ip", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "user__last_name")
    fields = ("user", "name", "scope_labels", "created_at", "last_used_at", "last_used_ip", "revoked_at")
    readonly_fields = fields
    list_select_related = ("user",)
    actions = ["revoke"]

    @admin.display(description=_("Права"))
    def scope_labels(self, obj):
        return obj.scope_labels

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, not deleted: the record of its use stays

    @admin.action(description=_("Отозвать выбранные вебхуки"), permissions=["change"])
    def revoke(self, request, queryset):
        done = sum(services.webhook_revoke(webhook) for webhook in queryset)
        self.message_user(request, ngettext("Отозван %(n)d вебхук.", "Отозвано %(n)d вебхуков.", done) % {"n": done},
                          messages.SUCCESS)
