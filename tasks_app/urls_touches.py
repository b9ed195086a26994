"""URLs of tasks_app (touches): joined into the «tasks» namespace by tasks_app/urls.py."""

urlpatterns: list = []
