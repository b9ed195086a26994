"""«Запланировать встречу» from a lead's or deal's card: the meeting bound to the record is its
planned touch (a task of kind «Встреча» that follows the event: created, moved, renamed, deleted
on cancel), the record's timeline tells the meeting's story, the invitation's e-mail carries an
.ics, the dialog binds only a record the user may see, and the card's «Встречи» panel shows the
meetings to come (a private one of someone else as «Занят») within a query budget."""

import datetime as dt
import email
import re

import icalendar
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from calendar_app import selectors as calendar_selectors
from calendar_app import services, touches
from calendar_app.cards import panel_context
from calendar_app.models import Answer, Event
from crm import timeline
from leads.models import Lead
from tasks_app import selectors as task_selectors
from tasks_app import services as task_services
from tasks_app.models import Kind, Status, Task
from tests.factories import DealFactory, LeadFactory

from .helpers import MSK, at, make_event

pytestmark = pytest.mark.django_db

# A Monday well ahead, so every meeting below is still to come whenever the tests run.
MONDAY = timezone.localdate() + dt.timedelta(days=14 - timezone.localdate().weekday())
CREATE = reverse("calendar:event_create")


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run the after-commit work (notifications, e-mails through the immediate task backend)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def lead(owner):
    return LeadFactory(responsible=owner, title="Окна для «Ромашки»")


def history(record) -> list[str]:
    with timezone.override(MSK):
        return [timeline.render(e).text for e in timeline.entries(record).order_by("pk")]


def short(moment: dt.datetime) -> str:
    return moment.astimezone(MSK).strftime("%d.%m.%Y %H:%M")


def meeting(owner, lead, hour=10, **data):
    return make_event(owner, at(MONDAY, hour), records=[lead], title="Встреча в офисе «Ромашки»", **data)


# --- The touch ---

def test_a_meeting_bound_to_a_lead_is_its_next_touch(owner, lead):
    event = meeting(owner, lead)
    touch = event.touch
    assert (touch.kind, touch.title, touch.responsible, touch.creator) == (
        Kind.MEETING, "Встреча в офисе «Ромашки»", owner, owner)
    assert touch.deadline == at(MONDAY, 10) and touch.status == Status.PENDING
    assert task_services.bound_records(touch) == [lead]
    lead.refresh_from_db()
    assert lead.next_touch_date == MONDAY
    assert task_selectors.next_touches(Lead, [lead.pk]) == {lead.pk: at(MONDAY, 10)}
    # The lead's «Дела» panel lists it (the tasks' own reading, nothing calendar-specific).
    assert list(task_selectors.record_tasks(owner, lead)) == [touch]


def test_an_event_bound_to_nothing_makes_no_touch(owner):
    assert make_event(owner, at(MONDAY, 10)).touch is None
    assert not Task.objects.exists()


def test_moving_the_meeting_moves_its_touch_and_the_leads_date(owner, lead):
    event = meeting(owner, lead)
    services.event_move(event, start=at(MONDAY + dt.timedelta(days=2), 15), by=owner)
    event.refresh_from_db()
    assert event.touch.deadline == at(MONDAY + dt.timedelta(days=2), 15)
    lead.refresh_from_db()
    assert lead.next_touch_date == MONDAY + dt.timedelta(days=2)
    assert Task.objects.count() == 1


def test_renaming_the_meeting_renames_its_touch(owner, lead):
    event = meeting(owner, lead)
    services.event_update(event, data={"title": "Встреча с директором «Ромашки»"}, by=owner)
    event.refresh_from_db()
    assert event.touch.title == "Встреча с директором «Ромашки»"


def test_cancelling_the_meeting_deletes_its_touch(owner, lead):
    event = meeting(owner, lead)
    touch_pk = event.touch_id
    services.event_cancel(event, by=owner)
    event.refresh_from_db()
    assert event.touch is None and not Task.objects.filter(pk=touch_pk).exists()
    lead.refresh_from_db()
    assert lead.next_touch_date is None


