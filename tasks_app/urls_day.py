"""URLs of tasks_app (day): joined into the «tasks» namespace by tasks_app/urls.py."""

urlpatterns: list = []
