"""The handlers and their log in the admin, for the same supervisors as the page (services.can_manage);
the token is never shown here (the page shows it once, and issues a new one)."""

from django.contrib import admin

from . import services
from .models import Delivery, Handler
from .services import can_manage


class _Supervisors:
    def has_module_permission(self, request):
        return request.user.is_staff and can_manage(request.user)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)


@admin.register(Handler)
class HandlerAdmin(_Supervisors, admin.ModelAdmin):
    list_display = ("name", "url", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "url")
    # Created on the page (which shows the new token once); here only switched on and off.
    fields = ("name", "url", "events", "active", "created_by", "created_at")
    readonly_fields = ("name", "url", "events", "created_by", "created_at")

    def has_add_permission(self, request):
        return False

    # The services are the only writers (the admin's writes too).
    def save_model(self, request, obj, form, change):
        services.handler_update(obj, data={"active": obj.active}, by=request.user)

    def delete_model(self, request, obj):
        services.handler_delete(obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for handler in queryset:
            services.handler_delete(handler, by=request.user)


@admin.register(Delivery)
class DeliveryAdmin(_Supervisors, admin.ModelAdmin):
    list_display = ("event", "object_id", "handler", "created_at", "state", "attempts", "last_status", "last_error")
    list_filter = ("state", "event", "handler")
    list_select_related = ("handler",)
    readonly_fields = ("handler", "event", "object_id", "created_at", "state", "attempts", "last_attempt_at",
                       "next_attempt_at", "last_status", "last_error")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