def test_a_deleted_lead_takes_its_meeting_bindings_along_and_the_meeting_stays(owner, head, lead):
    from leads.services import lead_delete

    event = meeting(owner, lead)
    lead_delete(lead, by=head)
    event.refresh_from_db()
    assert not event.bindings.exists() and not event.is_cancelled
    # Its touch stays the organizer's plan (tasks keep theirs) and still follows the meeting.
    services.event_move(event, start=at(MONDAY, 12), by=owner)
    event.refresh_from_db()
    assert event.touch.deadline == at(MONDAY, 12)
    services.event_cancel(event, by=owner)
    assert not Task.objects.exists()


def test_a_meeting_that_took_place_keeps_its_completed_touch(owner, lead):
    event = meeting(owner, lead)
    task_services.task_transition(event.touch, "complete", by=owner, result="Договорились о замере.")
    services.event_cancel(event, by=owner)
    event.refresh_from_db()
    assert event.touch.status == Status.COMPLETED and event.touch.result == "Договорились о замере."


def test_a_weekly_meeting_touch_is_its_next_occurrence(owner):
    deal = DealFactory(responsible=owner)
    event = make_event(owner, at(MONDAY, 9), records=[deal], title="Еженедельный созвон с клиентом", freq="weekly")
    assert event.touch.deadline == at(MONDAY, 9)
    # The next occurrence cancelled: the touch moves to the one after.
    services.event_cancel(event, by=owner, occurrence=at(MONDAY, 9))
    event.refresh_from_db()
    assert event.touch.deadline == at(MONDAY + dt.timedelta(days=7), 9)
    assert "Отменено одно из повторений встречи «Еженедельный созвон с клиентом»" in history(deal)[-1]


def test_editing_the_following_occurrences_hands_the_touch_to_the_new_series(owner):
    deal = DealFactory(responsible=owner)
    event = make_event(owner, at(MONDAY, 9), records=[deal], title="Созвон", freq="weekly")
    touch_pk = event.touch_id
    new = services.event_update(event, data={"title": "Созвон с ЛПР"}, by=owner, scope=services.FOLLOWING,
                                occurrence=at(MONDAY, 9) + dt.timedelta(days=7))
    event.refresh_from_db()
    new.refresh_from_db()
    assert new.touch_id == touch_pk and new.touch.title == "Созвон с ЛПР"
    assert new.touch.deadline == at(MONDAY + dt.timedelta(days=7), 9)
    # The old series still has its Monday meeting to come: it gets a touch of its own.
    assert event.touch.deadline == at(MONDAY, 9) and event.touch_id != touch_pk


def test_the_calendar_grid_shows_the_meeting_once_not_its_touch_too(client, owner, lead):
    meeting(owner, lead)
    task_services.task_create(data={"kind": Kind.CALL, "title": "Позвонить в «Ромашку»", "responsible": owner,
                                    "deadline": at(MONDAY, 16)}, by=owner, records=[lead])
    client.force_login(owner)
    text = client.get(reverse("calendar:index"), {"date": MONDAY.isoformat()}).content.decode()
    assert text.count('data-testid="calendar-event"') == 1
    tasks = re.findall(r'data-testid="calendar-task".*?</a>', text, re.S)
    assert len(tasks) == 1 and "Позвонить в «Ромашку»" in tasks[0]


# --- Rights and refusals ---

def test_only_who_may_change_the_lead_binds_a_meeting_to_it(owner, teammate, head, outsider, lead):
    with pytest.raises(PermissionDenied):
        meeting(outsider, lead)
    assert not Event.objects.exists()
    # The head of sales may change his manager's lead: his meeting is the lead's touch, his own.
    event = meeting(head, lead)
    assert event.touch.responsible == head


def test_an_event_binds_only_to_a_lead_deal_contact_or_company(owner, teammate):
    with pytest.raises(ValidationError) as refused:
        make_event(owner, at(MONDAY, 10), records=[teammate])
    assert "только к лиду, сделке, контакту или компании" in str(refused.value)
    assert not Event.objects.exists()


