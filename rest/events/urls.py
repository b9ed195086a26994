from django.urls import path

from . import views

app_name = "rest_events"

urlpatterns = [
    path("", views.handler_list, name="list"),
    path("<int:pk>/", views.handler_detail, name="detail"),
    path("<int:pk>/token/", views.handler_token, name="token"),
    path("<int:pk>/delete/", views.handler_delete, name="delete"),
]
