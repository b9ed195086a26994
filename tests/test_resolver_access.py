"""Every URL of the resolver, for every persona (issue 7 §4).

The test walks django.urls.get_resolver() recursively — the admin's URLs included — and for each
endpoint and persona fills the URL's arguments from records made for the test, then:
- GETs it (and once more with the markers as a search, `?q=…`);
- POSTs to it a payload that would change, move, delete, comment, pin or escalate;
and fails on
- any server error (500);
- any answer (page, partial, JSON, redirect headers, admin page) that contains the marker of a
  record the persona may not see (the titles are distinctive: «СЕКРЕТ-лид-42»…);
- any change to a record the persona may not change (or delete), and any change to a user's
  superuser/staff status, groups or roles (no persona here is a superuser).

Who may see and change what is asked of the access gate (accounts.access.can): this test does
not restate the rules, it checks that no page gets around them.

Records: one set owned by `owner` («СЕКРЕТ», «Группа продаж 1», inside the head's tree) and one
by `stranger` («ЧУЖОЕ», another department: what the head must not reach, e.g. in the admin):
a lead, a deal in «Холодное подключение», a deal in «Общая воронка», a company, a contact, a task
(bound to the lead, with a checklist item), and a pinned comment on each. The lead is linked to the company, the contact and the first deal.
And two events of each owner: a private one («Занят» for everyone else) and a daily meeting with a
colleague invited (`teammate` / `outsider`), a reminder, and a link to the owner's lead (which the
colleague may not see); a participant may change his own answer and nothing else.

New URLs are covered without anyone adding them. A URL whose arguments the filler below cannot
fill FAILS with a message naming the argument: teach `fill()` about it (never skip it).

The data is made once per module (one outer transaction, rolled back at the end) and every
request runs in a savepoint that is rolled back, so each request sees the same records.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts import access
from accounts.models import Action, Entity, Level, Permission, Role, User
from calendar_app import selectors as calendar_selectors
from calendar_app import touches as calendar_touches
from calendar_app.models import Event, EventBinding, EventException, EventReminder, Participant
from clients import services as client_services
from clients.models import Company, Contact
from crm import timeline
from crm.models import TimelineEntry
from deals.models import Deal
from disk import selectors as disk_selectors
from disk import services as disk_services
from disk.models import PublicLink, Share
from leads.forms import GROUPS
from leads.models import Lead, Status
from notifications import services as notifications
from notifications.models import Kind
from tasks_app import services as task_services
from tasks_app.models import ChecklistItem, Task
from tests.factories import COLD, GENERAL, DealFactory, DepartmentFactory, LeadFactory, UserFactory, pipeline

pytestmark = pytest.mark.django_db

TAGS = ("СЕКРЕТ", "ЧУЖОЕ")
PERSONAS = ("owner", "teammate", "outsider", "head", "crm_admin", "norole", "pipeline_only")
RECORD_MODELS = (Lead, Deal, Company, Contact, Task, Event)
PHONES = {"СЕКРЕТ": "+79110000042", "ЧУЖОЕ": "+79110000043"}  # each company's phone


# --- The endpoints ---

@dataclass(frozen=True)
class Endpoint:
    key: str  # «namespace:name», or the route for an unnamed pattern
    route: str  # the whole route, regex groups and <converters> included
    kwargs: tuple[str, ...]
    model_admin: object = None  # the ModelAdmin behind an admin URL, if any

    @property
    def is_admin(self) -> bool:
        return self.key.startswith("admin:")


def _part(pattern) -> str:
    text = str(pattern.pattern)
    return text.lstrip("^").rstrip("$").replace("\\Z", "")


def _model_admin(view):
    """The ModelAdmin behind an admin view: set on the model's own URLs; found on the bound
    method for the extra ones (the user admin's password form)."""
    found = getattr(view, "model_admin", None)
    method_owner = getattr(getattr(view, "__wrapped__", None), "__self__", None)
    return found or (method_owner if isinstance(method_owner, admin.ModelAdmin) else None)


def walk(resolver=None, prefix: str = "", namespace: str = "") -> list[Endpoint]:
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        route = prefix + _part(entry)
        if isinstance(entry, URLResolver):
            ns = ":".join(filter(None, [namespace, entry.namespace]))
            found += walk(entry, route, ns)
        elif isinstance(entry, URLPattern):
            kwargs = tuple(re.findall(r"(?<!\?P)<(?:\w+:)?(\w+)>", route) + re.findall(r"\(\?P<(\w+)>", route))
            name = f"{namespace}:{entry.name}" if entry.name else f"{namespace}:<{route}>"
            found.append(Endpoint(name.lstrip(":"), route, kwargs, _model_admin(entry.callback)))
    return found


ENDPOINTS = {e.key: e for e in walk()}


def build_url(endpoint: Endpoint, values: dict) -> str:
    def sub_route(match):
        return str(values[match.group(1)])

    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", sub_route, endpoint.route)
    url = re.sub(r"<(?:\w+:)?(\w+)>", sub_route, url)
    return "/" + url


# --- The world: personas and records ---

def _records(user, tag: str, phone: str) -> dict:
    company = client_services.company_create(
        data={"name": f"{tag}-компания-42", "responsible": user},
        communications=[("phone", "work", phone, "")], by=None)
    contact = client_services.contact_create(
        data={"first_name": "Анна", "last_name": f"{tag}-контакт-42", "responsible": user},
        communications=[], companies=[company], by=None)
    lead = LeadFactory(title=f"{tag}-лид-42", responsible=user, company_name=f"{tag}-лидкомпания-42")
    deal = DealFactory(title=f"{tag}-сделка-42", responsible=user, pipeline=pipeline(COLD), company=company,
                       lead=lead)
    deal.contacts.add(contact)
    general = DealFactory(title=f"{tag}-сделка-общая-42", responsible=user, pipeline=pipeline(GENERAL),
                          company=company)
    Lead.objects.filter(pk=lead.pk).update(company=company, contact=contact)
    # The owner's own task bound to his lead, with a checklist item (its text is a marker too).
    task = task_services.task_create(data={"title": f"{tag}-задача-42", "responsible": user}, by=user,
                                     records=[lead], checklist=[f"{tag}-пункт-42"])
    records = {"lead": lead, "deal": deal, "deal_general": general, "company": company, "contact": contact,
               "task": task}
    comments = {}
    for kind, record in records.items():
        comments[kind] = timeline.add_comment(record, user, f"{tag}-комментарий-{kind}-42", pin_it=True)
    return {"records": records, "comments": comments}


def _build_world() -> dict:
    from accounts.demo import grant_supervisors

    root = DepartmentFactory(name="«Решение»")
    sales = DepartmentFactory(name="Отдел продаж", parent=root)
    group1 = DepartmentFactory(name="Группа продаж 1", parent=sales)
    group2 = DepartmentFactory(name="Группа продаж 2", parent=sales)
    marketing = DepartmentFactory(name="Отдел маркетинга", parent=root)
    users = {
        "owner": UserFactory(username="owner", last_name="Иванов", department=group1, role="Менеджер"),
        "teammate": UserFactory(username="teammate", last_name="Петрова", department=group1, role="Менеджер"),
        "outsider": UserFactory(username="outsider", last_name="Сидоров", department=group2, role="Менеджер"),
        "head": UserFactory(username="head", last_name="Смирнова", department=sales,
                            role="Руководитель отдела продаж", is_staff=True),
        "crm_admin": UserFactory(username="crmadmin", last_name="Админов", department=root, role="Администратор CRM"),
        "norole": UserFactory(username="norole", last_name="Безролев", department=group1),
        "pipeline_only": UserFactory(username="pipeline", last_name="Воронкин", department=group1),
        "stranger": UserFactory(username="stranger", last_name="Чужаков", department=marketing, role="Менеджер"),
    }
    sales.head = users["head"]
    sales.save()
    grant_supervisors(users)
    # Rights in one deal pipeline only: every deal of «Общая воронка», nothing else (no leads,
    # companies or contacts).
    role = Role.objects.create(name="Только «Общая воронка»")
    for action in (Action.VIEW, Action.ADD, Action.CHANGE):
        Permission.objects.create(role=role, entity=Entity.DEAL, action=action, level=Level.ALL,
                                  scope=pipeline(GENERAL).access_scope)
    users["pipeline_only"].roles.add(role)
    world = {
        "users": users,
        "СЕКРЕТ": _records(users["owner"], "СЕКРЕТ", PHONES["СЕКРЕТ"]),
        "ЧУЖОЕ": _records(users["stranger"], "ЧУЖОЕ", PHONES["ЧУЖОЕ"]),
    }
    # A touch planned on each lead, for its responsible (tasks:touch_complete).
    from tasks_app import services as tasks

    for tag, owner in (("СЕКРЕТ", users["owner"]), ("ЧУЖОЕ", users["stranger"])):
        world[tag]["touch"] = tasks.task_create(
            data={"kind": "call", "title": f"{tag}-звонок", "responsible": owner, "creator": owner,
                  "deadline": timezone.now() + timedelta(days=1)}, by=None, records=[world[tag]["records"]["lead"]])
    # A private event of each owner (its title is a marker: only he reads it), and the owner's feed
    # address revoked (an old link must answer 404 to anyone: the feed has no login).
    from calendar_app import services as calendar

    for tag, owner, colleague in (("СЕКРЕТ", users["owner"], users["teammate"]),
                                  ("ЧУЖОЕ", users["stranger"], users["outsider"])):
        start = timezone.now() + timedelta(days=1)
        world[tag]["event"] = calendar.event_create(
            data={"title": f"{tag}-событие", "start": start, "end": start + timedelta(hours=1), "is_private": True},
            by=owner)
        world[tag]["meeting"] = calendar.event_create(
            data={"title": f"{tag}-встреча-42", "organizer": owner, "start": start, "end": start + timedelta(hours=1),
                  "freq": "daily", "count": 3}, by=None, participants=[colleague], reminder_minutes=[15],
            records=[world[tag]["records"]["lead"]])
    world["participants"] = {pk: (event_id, user_id, answer) for pk, event_id, user_id, answer in
                             Participant.objects.values_list("pk", "event_id", "user_id", "answer")}
    world["feed_token"] = calendar.calendar_token_create(users["owner"]).token
    calendar.calendar_token_revoke(users["owner"])
    # A webhook of each owner (the REST API): its «Отозвать» is the user's own; the API's address is
    # tried with a wrong code only — with the right one the code is the credential, whoever holds it.
    from rest import services as rest_services
    world["webhooks"] = [rest_services.webhook_create(users[name], scopes=["crm", "user"])[0]
                         for name in ("owner", "stranger")]
    # The owner's notification about his lead (it names the lead): anyone else gets a 404.
    lead = world["СЕКРЕТ"]["records"]["lead"]
    world["notification"] = notifications.notify(
        users["owner"], Kind.ASSIGNED, timeline.message("Вы назначены ответственным: %(record)s", record=str(lead)),
        record=lead, actor=users["head"])
    # A file attached to each owner's deal (its name and its bytes are a marker), and a public link
    # to it that was revoked (an old link must answer 404 to anyone: it has no login).
    from disk import services as disk

    for tag, owner in (("СЕКРЕТ", users["owner"]), ("ЧУЖОЕ", users["stranger"])):
        attachment = disk.attach_upload(world[tag]["records"]["deal"], io.BytesIO(f"{tag}-файл-42".encode()),
                                        f"{tag}-файл-42.txt", owner)
        world[tag]["file"] = attachment.file
        link = disk.public_link_create(attachment.file, owner)
        world[tag]["public_link"] = disk.public_link_revoke(link, owner).token
    # The head's import job (uploaded, not checked): the «Импорт» pages of anyone else answer 404.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from exchange import services as exchange

    world["import_job"] = exchange.job_upload(
        by=users["head"], entity="lead", options={},
        upload=SimpleUploadedFile("Импорт.csv", "Название лида;Источник\nПоставка;Сайт\n".encode()))
    # The head's outgoing-events handler (rest.events): a supervisor's page, a 403 to the managers.
    from rest.events import services as rest_events

    world["event_handler"] = rest_events.handler_create(name="Сайт", url="https://example.ru/bitrix/events",
                                                        events=["ONCRMLEADADD"], by=users["head"])
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Made once for the module inside a transaction that is rolled back after it (the tests'
    own transactions nest as savepoints)."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def all_records(world) -> list:
    return [r for tag in TAGS for r in [*world[tag]["records"].values(), world[tag]["event"], world[tag]["meeting"]]]


# --- What each persona may see and change ---

def markers(world, persona: User) -> dict[str, bool]:
    """marker text → whether `persona` may see it."""
    found = {}
    for tag in TAGS:
        for kind, record in world[tag]["records"].items():
            visible = access.can(persona, Action.VIEW, record)
            found[str(record)] = visible
            found[world[tag]["comments"][kind].text] = visible
            if isinstance(record, Task):
                for text in record.checklist.values_list("text", flat=True):
                    found[text] = visible
        for event in (world[tag]["event"], world[tag]["meeting"]):
            found[event.title] = (access.can(persona, Action.VIEW, event)
                                  and calendar_selectors.can_read_details(persona, event))
        found[world[tag]["file"].name.removesuffix(".txt")] = disk_selectors.rights(persona, world[tag]["file"]) is not None
    return found


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # the access levels are cached on a user object


# A participant's «Не смогу» is his to say (his answer is checked below, as his own), and the
# meeting's records note it in their history — a line he causes on a lead he may not change.
DECLINE_NOTE = calendar_touches.DECLINED


def snapshot(world) -> dict:
    """What a forbidden request must not change: every field of every record, its links, its
    timeline (comments and pins), and every persona's superuser/staff status, groups and roles.
    A dozen queries whatever the number of records (it runs after every POST)."""
    state = {}
    records = all_records(world)
    entries: dict = {}
    for *entry, data in TimelineEntry.objects.filter(object_id__in={r.pk for r in records}).values_list(
            "content_type_id", "object_id", "pk", "kind", "text", "is_pinned", "data").order_by("pk"):
        # In Python: SQL's «data->msgid <> …» leaves out every entry with no msgid (comments) too.
        if (data or {}).get("msgid") != DECLINE_NOTE:
            entries.setdefault(tuple(entry[:2]), []).append(tuple(entry[2:]))
    contacts_of = _links(Deal.contacts.through, "deal_id", "contact_id")
    companies_of = _links(Contact.companies.through, "contact_id", "company_id")
    checklist_of: dict[int, list] = {}
    for task_id, *item in ChecklistItem.objects.order_by("pk").values_list("task_id", "pk", "text", "is_done"):
        checklist_of.setdefault(task_id, []).append(tuple(item))
    # An event's occurrences changed or cancelled, its reminders and links; each participant's answer
    # is an entry of its own (he may change it, and nothing else of the event).
    event_parts: dict[int, list] = {}
    for model, fields in ((EventException, ("pk", "original_start", "is_cancelled", "new_start", "title")),
                          (EventReminder, ("pk", "minutes")), (EventBinding, ("pk", "content_type_id", "object_id"))):
        for event_id, *item in model.objects.order_by("pk").values_list("event_id", *fields):
            event_parts.setdefault(event_id, []).append((model.__name__, *item))
    for pk, event_id, user_id, answer in Participant.objects.values_list("pk", "event_id", "user_id", "answer"):
        state[("Participant", pk)] = (event_id, user_id, answer)
    links_of = {Deal: contacts_of, Contact: companies_of, Task: checklist_of, Event: event_parts}
    for model in RECORD_MODELS:
        pks = [r.pk for r in records if type(r) is model]
        rows = {row["id"]: row for row in model.objects.filter(pk__in=pks).values()}
        content_type = ContentType.objects.get_for_model(model).pk
        for pk in pks:
            row = rows.get(pk)
            if row is not None:
                row.pop("search_text", None)  # a cache column, rewritten on save
            links = links_of.get(model, {}).get(pk, [])
            state[(model.__name__, pk)] = (row, entries.get((content_type, pk), []), links)
    users = world["users"].values()
    groups = _links(User.groups.through, "user_id", "group_id")
    roles = _links(User.roles.through, "user_id", "role_id")
    rows = {row["pk"]: row for row in User.objects.filter(pk__in=[u.pk for u in users]).values(
        "pk", "is_superuser", "is_staff", "is_active")}
    for user in users:
        state[("User", user.pk)] = (rows.get(user.pk), groups.get(user.pk, []), roles.get(user.pk, []))
    return state


def _links(through, left: str, right: str) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for a, b in through.objects.order_by(left, right).values_list(left, right):
        found.setdefault(a, []).append(b)
    return found


def may_change(world, persona: User, key, deleted: bool) -> bool:
    kind, pk = key
    if kind == "User":
        return persona.is_superuser
    if kind == "Participant":
        # His own answer; or an invitation the event's editor withdraws (or the answer he resets).
        event_id, user_id, _answer = world["participants"][pk]
        event = next(r for r in all_records(world) if type(r) is Event and r.pk == event_id)
        return persona.pk == user_id or access.can(persona, Action.CHANGE, event)
    record = next(r for r in all_records(world) if type(r).__name__ == kind and r.pk == pk)
    return access.can(persona, Action.DELETE if deleted else Action.CHANGE, record)


# --- Filling a URL's arguments ---

class CannotFill(Exception):
    pass


def _admin_objects(model_admin, world) -> list:
    model = model_admin.model
    if model in RECORD_MODELS:
        return [r.pk for r in all_records(world) if type(r) is model]
    first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
    return [first if first is not None else 1]


def fill(endpoint: Endpoint, world) -> list[tuple[dict, dict]]:
    """The (URL kwargs, POST payload extras) to try for `endpoint`. Raises CannotFill for an
    argument it does not know."""
    names = set(endpoint.kwargs)
    if not names:
        return [({}, {})]
    key = endpoint.key
    variants: list[tuple[dict, dict]] = []
    if names == {"pk"} and key.startswith("leads:"):
        variants = [({"pk": world[t]["records"]["lead"].pk}, {"to": Status.FIRST_CALL}) for t in TAGS]
    elif names == {"pk", "slug"} and key.startswith("leads:group"):
        # Every field group of the card, edited in place.
        variants = [({"pk": world[t]["records"]["lead"].pk, "slug": slug}, {"version": world[t]["records"]["lead"].version})
                    for t in TAGS for slug, _label, _fields in GROUPS]
    elif names == {"pk"} and key.startswith("deals:"):
        for tag in TAGS:
            for kind in ("deal", "deal_general"):
                deal = world[tag]["records"][kind]
                later = deal.pipeline.stages.exclude(pk=deal.stage_id).order_by("sort").first()
                variants.append(({"pk": deal.pk}, {"to": later.pk, "pipeline": pipeline(GENERAL).pk}))
    elif names == {"pk"} and key.startswith("clients:company"):
        variants = [({"pk": world[t]["records"]["company"].pk}, {}) for t in TAGS]
    elif names == {"pk"} and key.startswith("clients:contact"):
        variants = [({"pk": world[t]["records"]["contact"].pk}, {}) for t in TAGS]
    elif names == {"pk"} and key == "tasks:day_complete":
        # «Завершить» on «Мой день»: each lead's touch (only its responsible may complete it).
        variants = [({"pk": world[t]["touch"].pk}, {}) for t in TAGS]
    elif names == {"pk"} and key == "tasks:touch_complete":
        variants = [({"pk": world[t]["touch"].pk}, {"result": "Дозвонились", "skip_next": "on"}) for t in TAGS]
    elif names == {"pk"} and key in ("tasks:bind", "tasks:unbind"):
        # Each task bound to the other owner's lead (hidden from most), and its own lead unbound;
        # `q` makes the answer search too (its matches are refreshed with the list).
        for tag, other in (("СЕКРЕТ", "ЧУЖОЕ"), ("ЧУЖОЕ", "СЕКРЕТ")):
            task = world[tag]["records"]["task"]
            for record in (world[other]["records"]["lead"], world[tag]["records"]["lead"]):
                variants.append(({"pk": task.pk}, {"record": f"{record._meta.label_lower}:{record.pk}", "q": "42"}))
    elif names == {"pk"} and key.startswith("tasks:"):
        variants = [({"pk": world[t]["records"]["task"].pk}, {"name": "complete", "to": "none", "text": "ВЗЛОМ-пункт"})
                    for t in TAGS]
    elif names == {"pk", "item"} and key.startswith("tasks:"):
        for tag in TAGS:
            task = world[tag]["records"]["task"]
            variants.append(({"pk": task.pk, "item": task.checklist.get().pk}, {"done": "on"}))
    elif names == {"pk"} and key in ("calendar:event_ics", "calendar:event", "calendar:event_answer",
                                     "calendar:event_cancel"):
        # The card's buttons: a participant's «Не смогу», «Отменить» the whole series.
        variants = [({"pk": world[t][e].pk}, {"answer": "declined", "what": "all", "version": world[t][e].version})
                    for t in TAGS for e in ("event", "meeting")]
    elif names == {"pk"} and key == "calendar:event_edit":
        variants = [({"pk": world[t][e].pk}, {"title": "ВЗЛОМ-событие", "date": "2026-12-07", "start_time": "10:00",
                                              "end_time": "11:00", "availability": "busy",
                                              "version": world[t][e].version})
                    for t in TAGS for e in ("event", "meeting")]
    elif names == {"pk"} and key == "calendar:event_move":
        variants = [({"pk": world[t][e].pk}, {"start": "2026-12-09T14:00", "version": world[t][e].version})
                    for t in TAGS for e in ("event", "meeting")]
    elif names == {"token"} and key == "calendar:feed":
        variants = [({"token": world["feed_token"]}, {}), ({"token": "no-such-token"}, {})]
    elif names == {"pk"} and key == "disk:download":
        variants = [({"pk": world[t]["file"].pk}, {}) for t in TAGS]
    elif names == {"pk", "number"} and key == "disk:download_version":
        variants = [({"pk": world[t]["file"].pk, "number": 1}, {}) for t in TAGS]
    elif names == {"pk"} and key.startswith("disk:") and (key.endswith("_folder") or key in (
            "disk:folder", "disk:upload", "disk:folder_create")):
        # Each owner's deal folder in «Файлы CRM»; a move or a copy aims at the other owner's.
        variants = [({"pk": world[t]["file"].folder_id}, {"to": world[o]["file"].folder_id})
                    for t, o in zip(TAGS, reversed(TAGS), strict=True)]
    elif names == {"pk"} and key.startswith("disk:") and (key.endswith("_file") or key in (
            "disk:upload_version", "disk:preview", "disk:versions", "disk:links")):
        variants = [({"pk": world[t]["file"].pk}, {"to": world[o]["file"].folder_id, "number": 1,
                                                     "user": world["users"]["outsider"].pk, "access": "edit"})
                    for t, o in zip(TAGS, reversed(TAGS), strict=True)]
    elif names == {"pk"} and key == "disk:link_revoke":
        variants = [({"pk": PublicLink.objects.get(token=world[t]["public_link"]).pk}, {}) for t in TAGS]
    elif names == {"pk"} and key == "disk:unshare":
        variants = [({"pk": pk}, {}) for pk in Share.objects.values_list("pk", flat=True)[:2]] or [({"pk": 1}, {})]
    elif names == {"storage"} and key.startswith("disk:trash"):
        owners = [world["users"]["owner"], world["users"]["stranger"]]
        variants = [({"storage": disk_services.personal_storage(u).pk}, {}) for u in owners]
        variants.append(({"storage": world["СЕКРЕТ"]["file"].folder.storage_id}, {}))  # «Файлы CRM»: no trash page
    elif names == {"token"} and key == "disk:public":
        variants = [({"token": world[t]["public_link"]}, {"password": "x"}) for t in TAGS] + [({"token": "no-such-link"}, {})]
    elif names == {"kind", "pk"} and key in ("disk:attachments", "disk:attach_upload"):
        # The attachments panel of every record's card (its list, and an upload with no file).
        for tag in TAGS:
            for record in [*world[tag]["records"].values(), world[tag]["event"], world[tag]["meeting"]]:
                variants.append(({"kind": record._meta.label_lower, "pk": record.pk}, {}))
    elif key in ("disk:detach", "disk:link_create", "disk:attach_link_revoke"):
        # Each owner's deal's attachment (and its revoked link), through its own deal and through the
        # other owner's (a record's URL must not reach another record's attachment).
        from disk.models import Attachment

        for tag in TAGS:
            attachment = Attachment.objects.get(file=world[tag]["file"])
            link = PublicLink.objects.get(token=world[tag]["public_link"])
            for through in TAGS:
                deal = world[through]["records"]["deal"]
                values = {"kind": "deals.deal", "pk": deal.pk, "attachment": attachment.pk, "link": link.pk}
                variants.append(({n: values[n] for n in names}, {}))
    elif names == {"entity"} and key == "exchange:export":
        # Every list's export (CSV, streamed): it must hold no record the persona may not see.
        variants = [({"entity": entity}, {}) for entity in ("lead", "company", "contact", "deal", "task")]
    elif names == {"pk"} and key.startswith("exchange:import_"):
        variants = [({"pk": world["import_job"].pk}, {})]
    elif names == {"pk"} and key.startswith("rest_events:"):
        variants = [({"pk": world["event_handler"].pk}, {})]
    elif names == {"pk"} and key.startswith("notifications:"):
        variants = [({"pk": world["notification"].pk}, {})]
    elif names == {"pk"} and key == "rest:webhook_revoke":
        variants = [({"pk": webhook.pk}, {}) for webhook in world["webhooks"]]
    elif names == {"user_id", "code", "method"} and key == "rest:call":
        variants = [({"user_id": webhook.user_id, "code": "wrong0code", "method": method}, {"cmd[a]": "user.current"})
                    for webhook in world["webhooks"] for method in ("user.current", "crm.lead.list", "batch")]
    elif names == {"status"} and key.startswith("leads:"):
        variants = [({"status": Status.NEW}, {})]
    elif names == {"stage"} and key.startswith("deals:"):
        variants = [({"stage": world[t]["records"][k].stage_id}, {}) for t in TAGS for k in ("deal", "deal_general")]
    elif names in ({"kind", "pk"}, {"kind", "pk", "entry"}) and key.startswith("crm:"):
        for tag in TAGS:
            for kind, record in world[tag]["records"].items():
                values = {"kind": record._meta.label_lower, "pk": record.pk,
                          "entry": world[tag]["comments"][kind].pk}
                variants.append(({n: values[n] for n in names}, {}))
    elif names == {"kind", "pk"} and key == "tasks:touch_plan":
        for tag in TAGS:
            for record in world[tag]["records"].values():
                variants.append(({"kind": record._meta.label_lower, "pk": record.pk},
                                 {"kind": "call", "title": "Звонок", "day": "2030-01-10", "at": "10:00",
                                  "responsible": world["users"]["owner"].pk}))
    elif endpoint.is_admin and names == {"object_id"} and endpoint.model_admin is not None:
        variants = [({"object_id": pk}, {}) for pk in _admin_objects(endpoint.model_admin, world)]
    elif endpoint.is_admin and names == {"app_label"}:
        labels = re.search(r"\(\?P<app_label>([^)]*)\)", endpoint.route).group(1).split("|")
        variants = [({"app_label": label}, {}) for label in labels]
    elif endpoint.is_admin and names == {"content_type_id", "object_id"}:
        for record in all_records(world):
            variants.append(({"content_type_id": ContentType.objects.get_for_model(record).pk,
                              "object_id": record.pk}, {}))
    elif endpoint.is_admin and names == {"url"}:
        variants = [({"url": "no-such-page/"}, {})]
    elif endpoint.is_admin and names == {"uidb64", "token"}:
        variants = [({"uidb64": "MQ", "token": "set-password"}, {})]
    elif endpoint.is_admin and names == {"id"} and endpoint.model_admin is not None:  # the user admin's password
        variants = [({"id": pk}, {}) for pk in _admin_objects(endpoint.model_admin, world)]
    elif names == {"path"} and key.startswith("<media/"):  # DEBUG's uploaded files
        variants = [({"path": "no-such-file.txt"}, {})]
    if not variants:
        raise CannotFill(
            f"{endpoint.key} ({endpoint.route}) has arguments {sorted(names)} that "
            f"tests/test_resolver_access.py cannot fill: teach fill() which records to put in them.")
    return variants


def payload(world, persona: User, endpoint: Endpoint, extra: dict) -> dict:
    """What a POST tries: every field name the forms, dialogs and admin actions of the CRM use,
    with a value that would change something. An admin list's bulk action gets every row of its
    model (ids differ from run to run: a record's id may not be a reference list's)."""
    model = getattr(endpoint.model_admin, "model", None)
    pks = (list(model._default_manager.values_list("pk", flat=True)) if model is not None
           else [r.pk for r in all_records(world)])
    return {
        "title": "ВЗЛОМ", "name": "ВЗЛОМ", "last_name": "ВЗЛОМ", "first_name": "ВЗЛОМ",
        "text": "ВЗЛОМ-комментарий", "pin": "on", "responsible": persona.pk, "dialog": "1",
        "post": "yes", "is_superuser": "on", "is_staff": "on", "is_active": "on", "username": persona.username,
        "groups": [g.pk for g in persona.groups.all()] or [1], "roles": [r.pk for r in Role.objects.all()],
        "action": "delete_selected", "_selected_action": pks, "index": "0", "select_across": "0",
        "ids": pks, "status": Status.JUNK,
        # The duplicate checks (lead form, company/contact forms): the records' own phones and names.
        "company_phone": PHONES["СЕКРЕТ"], "contact_phone": PHONES["ЧУЖОЕ"], "company_name": "Секрет Компания 42",  # the marker's name for the duplicate checks, not its text (a form echoes what was typed)
        "entity": "company", "comm-TOTAL_FORMS": "2", "comm-INITIAL_FORMS": "0",
        "comm-0-kind": "phone", "comm-0-type": "work", "comm-0-value": PHONES["СЕКРЕТ"],
        "comm-1-kind": "phone", "comm-1-type": "work", "comm-1-value": PHONES["ЧУЖОЕ"],
        **extra,
    }


# --- Checking one answer ---

def answer_text(response) -> str:
    # A file download streams its bytes.
    content = b"".join(response.streaming_content) if response.streaming else response.content
    parts = [content.decode(errors="replace")]
    parts += [f"{k}: {v}" for k, v in response.headers.items()]
    decoded = []
    for part in parts:
        # JSON (a body or an HX-Trigger header) escapes non-ASCII letters: read it back.
        candidate = part.split(": ", 1)[-1] if part is not parts[0] else part
        try:
            decoded.append(json.dumps(json.loads(candidate), ensure_ascii=False))
        except (ValueError, TypeError):
            pass
    return "\n".join(parts + decoded)


def problems_of(response, method: str, url: str, hidden: list[str]) -> list[str]:
    found = []
    if response.status_code >= 500:
        found.append(f"{method} {url}: answered {response.status_code}")
    text = answer_text(response)
    for marker in hidden:
        if marker in text:
            found.append(f"{method} {url}: shows «{marker}», which this persona may not see")
    return found


def _cases():
    for key in sorted(ENDPOINTS):
        for persona in PERSONAS:
            yield pytest.param(persona, key, id=f"{persona}-{key}")


def _request(client: Client, method: str, url: str, data=None):
    """One request in a savepoint that is rolled back: the next one sees the same records."""
    with transaction.atomic():
        response = client.get(url, data) if method == "GET" else client.post(url, data or {})
        transaction.set_rollback(True)
    return response


@pytest.mark.parametrize(("persona_name", "key"), list(_cases()))
def test_it_leaks_nothing_and_changes_nothing_the_persona_may_not(world, persona_name, key):
    endpoint = ENDPOINTS[key]
    try:
        variants = fill(endpoint, world)
    except CannotFill as exc:
        pytest.fail(str(exc))
    persona = _fresh(world["users"][persona_name])
    hidden = [marker for marker, visible in markers(world, persona).items() if not visible]
    client = Client(raise_request_exception=False)
    problems: list[str] = []
    # The admin answers a non-staff user with its login page before any view runs: one GET shows it.
    admin_closed = endpoint.is_admin and not persona.is_staff and "login" not in key and "logout" not in key
    before = snapshot(world)  # every request is rolled back: the same before each of them
    for kwargs, extra in variants:
        url = build_url(endpoint, kwargs)
        client.force_login(persona)
        problems += problems_of(_request(client, "GET", url), "GET", url, hidden)
        if admin_closed:
            continue
        if not kwargs:  # a list or a search: look for the markers by name too
            problems += problems_of(_request(client, "GET", url, {"q": "42", "term": "42"}), "GET", url + "?q=42", hidden)
        client.force_login(persona)
        with transaction.atomic():
            response = client.post(url, payload(world, persona, endpoint, extra))
            problems += problems_of(response, "POST", url, hidden)
            after = snapshot(world)
            transaction.set_rollback(True)
        for record_key, state in before.items():
            now = after.get(record_key)  # a withdrawn invitation is gone from the snapshot
            deleted = now is None or now[0] is None
            if now != state and not may_change(world, persona, record_key, deleted):
                problems.append(f"POST {url}: changed {record_key[0]} #{record_key[1]}, which this persona may not change")
        world_events = {r.pk: r for r in all_records(world) if type(r) is Event}
        for record_key in after.keys() - before.keys():  # a new invitation to an event of the world
            event = world_events.get(after[record_key][0])
            if event is not None and not access.can(persona, Action.CHANGE, event):
                problems.append(f"POST {url}: invited someone to event #{event.pk}, which this persona may not change")
    assert not problems, "\n".join(problems)


def test_it_walks_the_whole_resolver():
    """The walk reaches the app URLs and the admin's (a broken walk would pass every persona)."""
    keys = set(ENDPOINTS)
    assert {"leads:detail", "leads:kanban_column", "deals:board_column", "clients:company_detail",
            "crm:comment_pin", "admin:index", "admin:leads_lead_change", "admin:deals_deal_delete",
            "tasks:detail", "tasks:checklist_tick", "admin:tasks_app_task_change", "calendar:feed",
            "calendar:event_ics", "admin:calendar_app_event_change", "disk:download", "disk:public",
            "disk:attach_upload", "disk:detach", "admin:disk_file_change"} <= keys
    assert ENDPOINTS["admin:leads_lead_change"].model_admin is admin.site._registry[Lead]


def test_the_world_has_a_record_of_each_kind_for_each_owner(world):
    for tag in TAGS:
        kinds = {type(r) for r in [*world[tag]["records"].values(), world[tag]["event"], world[tag]["meeting"]]}
        assert kinds == set(RECORD_MODELS)
    # The personas differ as intended: the gate itself is tested in tests/test_access.py.
    users = {name: _fresh(u) for name, u in world["users"].items()}
    secret = world["СЕКРЕТ"]["records"]
    assert access.can(users["owner"], Action.VIEW, secret["lead"])
    assert not access.can(users["teammate"], Action.VIEW, secret["lead"])
    assert access.can(users["pipeline_only"], Action.VIEW, secret["deal_general"])
    assert not access.can(users["pipeline_only"], Action.VIEW, secret["deal"])
    assert not access.can(users["pipeline_only"], Action.VIEW, secret["company"])
    assert not access.can(users["head"], Action.VIEW, world["ЧУЖОЕ"]["records"]["lead"])


def test_the_snapshot_sees_a_change_of_a_record_a_comment_a_link_and_a_role(world):
    """The «changed nothing» check itself: each kind of change shows in the snapshot."""
    secret = world["СЕКРЕТ"]["records"]
    before = snapshot(world)
    with transaction.atomic():
        Lead.objects.filter(pk=secret["lead"].pk).update(title="ВЗЛОМ")
        timeline.add_comment(secret["company"], world["users"]["owner"], "ВЗЛОМ")
        secret["deal"].contacts.clear()
        world["users"]["teammate"].roles.clear()
        secret["task"].checklist.update(is_done=True)
        meeting = world["СЕКРЕТ"]["meeting"]
        meeting.reminders.update(minutes=60)
        answer = meeting.participants.get(user=world["users"]["teammate"])
        Participant.objects.filter(pk=answer.pk).update(answer="declined")
        after = snapshot(world)
        transaction.set_rollback(True)
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {("Lead", secret["lead"].pk), ("Company", secret["company"].pk),
                       ("Deal", secret["deal"].pk), ("User", world["users"]["teammate"].pk),
                       ("Task", secret["task"].pk), ("Event", meeting.pk), ("Participant", answer.pk)}
    assert snapshot(world) == before
