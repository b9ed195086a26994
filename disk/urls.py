from django.urls import path

from . import views

app_name = "disk"

urlpatterns = [
    path("files/<int:pk>/download/", views.download, name="download"),
    path("files/<int:pk>/versions/<int:number>/download/", views.download, name="download_version"),
    path("s/<str:token>/", views.public, name="public"),
]
