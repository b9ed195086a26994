from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import cards

from . import access
from .context_processors import MENU
from .forms import TimeZoneForm
from .models import Action, Entity, Level


def home(request):
    """The start page is the first menu entry the user may open: «Мой день», then the CRM lists;
    with none built or allowed, the profile page, which shows what the user may do."""
    for label, target, *rest in MENU:
        entries = target if isinstance(target, list) else [(label, target, rest[0] if rest else None)]
        for _l, url_name, entity in entries:
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                continue
            if entity and access.level(request.user, entity, Action.VIEW) > Level.NONE:
                return redirect(url)
    return redirect("profile")


def profile(request):
    user = request.user
    rows = [
        {
            "entity": entity.label,
            "levels": [access.level(user, entity, action) for action in Action],
        }
        for entity in Entity
    ]
    return render(
        request,
        "accounts/profile.html",
        {"actions": [a.label for a in Action], "rows": rows, "Level": Level,
         "panels": cards.panels_for(user, user), "zone_form": TimeZoneForm(instance=user)},
    )


@require_POST
def profile_time_zone(request):
    """The profile's «Часовой пояс»; an unknown zone is a message and the saved one stays."""
    form = TimeZoneForm(request.POST, instance=request.user)
    if form.is_valid():
        form.save()
        messages.success(request, _("Часовой пояс сохранён: время на всех страницах показано в нём."))
    else:
        for error in form.errors.get("time_zone", []):
            messages.error(request, error)
    return redirect("profile")
