"""The disk in the admin, for supervisors: files, folders and public links, scoped as the CRM's
records are (crm.admin.ScopedAdmin; the querysets come from disk.selectors through the access
gate): a user sees the files and folders whose authors his role's «Диск» level reaches — the head
of sales his people's, the CRM administrator all (a record's CRM folder, made by the system, only
the latter). Everything is read-only: bytes, names and places change through disk.services on
the disk's pages (versions, the trash, the store's keys are theirs); the one admin action is
revoking public links, through services.public_link_revoke with its rights check."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.models import Action
from crm.admin import ScopedAdmin

from . import selectors, services
from .models import File, FileVersion, Folder, PublicLink


class ReadOnly:
    """Nothing is added, changed or deleted here (see the module's docstring)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # view-only pages: no «Сохранить» that would save nothing

    def get_readonly_fields(self, request, obj=None):
        return [*(f.name for f in self.model._meta.fields if f.name != "id"), *self.extra_readonly]

    extra_readonly: tuple[str, ...] = ()


class VersionInline(ReadOnly, admin.TabularInline):
    model = FileVersion
    fields = ("number", "size_shown", "sha256", "uploaded_by", "uploaded_at")
    extra_readonly = ("size_shown",)
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    @admin.display(description=_("Размер"))
    def size_shown(self, obj):
        return filesizeformat(obj.size)


@admin.register(File)
class FileAdmin(ReadOnly, ScopedAdmin):
    list_display = ("name", "folder", "size_shown", "author", "updated_at", "deleted_at")
    list_filter = (("author", admin.RelatedOnlyFieldListFilter), ("deleted_at", admin.EmptyFieldListFilter))
    search_fields = ("name",)
    list_select_related = ("folder", "author")
    date_hierarchy = "updated_at"
    fields = ("name", "folder", "size_shown", "content_type", "author", "created_at", "updated_at", "deleted_at",
              "deleted_by", "download")
    extra_readonly = ("size_shown", "download")
    inlines = [VersionInline]

    def get_queryset(self, request):
        return selectors.admin_files(request.user).order_by("-updated_at", "-pk")

    @admin.display(description=_("Размер"), ordering="size")
    def size_shown(self, obj):
        return filesizeformat(obj.size)

    @admin.display(description=_("Скачать"))
    def download(self, obj):
        if obj.current_id is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("disk:download", args=[obj.pk]), gettext("Скачать"))


@admin.register(Folder)
class FolderAdmin(ReadOnly, ScopedAdmin):
    list_display = ("name", "storage", "author", "created_at", "deleted_at")
    list_filter = ("storage__kind", ("author", admin.RelatedOnlyFieldListFilter),
                   ("deleted_at", admin.EmptyFieldListFilter))
    search_fields = ("name",)
    list_select_related = ("storage", "author")
    fields = ("name", "storage", "parent", "author", "created_at", "updated_at", "deleted_at", "deleted_by")

    def get_queryset(self, request):
        return selectors.admin_folders(request.user).order_by("path")


@admin.action(description=_("Отозвать выбранные ссылки"), permissions=["view"])
def revoke(modeladmin, request, queryset):
    done = 0
    for link in queryset.select_related("file__folder__storage"):
        try:
            services.public_link_revoke(link, request.user)
        except (PermissionDenied, ValidationError) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            messages.error(request, f"«{link.file}»: {text}")
        else:
            done += 1
    if done:
        messages.success(request, gettext("Отозвано ссылок: %(n)s.") % {"n": done})


@admin.register(PublicLink)
class PublicLinkAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("file", "created_by", "created_at", "expires_at", "revoked_at", "download_count", "live")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), ("created_by", admin.RelatedOnlyFieldListFilter))
    search_fields = ("file__name",)
    list_select_related = ("file", "created_by")
    # The token is the link's secret: the admin names the link, it does not hand it out.
    fields = ("file", "created_by", "created_at", "expires_at", "revoked_at", "download_count", "has_password")
    extra_readonly = ("has_password", "live")
    actions = [revoke]

    def get_queryset(self, request):
        return selectors.admin_links(request.user).order_by("-created_at")

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and (
            obj is None or access.can(request.user, Action.VIEW, obj.file))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:  # out of reach: «not found», as everywhere in the CRM
            raise Http404(gettext("Запись не найдена."))
        return obj

    @admin.display(description=_("Действует"), boolean=True)
    def live(self, obj):
        return obj.is_live()

    @admin.display(description=_("С паролем"), boolean=True)
    def has_password(self, obj):
        return bool(obj.password)
