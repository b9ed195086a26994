from django.urls import path

from . import day, views

app_name = "analytics"

urlpatterns = [
    path("", views.index, name="index"),
    path("funnel/", views.report, {"name": "funnel"}, name="funnel"),
    path("time/", views.report, {"name": "time"}, name="time"),
    path("managers/", views.report, {"name": "managers"}, name="managers"),
    path("sources/", views.report, {"name": "sources"}, name="sources"),
    path("deals/", views.report, {"name": "deals"}, name="deals"),
    path("day-numbers/", day.day_numbers, name="day_numbers"),
]
