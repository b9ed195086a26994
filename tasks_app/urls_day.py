"""URLs of tasks_app (day): joined into the «tasks» namespace by tasks_app/urls.py."""

from django.urls import path

from . import views_day

urlpatterns: list = [
    path("day/", views_day.day, name="day"),
    path("day/<int:pk>/complete/", views_day.day_complete, name="day_complete"),
]
