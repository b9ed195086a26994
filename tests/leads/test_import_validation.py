"""An import's batch (`leads_import`) checks only the fields a row sets, the others holding their
defaults: it must still refuse every value `lead_create` refuses, with the same words."""

import pytest

from leads import services
from leads.models import Lead


@pytest.mark.django_db
@pytest.mark.parametrize("data", [
    {"title": "", "company_name": "ООО «Ромашка»"},                     # a default that is not valid
    {"title": "Лид", "company_email": "не e-mail"},
    {"title": "Лид", "inn": "7707083894"},
    {"title": "Лид", "amount": -1},
    {"title": "Лид", "company_website": "javascript://%0aalert(4)"},
    {"title": "Лид", "contact_phone": "+7 (012) 345-67-89"},
])
def test_it_refuses_in_an_import_what_lead_create_refuses(head, data):
    with pytest.raises(services.LeadError) as refused:
        services.lead_create(data={**data, "responsible": head}, by=head)
    item = services.ImportItem(row=1, data={**data, "responsible": head})

    assert services.leads_import([item], by=head, source="leads.csv") == []
    assert item.error == str(refused.value)
    assert not Lead.objects.exists()


def test_it_checks_a_default_only_when_it_can_fail():
    assert "title" not in services._defaults_that_pass()  # blank=False, default '': always checked
    assert {"company_email", "amount", "inn"} <= services._defaults_that_pass()
