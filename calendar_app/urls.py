from django.urls import path

from . import views, views_events

app_name = "calendar"

urlpatterns = [
    path("", views.index, name="index"),
    path("events/new/", views_events.event_create, name="event_create"),
    path("events/<int:pk>/edit/", views_events.event_edit, name="event_edit"),
    path("events/<int:pk>/move/", views.event_move, name="event_move"),
    path("events/<int:pk>/", views_events.event_card, name="event"),
    path("events/<int:pk>/answer/", views_events.event_answer, name="event_answer"),
    path("events/<int:pk>/cancel/", views_events.event_cancel, name="event_cancel"),
    path("events/conflicts/", views_events.event_conflicts, name="event_conflicts"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
    path("feed/new/", views.feed_token_create, name="feed_token_create"),
    path("feed/revoke/", views.feed_token_revoke, name="feed_token_revoke"),
    path("events/<int:pk>.ics", views_events.event_ics, name="event_ics"),
]
