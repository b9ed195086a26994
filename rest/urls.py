from django.urls import path, re_path

from . import views, views_profile

app_name = "rest"

urlpatterns = [
    path("webhooks/", views_profile.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/revoke/", views_profile.webhook_revoke, name="webhook_revoke"),
    # /rest/<user id>/<code>/<method>[.json]: the method any case, dots and underscores.
    re_path(r"^(?P<user_id>[0-9]{1,18})/(?P<code>[A-Za-z0-9_-]{1,64})/(?P<method>[A-Za-z0-9._]{1,100})/?$",
            views.call, name="call"),
]
