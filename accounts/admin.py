from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import access
from .models import Department, Level, Permission, Role, User

admin.site.site_header = _("«Решение» CRM — администрирование")
admin.site.site_title = _("«Решение» CRM")
admin.site.index_title = _("Настройки CRM")


class SuperuserOnly:
    """Who sees whom and with which rights is the system's, not a department's, business: the
    structure (departments), the roles and their access matrix are edited by superusers only,
    whatever Django permissions a group grants. The «Администратор CRM» role opens every CRM
    record, not this: a head who could edit roles would give himself «Все»."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    has_add_permission = has_module_permission

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    has_delete_permission = has_change_permission


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(SuperuserOnly, BaseGroupAdmin):
    """Groups carry Django permissions: whoever edits them could widen his own group's."""


# A superuser does not change these on his own record: a slip would lock him out or leave the
# system without a superuser.
OWN_PRIVILEGES = ("is_active", "is_staff", "is_superuser")
# What a non-superuser (the head of sales) may edit for the people of his department tree;
# everything else on the page is read-only to him.
HEAD_EDITABLE = ("last_name", "first_name", "middle_name", "phone", "position", "department")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users. A superuser does everything except changing his own superuser, staff and active
    flags (another superuser does that).

    A non-superuser with the «change user» permission (the head of sales, through the
    supervisors' group) sees himself and the users of his department and its sub-departments,
    superusers excepted, and edits only their names, phone, position and — for others, within his
    own tree — department: the people he manages, as their line manager knows them. Username,
    e-mail (a way to recover the account), password, active/staff/superuser flags, groups, Django
    permissions and CRM roles are read-only to him, on his own record too; he adds and deletes
    no users. Roles are granted by a superuser, so no one raises his own access level."""

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

    @staticmethod
    def _tree(user) -> set[int]:
        return access.department_ids(user, Level.SUBDEPARTMENTS)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(Q(department_id__in=self._tree(request.user)) | Q(pk=request.user.pk),
                               is_superuser=False)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:  # out of the user's tree: «not found», not a redirect that confirms nothing
            raise Http404(gettext("Пользователь не найден."))
        return obj

    def get_list_filter(self, request):
        # Filters list every department and role of the company; a head filters his own people.
        return self.list_filter if request.user.is_superuser else ("is_active",)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets
        # Read-only, the password field would show the hash: nothing a head needs.
        return [(name, {**options, "fields": [f for f in options["fields"] if f != "password"]})
                for name, options in fieldsets]

    def get_readonly_fields(self, request, obj=None):
        fields = ["last_login", "date_joined"]
        if not request.user.is_superuser:
            editable = set(HEAD_EDITABLE) - ({"department"} if obj is not None and obj.pk == request.user.pk else set())
            return fields + [f for _name, options in self.get_fieldsets(request, obj) for f in options["fields"]
                             if f not in editable and f not in fields]
        if obj is not None and obj.pk == request.user.pk:
            fields += OWN_PRIVILEGES
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "department" and not request.user.is_superuser:
            kwargs["queryset"] = Department.objects.filter(pk__in=self._tree(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and (obj is None or obj.pk != request.user.pk)

    def user_change_password(self, request, id, form_url=""):
        # Setting someone's password is logging in as him: a superuser's job only. Everyone
        # changes his own on the site's «Сменить пароль» page.
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


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
class DepartmentAdmin(SuperuserOnly, admin.ModelAdmin):
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
class RoleAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = ("name", "description")
    search_fields = ("name",)
    inlines = [PermissionInline]
