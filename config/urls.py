from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("leads/", include("leads.urls")),
    path("deals/", include("deals.urls")),
    path("clients/", include("clients.urls")),
    path("crm/", include("crm.urls")),
    path("notifications/", include("notifications.urls")),
    path("tasks/", include("tasks_app.urls")),
    path("calendar/", include("calendar_app.urls")),
    path("disk/", include("disk.urls")),
    path("exchange/", include("exchange.urls")),
    path("analytics/", include("analytics.urls")),
    path("rest/events/", include("rest.events.urls")),
    path("rest/", include("rest.urls")),
    path("", include("accounts.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
