from django.urls import path

from . import timeline_views, views

app_name = "crm"

urlpatterns = [
    path("requisites/", views.requisites, name="requisites"),
    path("timeline/<str:kind>/<int:pk>/comments/", timeline_views.comment_add, name="comment_add"),
    path("timeline/<str:kind>/<int:pk>/comments/<int:entry>/pin/", timeline_views.comment_pin, name="comment_pin"),
]
