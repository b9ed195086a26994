from django.core.management import call_command
from django.urls import reverse

from accounts.models import Department, User
from clients.demo import short_name
from clients.models import Company, Contact
from crm import timeline
from deals.models import Deal, Stage
from leads.models import Lead, Status
from tests.leads.test_card import create_payload


def counts():
    return tuple(model.objects.count() for model in (User, Department, Lead, Company, Contact, Deal))


def test_demo_data_is_idempotent_and_covers_every_status_in_process(db, capsys):
    call_command("demo_data")
    before = counts()
    call_command("demo_data")
    assert counts() == before
    out = capsys.readouterr().out
    assert "ivanov" in out and "пароль у всех: demo" in out
    assert set(Lead.objects.values_list("status", flat=True)) == set(Status.values)
    seed_lead = Lead.objects.get(title="Тест Решение")
    assert seed_lead.status == Status.NEW
    assert seed_lead.company_phone == "+78800000000" and seed_lead.contact_last_name == "Лактионова"
    head = User.objects.get(username="head")
    assert head.is_staff and head.has_perm("leads.view_lead") and head.has_perm("leads.add_requirement")


def test_every_deal_stage_has_a_demo_deal_of_the_company_its_title_names(db):
    call_command("demo_data")
    empty = Stage.objects.exclude(pk__in=Deal.objects.values("stage")).values_list("pipeline__name", "name")
    assert not empty.exists(), list(empty)
    for deal in Deal.objects.select_related("company", "responsible"):
        assert deal.company, deal.title
        assert deal.title.split(" — ")[0] == short_name(deal.company.name), deal.title
        assert deal.responsible == deal.company.responsible, deal.title


def test_some_demo_deals_come_from_converted_leads_with_their_pinned_comments(db):
    call_command("demo_data")
    converted = Lead.objects.filter(status=Status.CONVERTED)
    assert converted.count() >= 3
    pipelines = set()
    for lead in converted:
        deal = Deal.objects.select_related("pipeline", "company").get(lead=lead)
        pipelines.add(deal.pipeline.name)
        assert deal.title == lead.title and deal.company.name == lead.company_name == lead.company.name
        assert lead.contact and lead.contact.last_name == lead.contact_last_name
        assert lead.contact in deal.contacts.all()
        pinned = timeline.pinned(lead)
        assert pinned and short_name(lead.company_name) in pinned.text
        assert timeline.entries(lead).filter(kind="status").count() == 5  # four moves, then «Успешный»
    assert len(pipelines) == 3
    # Conversion was not the end of them: some have moved on in their pipelines since.
    moved = [d for d in Deal.objects.filter(lead__in=converted) if timeline.entries(d).filter(kind="status").exists()]
    assert len(moved) >= 2


def test_a_new_user_typing_the_seed_lead_meets_the_duplicate_warning_and_can_save_anyway(client, db):
    call_command("demo_data")
    ivanov = User.objects.get(username="ivanov")
    client.force_login(ivanov)
    payload = create_payload(responsible=ivanov.pk)
    page = client.post(reverse("leads:create"), payload).content.decode()
    assert "Возможные дубликаты" in page and "Тест Решение" in page and "Сохранить всё равно" in page
    assert Lead.objects.filter(title="Тест Решение").count() == 1
    response = client.post(reverse("leads:create"), {**payload, "save_anyway": "1"})
    assert response.status_code == 302
    assert Lead.objects.filter(title="Тест Решение").count() == 2


def test_my_day_tells_the_story_on_the_first_login(client, db):
    """Each demo manager's «Мой день» has something overdue, something today, a meeting and a
    record with nothing planned; the head has given tasks (one with a checklist, one waiting for
    his control) and sees his department by manager."""
    from tasks_app.models import Status as TaskStatus
    from tasks_app.models import Task
    from tasks_app.selectors_day import person_day

    call_command("demo_data")
    tasks = Task.objects.count()
    call_command("demo_data")
    assert Task.objects.count() == tasks
    for login in ("ivanov", "petrova", "sidorov"):
        manager = User.objects.get(username=login)
        day = person_day(manager, manager)
        assert day.overdue and day.today and day.meetings, login
        calls = [t for t in day.overdue + day.today if t.kind == "call"]
        assert calls and all(t.records for t in calls), login  # touches open their lead or deal
        assert day.unplanned_total, login
        assert Task.objects.filter(responsible=manager, status=TaskStatus.PENDING,
                                   deadline__gt=day.today[-1].deadline).exists(), login  # upcoming ones too
    head = User.objects.get(username="head")
    given = Task.objects.filter(creator=head).exclude(responsible=head)
    assert given.filter(checklist__isnull=False).distinct().count() == 1
    assert given.filter(status=TaskStatus.AWAITING_CONTROL).count() == 1
    client.force_login(User.objects.get(username="ivanov"))
    assert client.get(reverse("home")).url == reverse("tasks:day")
    page = client.get(reverse("tasks:day")).content.decode()
    assert "Перезвонить: обещали ответ по КП" in page and "Встреча: демонстрация портала" in page
    # A completed call left its result on the record's timeline.
    lead_or_deal = Task.objects.get(responsible__username="ivanov", status=TaskStatus.COMPLETED, kind="call")
    assert lead_or_deal.result.startswith("Секретарь соединила")
    client.force_login(head)
    team = client.get(reverse("tasks:day"), {"view": "team"}).content.decode()
    assert "Иванов Пётр" in team and "Сидоров Алексей" in team
