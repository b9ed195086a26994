from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Department, Permission, Role, User

admin.site.site_header = _("«Решение» CRM — администрирование")
admin.site.site_title = _("«Решение» CRM")
admin.site.index_title = _("Настройки CRM")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "last_name", "first_name", "department", "position", "is_active", "is_staff")
    list_filter = ("department", "roles", "is_active", "is_staff", "is_superuser")
    search_fields = ("username", "first_name", "last_name", "email", "phone")
    list_select_related = ("department",)
    filter_horizontal = ("roles", "groups", "user_permissions")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Сотрудник"), {"fields": ("last_name", "first_name", "middle_name", "email", "phone", "position")}),
        (_("Структура и доступ в CRM"), {"fields": ("department", "roles")}),
        (_("Права в администрировании"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Даты"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
        (_("Сотрудник"), {"fields": ("last_name", "first_name", "email", "department", "roles")}),
    )


class MemberInline(admin.TabularInline):
    model = User
    fields = ("username", "last_name", "first_name", "position")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("Сотрудники отдела")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "parent", "head")
    list_select_related = ("parent", "head")
    search_fields = ("name",)
    autocomplete_fields = ("head",)
    inlines = [MemberInline]


def scope_choices():
    """«Вся сущность» and, for deals, each pipeline (looked up by name: accounts does not import
    the apps whose records it guards)."""
    choices = [("", _("Вся сущность"))]
    try:
        pipeline_model = apps.get_model("deals", "Pipeline")
    except LookupError:
        return choices
    return choices + [(f"pipeline:{p.pk}", _("Сделки, воронка «%(name)s»") % {"name": p.name})
                      for p in pipeline_model.objects.order_by("sort", "pk")]


class PermissionForm(forms.ModelForm):
    scope = forms.ChoiceField(label=_("Область"), required=False, choices=scope_choices,
                              help_text=_("Права на одну воронку сделок заменяют для неё права на все сделки."))

    class Meta:
        model = Permission
        fields = ("entity", "action", "scope", "level")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope", "").startswith("pipeline:") and cleaned.get("entity") != "deal":
            self.add_error("scope", _("Воронку можно выбрать только для сделок."))
        return cleaned


class PermissionInline(admin.TabularInline):
    model = Permission
    form = PermissionForm
    extra = 0
    fields = ("entity", "action", "scope", "level")


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("name", "description")
    search_fields = ("name",)
    inlines = [PermissionInline]
