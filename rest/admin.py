"""Webhooks in the admin, for a supervisor: who has which, with what scopes, when last used — and
«Отозвать». Read-only otherwise: a supervisor never sees a code (none is stored), never makes a
webhook (that would act as someone else) and never widens one's scopes. A supervisor who is not a
superuser (the head of sales, given the permissions) sees the webhooks of his department tree only,
as he sees its people (accounts.admin.UserAdmin)."""

from django.contrib import admin, messages
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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

    def get_queryset(self, request):
        from accounts import access
        from accounts.models import Level

        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        tree = access.department_ids(request.user, Level.SUBDEPARTMENTS)
        return queryset.filter(Q(user__department_id__in=tree) | Q(user=request.user), user__is_superuser=False)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, not deleted: the record of its use stays

    @admin.action(description=_("Отозвать выбранные вебхуки"), permissions=["change"])
    def revoke(self, request, queryset):
        done = sum(services.webhook_revoke(webhook) for webhook in queryset)
        self.message_user(request, gettext("Отозвано вебхуков: %(n)d.") % {"n": done}, messages.SUCCESS)
