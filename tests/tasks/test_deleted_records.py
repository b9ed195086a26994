"""A deleted lead leaves no dangling links: its task bindings go, its tasks stay, and the bell's
notifications about it keep their sentence without a link to a page that is gone."""

import pytest

from leads import services as lead_services
from notifications.models import Notification
from tasks_app import selectors, services
from tasks_app.models import Binding
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_a_deleted_lead_takes_its_bindings_and_links_along(owner, head, django_capture_on_commit_callbacks):
    lead = LeadFactory(responsible=owner, title="Лид на удаление")
    with django_capture_on_commit_callbacks(execute=True):
        task = services.task_create(data={"title": "Позвонить", "kind": "call", "responsible": owner}, by=head,
                                    records=[lead])
        lead_services.lead_assign(lead, responsible=head, by=owner)
    assert Notification.objects.filter(object_id=lead.pk, recipient=head).exists()

    lead_services.lead_delete(lead, by=head)

    assert not Binding.objects.filter(task=task).exists()
    assert list(selectors.visible(owner)) == [task]
    note = Notification.objects.get(recipient=head, kind="assigned")
    assert (note.content_type_id, note.object_id, note.url) == (None, None, "")
    assert "Лид на удаление" in str(note)
