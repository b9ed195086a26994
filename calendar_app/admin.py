"""Events in the admin, scoped as in the CRM (crm.admin.ScopedAdmin: the list and every page go
through the access gate). Read-only: an event changes through calendar_app.services (its scopes for
repeating events, notifications and reminders), which the calendar pages call. A private event is
listed for those who may read the organizer's calendar, but its details only for its participants
(selectors.can_read_details: a superuser who is neither sees «Занят» too), and a search by title
does not find it for the others (the row would tell them what it is)."""

from django.contrib import admin
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from crm.admin import ScopedAdmin

from . import selectors
from .models import Event, Participant


@admin.register(Event)
class EventAdmin(ScopedAdmin):
    list_display = ("shown_title", "organizer", "start", "start_date", "freq", "is_cancelled")
    list_filter = ("freq", "is_cancelled", "is_private", ("organizer", admin.RelatedOnlyFieldListFilter))
    search_fields = ("title",)
    list_select_related = ("organizer",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Event._meta.fields if f.name != "id"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # Whether the reader takes part: a private event's title is for participants only.
        takes_part = Participant.objects.filter(event_id=OuterRef("pk"), user_id=request.user.pk)
        return super().get_queryset(request).annotate(_takes_part=Exists(takes_part))

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            found = found.filter(Q(is_private=False) | Q(_takes_part=True))
        return found, may_have_duplicates

    @admin.display(description=_("Название"))
    def shown_title(self, obj):
        if not obj.is_private or obj._takes_part:  # the organizer takes part too
            return obj.title
        return _("Занят")

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and not selectors.can_read_details(request.user, obj):
            raise Http404
        return obj
