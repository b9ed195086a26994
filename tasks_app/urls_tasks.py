"""URLs of tasks_app (tasks): joined into the «tasks» namespace by tasks_app/urls.py."""

urlpatterns: list = []
