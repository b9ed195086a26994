from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from crm import cards

from . import access
from .context_processors import MENU
from .models import Action, Entity, Level


def home(request):
    """The start page is the first CRM list the user may open; with none built or allowed, the
    profile page, which shows what the user may do."""
    for _label, target, *_rest in MENU:
        for _l, url_name, entity in target if isinstance(target, list) else []:
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                continue
            if access.level(request.user, entity, Action.VIEW) > Level.NONE:
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
         "panels": cards.panels_for(user, user)},
    )
