from django.urls import path

from . import views_export

app_name = "exchange"

urlpatterns: list = [
    path("export/<str:entity>/", views_export.export, name="export"),
]
