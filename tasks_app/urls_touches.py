"""URLs of tasks_app (touches): joined into the «tasks» namespace by tasks_app/urls.py. Other
apps link to these names: keep them."""

from django.urls import path

from . import views_touches

urlpatterns: list = [
    path("touches/plan/<str:kind>/<int:pk>/", views_touches.touch_plan, name="touch_plan"),
    path("touches/<int:pk>/complete/", views_touches.touch_complete, name="touch_complete"),
]
