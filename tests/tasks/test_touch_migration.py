"""The data migration that gives leads from before touches the touch their date meant."""

import datetime as dt
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone

from leads.models import Lead, Status
from tasks_app import selectors
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

migration = import_module("tasks_app.migrations.0003_touches_from_lead_dates")


def test_it_plans_a_call_on_each_open_leads_date_and_leaves_closed_ones(owner):
    day = dt.date.today() + dt.timedelta(days=4)
    waiting = LeadFactory(responsible=owner, title="Ждёт звонка")
    closed = LeadFactory(responsible=owner, title="Закрыт")
    untouched = LeadFactory(responsible=owner, title="Без даты")
    # As the data was before touches: a date written straight into the column.
    Lead.objects.filter(pk=waiting.pk).update(next_touch_date=day, next_touch="Демо в четверг\nи КП")
    Lead.objects.filter(pk=closed.pk).update(next_touch_date=day, status=Status.JUNK)

    migration.plan(apps, None)

    touch = selectors.record_tasks(owner, waiting).get()
    assert (touch.kind, touch.title, touch.responsible, touch.creator) == ("call", "Демо в четверг", owner, owner)
    assert timezone.localtime(touch.deadline).date() == day
    assert not selectors.record_tasks(owner, closed).exists()
    assert not selectors.record_tasks(owner, untouched).exists()
