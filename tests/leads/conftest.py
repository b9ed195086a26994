import pytest

from crm import timeline
from leads.models import Status
from tests.factories import LeadFactory, ref


def qualification_data():
    return {"niche": ref("Niche"), "crm_system": ref("CrmSystem", "Битрикс24 (облако)"),
            "client_type": ref("ClientType", "Розничные магазины")}


def decision_maker_data():
    return {"sales_channel": ref("SalesChannel"), "employees_count": 25,
            "contact_last_name": "Лактионова", "contact_first_name": "Анна", "contact_phone": "+79522666348",
            "talked_to_decision_maker": True, "usp_acknowledged": True,
            "next_touch": "Бесплатный аудит портала в четверг", "training_info": "Тренингов нет"}


def decision_maker_m2m():
    return {"products_to_sell": [ref("Product", "Тренинги")], "used_products": [ref("UsedProduct", "Ничем не пользовалась")]}


@pytest.fixture
def lead(owner):
    return LeadFactory(title="Тест Решение", company_name='Тест "Решение"', company_phone="+78800000000",
                       responsible=owner)


@pytest.fixture
def ready_lead(lead, owner):
    """A lead with everything «Выход на ЛПР» needs, still in «Не обработан»."""
    from leads import services

    lead = services.lead_update(lead, data={**qualification_data(), **decision_maker_data()}, m2m=decision_maker_m2m(),
                                by=owner, version=lead.version)
    timeline.add_comment(lead, owner, "Разведка: 12 магазинов, Битрикс24 не внедрён", pin_it=True)
    assert lead.status == Status.NEW
    return lead
