from django.urls import path

from . import views

app_name = "calendar"

urlpatterns = [
    path("", views.index, name="index"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
    path("events/<int:pk>.ics", views.event_ics, name="event_ics"),
]
