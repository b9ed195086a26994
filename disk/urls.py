from django.urls import path

from . import views, views_attach, views_pages

app_name = "disk"

# An item's actions exist for folders and for files: one view each, the kind fixed by the route.
ITEM_ACTIONS = [
    ("menu", views_pages.item_menu, {}),
    ("rename", views_pages.rename, {}),
    ("move", views_pages.move_or_copy, {"action": "move"}),
    ("copy", views_pages.move_or_copy, {"action": "copy"}),
    ("delete", views_pages.delete, {}),
    ("restore", views_pages.restore, {}),
    ("purge", views_pages.purge, {}),
    ("share", views_pages.share, {}),
]

urlpatterns = [
    path("", views_pages.index, name="index"),
    path("folders/<int:pk>/", views_pages.folder, name="folder"),
    path("shared/", views_pages.shared, name="shared"),
    path("trash/", views_pages.trash, name="trash"),
    path("trash/<int:storage>/", views_pages.trash, name="trash_of"),
    path("trash/<int:storage>/empty/", views_pages.trash_empty, name="trash_empty"),
    path("folders/<int:pk>/upload/", views_pages.upload, name="upload"),
    path("folders/<int:pk>/new/", views_pages.folder_create, name="folder_create"),
    path("files/<int:pk>/upload/", views_pages.upload_version, name="upload_version"),
    path("files/<int:pk>/preview/", views_pages.preview, name="preview"),
    path("files/<int:pk>/versions/", views_pages.versions, name="versions"),
    path("files/<int:pk>/links/", views_pages.links, name="links"),
    path("links/<int:pk>/revoke/", views_pages.link_revoke, name="link_revoke"),
    path("shares/<int:pk>/remove/", views_pages.unshare, name="unshare"),
    *[path(f"{kind}s/<int:pk>/{name}/", view, {"kind": kind, **extra}, name=f"{name}_{kind}")
      for name, view, extra in ITEM_ACTIONS for kind in ("folder", "file")],
    path("files/<int:pk>/download/", views.download, name="download"),
    path("files/<int:pk>/versions/<int:number>/download/", views.download, name="download_version"),
    path("s/<str:token>/", views.public, name="public"),
    # The attachments panel of a record's card (disk/cards.py): `kind` is the record's model label.
    path("attach/<str:kind>/<int:pk>/", views_attach.attachments, name="attachments"),
    path("attach/<str:kind>/<int:pk>/upload/", views_attach.attach_upload, name="attach_upload"),
    path("attach/<str:kind>/<int:pk>/<int:attachment>/detach/", views_attach.detach, name="detach"),
    path("attach/<str:kind>/<int:pk>/<int:attachment>/link/", views_attach.link_create, name="link_create"),
    path("attach/<str:kind>/<int:pk>/<int:attachment>/links/<int:link>/revoke/", views_attach.link_revoke,
         name="attach_link_revoke"),
]