def test_a_private_meeting_keeps_its_title_off_the_touch_and_the_timeline(owner, lead):
    event = meeting(owner, lead, is_private=True)
    assert event.touch.title == "Частная встреча"
    assert not any("Ромашки" in line for line in history(lead))


# --- The timeline ---

def test_the_leads_timeline_tells_the_meeting_planned_moved_changed_declined_and_cancelled(owner, teammate, lead):
    event = meeting(owner, lead, participants=[teammate])
    moved_to = at(MONDAY + dt.timedelta(days=1), 12, 30)
    event = services.event_move(event, start=moved_to, by=owner)
    event = services.event_update(event, data={"location": "Офис клиента, 3 этаж"}, by=owner)
    services.participant_answer(event, user=teammate, answer=Answer.DECLINED)
    services.event_cancel(event, by=owner)
    lines = [line for line in history(lead) if "встреч" in line.lower()]
    # Said once: the touch's own «Запланировано: встреча …» (tasks_app) would repeat the first line.
    assert lines[:4] == [
        f"Запланирована встреча «Встреча в офисе «Ромашки»» на {short(at(MONDAY, 10))}",
        f"Встреча «Встреча в офисе «Ромашки»» перенесена: {short(at(MONDAY, 10))} → {short(moved_to)}",
        "Встреча «Встреча в офисе «Ромашки»» изменена",
        "Петрова Мария не примет участия во встрече «Встреча в офисе «Ромашки»»",
    ]
    assert "Встреча «Встреча в офисе «Ромашки»» отменена" in lines


def test_the_timeline_shows_the_meetings_time_in_the_readers_zone(owner, lead):
    meeting(owner, lead)
    entry = timeline.entries(lead).filter(data__msgid__startswith="Запланирована встреча").get()
    with timezone.override("Asia/Yekaterinburg"):  # two hours ahead of Moscow
        assert timeline.render(entry).text.endswith(short(at(MONDAY, 12)))


def test_an_all_day_meeting_reads_as_its_day(owner, lead):
    services.event_create(data={"title": "Выставка «Окна-2026»", "all_day": True, "start_date": MONDAY,
                                "end_date": MONDAY}, by=owner, records=[lead])
    assert history(lead)[0] == f"Запланирована встреча «Выставка «Окна-2026»» на {MONDAY:%d.%m.%Y}"
    lead.refresh_from_db()
    assert lead.next_touch_date == MONDAY


# --- The invitation's e-mail ---

def test_the_invitation_email_carries_the_meeting_as_an_ics_request(commit, owner, teammate, lead):
    with commit():
        event = meeting(owner, lead, participants=[teammate])
    [letter] = [m for m in mail.outbox if m.to == [teammate.email]]
    parsed = email.message_from_bytes(letter.message().as_bytes())
    [part] = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "invite.ics" and part.get_param("method") == "REQUEST"
    cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    assert str(cal["method"]) == "REQUEST"
    [vevent] = cal.walk("VEVENT")
    assert str(vevent["summary"]) == "Встреча в офисе «Ромашки»"
    assert vevent.decoded("dtstart") == at(MONDAY, 10)
    assert f"mailto:{teammate.email}" in [str(a) for a in vevent.get("attendee")]
    assert str(vevent["organizer"]) == f"mailto:{owner.email}"
    # A move sends the new version of the same event (its UID, a higher SEQUENCE).
    mail.outbox.clear()
    with commit():
        services.event_move(event, start=at(MONDAY, 14), by=owner)
    [letter] = mail.outbox
    cal = icalendar.Calendar.from_ical(letter.attachments[0][1])
    [vevent] = cal.walk("VEVENT")
    assert vevent.decoded("dtstart") == at(MONDAY, 14) and int(vevent["sequence"]) > 1
    # A cancellation removes it from the mail program's calendar.
    mail.outbox.clear()
    with commit():
        services.event_cancel(event, by=owner)
    [letter] = mail.outbox
    filename, content, mimetype = letter.attachments[0]
    assert mimetype == "text/calendar; method=CANCEL"
    assert str(icalendar.Calendar.from_ical(content)["method"]) == "CANCEL"


