from django.contrib import admin

from .models import ClientType, CrmSystem, JunkReason, Niche, Product, SalesChannel, Source, UsedProduct


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
