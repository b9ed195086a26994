"""The bell, the list «Уведомления», read / read all and the e-mail choice. A user reaches only
his own notifications: another's id is a 404."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .forms import EmailKindsForm

PER_PAGE = 20


@require_GET
def bell(request):
    """The unread count, fetched by htmx after the page: pages pay nothing for the bell."""
    return render(request, "notifications/_bell_count.html", {"unread": selectors.unread_count(request.user)})


@require_GET
def notification_list(request):
    page = Paginator(selectors.latest(request.user), PER_PAGE).get_page(request.GET.get("page"))
    items = [{"n": n, "text": str(n)} for n in page]
    return render(request, "notifications/list.html", {
        "page": page, "items": items, "page_range": page.paginator.get_elided_page_range(page.number),
        "unread": selectors.unread_count(request.user),
    })


@require_POST
def notification_open(request, pk: int):
    """Clicking an item: it is read, and the user lands on its record."""
    notification = selectors.get_own_or_404(request.user, pk)
    services.mark_read(request.user, [notification.pk])
    url = notification.url
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return redirect(url)
    return redirect("notifications:list")


@require_POST
def notification_read(request, pk: int):
    notification = selectors.get_own_or_404(request.user, pk)
    services.mark_read(request.user, [notification.pk])
    return redirect(_back(request))


@require_POST
def notification_read_all(request):
    count = services.mark_read(request.user)
    if count:
        messages.success(request, _("Все уведомления прочитаны."))
    return redirect(_back(request))


@require_POST
def email_kinds(request):
    form = EmailKindsForm(request.POST)
    if form.is_valid():
        services.set_email_kinds(request.user, form.cleaned_data["kinds"])
        messages.success(request, _("Настройки писем сохранены."))
    else:
        messages.error(request, _("Настройки писем не сохранены: выберите виды уведомлений из списка."))
    return redirect("profile")


def _back(request) -> str:
    """Back to the page of the list the user was on (only a page number is kept)."""
    page = request.POST.get("page", "")
    return reverse("notifications:list") + (f"?page={page}" if page.isdigit() and len(page) < 6 else "")