def test_a_task_email_has_no_attachment(commit, owner, head):
    with commit():
        task_services.task_create(data={"title": "Подготовить КП", "responsible": owner}, by=head)
    [letter] = mail.outbox
    assert letter.attachments == []


# --- The dialog from a card ---

def test_the_dialog_opened_from_a_card_binds_the_lead_and_returns_to_it(client, owner, teammate, lead):
    client.force_login(owner)
    response = client.get(CREATE, {"bind": f"leads.lead:{lead.pk}"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    text = response.content.decode()
    assert f'name="bind" value="leads.lead:{lead.pk}"' in text
    assert "Встреча: Окна для «Ромашки»" in text
    response = client.post(CREATE, {"title": "Замер окон", "date": MONDAY.isoformat(), "start_time": "11:00",
                                    "end_time": "12:00", "availability": "busy", "participants": [teammate.pk],
                                    "bind": f"leads.lead:{lead.pk}"}, headers={"HX-Request": "true"})
    assert response.status_code == 204 and response["HX-Redirect"] == lead.get_absolute_url()
    event = Event.objects.get()
    assert event.bindings.get().record == lead and event.touch.deadline == at(MONDAY, 11)


@pytest.mark.parametrize("bind", ["leads.lead:{other}", "leads.lead:abc", "accounts.user:1", "leads.lead:99999999",
                                  "leads.lead:-1", "x" * 300])
def test_a_bad_bind_opens_the_dialog_without_it(client, owner, outsider, bind):
    other = LeadFactory(responsible=outsider)
    client.force_login(owner)
    response = client.get(CREATE, {"bind": bind.format(other=other.pk)})
    assert response.status_code == 200
    assert 'name="bind"' not in response.content.decode()


def test_a_forged_bind_is_refused_and_nothing_is_saved(client, owner, outsider):
    other = LeadFactory(responsible=outsider)
    client.force_login(owner)
    response = client.post(CREATE, {"title": "Замер окон", "date": MONDAY.isoformat(), "start_time": "11:00",
                                    "availability": "busy", "bind": f"leads.lead:{other.pk}"})
    assert response.status_code == 200
    assert "Запись для привязки не найдена или нет доступа" in response.content.decode()
    assert not Event.objects.exists()


# --- The card's «Встречи» panel ---

def test_the_lead_card_shows_its_meetings_and_the_button(client, django_assert_max_num_queries, owner, teammate,
                                                          lead):
    meeting(owner, lead, participants=[teammate])
    make_event(owner, at(MONDAY, 15), records=[lead], title="Собеседование", is_private=True)
    make_event(owner, at(MONDAY, 17), title="Не про этот лид")
    client.force_login(owner)
    # The lead card's own budget (tests/leads/test_card.py: 12, the bound events' ids included) and
    # the panel's events, their exceptions and the reader's private ones.
    with django_assert_max_num_queries(15):
        response = client.get(lead.get_absolute_url())
    assert response.status_code == 200
    text = response.content.decode()
    panel = re.search(r'data-testid="meetings-panel".*?</section>', text, re.S).group(0)
    assert "Встреча в офисе «Ромашки»" in panel and "Собеседование" in panel and "Не про этот лид" not in panel
    assert f"?view=day&amp;date={MONDAY.isoformat()}" in panel
    assert f"{CREATE}?bind=leads.lead:{lead.pk}" in panel


def test_the_panel_costs_a_few_queries_whatever_the_number_of_meetings(django_assert_max_num_queries, owner,
                                                                       teammate, head, lead):
    for hour in range(8, 18):
        make_event(owner, at(MONDAY, hour), records=[lead], title=f"Встреча {hour}", is_private=hour % 2 == 0,
                   participants=[teammate], freq="daily" if hour % 3 == 0 else "")
    # The bound events' ids, the access levels, the events, their exceptions, the reader's private ones.
    with django_assert_max_num_queries(7):
        context = panel_context(head, lead)
    assert len(context["meetings"]) == 10
    hidden = [m["o"] for m in context["meetings"] if m["o"].hidden]
    assert hidden and all(o.display_title == "Занят" for o in hidden)


def test_a_record_with_no_meetings_costs_one_query(django_assert_num_queries, owner, head, lead):
    make_event(owner, at(MONDAY, 15), title="Не про этот лид")
    start = timezone.now()
    with django_assert_num_queries(1):  # its bound events' ids: none, so no events query
        assert calendar_selectors.record_occurrences(head, lead, start, start + dt.timedelta(days=366)) == []


def test_the_head_sees_a_managers_private_meeting_as_busy_and_may_plan_one(owner, head, lead):
    make_event(owner, at(MONDAY, 15), records=[lead], title="Собеседование", is_private=True)
    context = panel_context(head, lead)
    [shown] = [m["o"] for m in context["meetings"]]
    assert shown.hidden and shown.display_title == "Занят" and shown.location == ""
    assert context["can_plan"]


def test_the_panel_shows_on_deals_and_companies_and_not_on_a_profile(owner):
    from clients.services import company_create
    from crm import cards

    company = company_create(data={"name": "ООО «Панели»", "responsible": owner}, by=None)
    deal = DealFactory(responsible=owner)
    for record in (company, deal):
        assert "calendar_app/_meetings_panel.html" in [p.template for p in cards.panels_for(owner, record)]
    assert "calendar_app/_meetings_panel.html" not in [p.template for p in cards.panels_for(owner, owner)]


def test_a_past_meeting_is_not_on_the_panel(owner, lead):
    past = timezone.now() - dt.timedelta(days=3)
    make_event(owner, past, records=[lead], title="Прошлая встреча")
    assert panel_context(owner, lead)["meetings"] == []
    # Planned after the fact it is an overdue touch: the manager records what came of it.
    assert touches.next_start(Event.objects.get()) == past


# --- Demo data ---

def test_the_demo_calendar_has_a_week_to_show_and_is_seeded_once(client):
    from django.core.management import call_command

    from accounts.models import User
    from calendar_app.demo import SEED_TITLE

    call_command("demo_data")
    events = Event.objects.count()
    call_command("demo_data")
    assert Event.objects.count() == events == 4
    weekly = Event.objects.get(title=SEED_TITLE)
    assert weekly.freq == "weekly" and weekly.participants.count() == 4
    client_meeting = Event.objects.get(title__startswith="Встреча: презентация")
    lead = client_meeting.bindings.get().record
    assert client_meeting.touch.responsible.username == "ivanov"
    assert task_selectors.next_touches(Lead, [lead.pk])[lead.pk] <= client_meeting.start
    assert any("Запланирована встреча" in line for line in history(lead))
    assert Event.objects.filter(all_day=True).exists()
    client.force_login(User.objects.get(username="head"))
    day = client_meeting.start - dt.timedelta(days=1)
    week = client.get(reverse("calendar:index"), {"user": lead.responsible_id, "date": day.date().isoformat()})
    text = week.content.decode()
    assert week.status_code == 200 and "Визит к стоматологу" not in text and "Занят" in text


def test_a_meeting_s_touch_is_reminded_of_by_the_event_not_by_the_tasks_deadline(
        owner, lead, django_capture_on_commit_callbacks):
    """The event's own reminders (chosen by its organizer) remind of the meeting: the tasks' «Скоро
    крайний срок» and «Крайний срок прошёл» at its start would say it twice, and wrongly."""
    from django.test import override_settings
    from django_tasks import default_task_backend

    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
        default_task_backend.clear()
        with django_capture_on_commit_callbacks(execute=True):
            event = meeting(owner, lead)
        with django_capture_on_commit_callbacks(execute=True):
            services.event_move(event, start=at(MONDAY + dt.timedelta(days=1), 12), by=owner)
        names = [r.task.name for r in default_task_backend.results]
    assert event.touch is not None
    assert not [n for n in names if n.startswith("deadline_")]
