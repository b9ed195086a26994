from django.core.management import call_command

from accounts.models import Department, User
from leads.models import Lead, Status


def test_demo_data_is_idempotent_and_covers_every_status_in_process(db, capsys):
    call_command("demo_data")
    counts = (User.objects.count(), Department.objects.count(), Lead.objects.count())
    call_command("demo_data")
    assert (User.objects.count(), Department.objects.count(), Lead.objects.count()) == counts
    out = capsys.readouterr().out
    assert "ivanov" in out and "пароль у всех: demo" in out
    assert set(Lead.objects.values_list("status", flat=True)) >= {
        Status.NEW, Status.FIRST_CALL, Status.QUALIFICATION, Status.RECONNAISSANCE, Status.DECISION_MAKER, Status.JUNK}
    seed_lead = Lead.objects.get(title="Тест Решение")
    assert seed_lead.company_phone == "+78800000000" and seed_lead.contact_last_name == "Лактионова"
    head = User.objects.get(username="head")
    assert head.is_staff and head.has_perm("leads.view_lead") and head.has_perm("leads.add_requirement")
