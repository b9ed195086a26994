from django.urls import path

from . import views, views_attach

app_name = "disk"

urlpatterns = [
    path("files/<int:pk>/download/", views.download, name="download"),
    path("files/<int:pk>/versions/<int:number>/download/", views.download, name="download_version"),
    path("s/<str:token>/", views.public, name="public"),
    # The attachments panel of a record's card (disk/cards.py): `kind` is the record's model label.
    path("attach/<str:kind>/<int:pk>/", views_attach.attachments, name="attachments"),
    path("attach/<str:kind>/<int:pk>/upload/", views_attach.attach_upload, name="attach_upload"),
    path("attach/<str:kind>/<int:pk>/<int:attachment>/detach/", views_attach.detach, name="detach"),
    path("attach/<str:kind>/<int:pk>/<int:attachment>/link/", views_attach.link_create, name="link_create"),
    path("attach/<str:kind>/<int:pk>/<int:attachment>/links/<int:link>/revoke/", views_attach.link_revoke,
         name="link_revoke"),
]
