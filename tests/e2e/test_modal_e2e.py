"""The shared dialog (#crm-modal, static/js/crm.js): «Закрыть» clicked while the dialog is still
fading in closes it once it is shown — Bootstrap alone ignores a dismissal during the transition,
and the dialog stayed open (a kanban browser test saw it on a busy CI machine)."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calendar_app import services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_dialog_closed_while_it_fades_in_closes(live_server, page, login, owner):
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    services.event_create(data={"title": "Звонок клиенту", "start": start, "end": start + dt.timedelta(hours=1)}, by=owner)
    login(owner)
    page.goto(f"{live_server.url}/calendar/?view=day&date={timezone.localdate(start).isoformat()}")
    # The user's click on «Закрыть» lands at the very start of the fade-in; the page notes when the
    # dialog has been shown and when it is hidden again.
    page.evaluate("""() => {
        const modal = document.getElementById("crm-modal");
        modal.addEventListener("show.bs.modal", () =>
            setTimeout(() => modal.querySelector('[data-bs-dismiss="modal"]').click(), 0), {once: true});
        modal.addEventListener("shown.bs.modal", () => { window.dialogShown = true; }, {once: true});
        modal.addEventListener("hidden.bs.modal", () => { window.dialogHidden = true; }, {once: true});
    }""")
    page.get_by_test_id("calendar-event-link").filter(has_text="Звонок клиенту").click()
    page.wait_for_function("() => window.dialogShown === true")
    page.wait_for_function("() => window.dialogHidden === true")
    expect(page.locator("#crm-modal")).to_be_hidden()
