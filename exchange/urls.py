from django.urls import path

from . import views, views_export

app_name = "exchange"

urlpatterns: list = [
    path("export/<str:entity>/", views_export.export, name="export"),
    path("import/", views.import_index, name="import"),
    path("import/<int:pk>/", views.import_job, name="import_job"),
    path("import/<int:pk>/mapping/", views.import_mapping, name="import_mapping"),
    path("import/<int:pk>/start/", views.import_start, name="import_start"),
    path("import/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("import/<int:pk>/report/", views.import_report, name="import_report"),
]
