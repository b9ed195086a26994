"""Every GET parameter of the two boards goes through crm.boards.BoardForm: a value PostgreSQL
would refuse (a NUL character) or a tampered one never reaches the database. The board still
shows, without that filter, and says which parameter it did not take; a column fragment answers
400 with the reason. (issue 7 §3: these answered 500 on PostgreSQL.)"""

import pytest
from django.urls import reverse

from leads.models import Status
from tests.factories import COLD, DealFactory, LeadFactory, pipeline, stage

pytestmark = pytest.mark.django_db

NUL = "ab\x00cd"
NUL_MESSAGE = "ноль-байт"  # Django's Russian «Данные содержат запрещённый символ: ноль-байт»


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def records(owner):
    return {
        "lead": LeadFactory(title="Лид на доске", responsible=owner),
        "deal": DealFactory(title="Сделка на доске", responsible=owner),
    }


class TestLeadsKanban:
    def test_it_shows_the_board_without_a_search_with_a_nul_character_and_says_so(self, client, owner, records):
        client.force_login(owner)
        response = client.get(reverse("leads:kanban"), {"q": NUL})
        assert response.status_code == 200
        assert "Лид на доске" in text(response)  # the filter is ignored, not the board
        assert response.context["filters"]["q"] == ""
        assert any("Поиск" in e and NUL_MESSAGE in e for e in response.context["filters"]["errors"])
        assert 'data-testid="kanban-filter-errors"' in text(response)

    def test_it_answers_the_totals_part_despite_a_nul_character(self, client, owner, records):
        client.force_login(owner)
        response = client.get(reverse("leads:kanban"), {"q": NUL, "part": "totals"})
        assert response.status_code == 200

    def test_it_ignores_an_unknown_column_to_open_visibly(self, client, owner, records):
        client.force_login(owner)
        response = client.get(reverse("leads:kanban"), {"open": ["junk", "\x00"]})
        assert response.status_code == 200
        assert response.context["filters"]["open"] == []
        assert response.context["filters"]["errors"]

    def test_it_refuses_a_column_page_with_a_nul_character_with_a_russian_reason(self, client, owner, records):
        client.force_login(owner)
        response = client.get(reverse("leads:kanban_column", args=[Status.NEW]), {"q": NUL})
        assert response.status_code == 400
        assert NUL_MESSAGE in text(response)

    def test_it_refuses_a_tampered_cursor_in_russian(self, client, owner, records):
        client.force_login(owner)
        response = client.get(reverse("leads:kanban_column", args=[Status.NEW]), {"after": "x_1"})
        assert response.status_code == 400
        assert "Неверная позиция в колонке" in text(response)

    def test_it_still_searches_with_a_good_query(self, client, owner, records):
        LeadFactory(title="Другой лид", responsible=owner)
        client.force_login(owner)
        response = client.get(reverse("leads:kanban"), {"q": "на доске"})
        assert "Лид на доске" in text(response) and "Другой лид" not in text(response)
        assert response.context["filters"]["errors"] == []


class TestDealsBoard:
    def test_it_shows_the_board_without_a_search_with_a_nul_character_and_says_so(self, client, owner, records):
        client.force_login(owner)
        response = client.get(reverse("deals:board"), {"pipeline": pipeline(COLD).pk, "q": NUL})
        assert response.status_code == 200
        assert "Сделка на доске" in text(response)
        assert any(NUL_MESSAGE in e for e in response.context["filters"]["errors"])
        assert 'data-testid="board-filter-errors"' in text(response)

    def test_it_answers_with_a_nul_character_in_every_parameter(self, client, owner, records):
        client.force_login(owner)
        response = client.get(reverse("deals:board"), {"pipeline": pipeline(COLD).pk, "q": NUL, "mine": NUL, "open": NUL, "part": NUL,
                                                         "totals": NUL, "after": NUL})
        assert response.status_code == 200
        assert "Сделка на доске" in text(response)

    def test_it_refuses_a_column_page_with_a_nul_character_with_a_russian_reason(self, client, owner, records):
        client.force_login(owner)
        first = stage(COLD, records["deal"].current_stage.name)
        response = client.get(reverse("deals:board_column", args=[first.pk]), {"q": NUL})
        assert response.status_code == 400
        assert NUL_MESSAGE in text(response)

    def test_it_ignores_a_column_to_open_that_is_not_a_closed_stage_of_the_pipeline(self, client, owner, records):
        client.force_login(owner)
        open_stage = records["deal"].current_stage
        response = client.get(reverse("deals:board"), {"pipeline": pipeline(COLD).pk, "open": [open_stage.pk]})
        assert response.status_code == 200
        assert response.context["filters"]["open"] == []
