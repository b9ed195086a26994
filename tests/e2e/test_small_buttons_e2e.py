"""Buttons no other browser test clicked: «Заполнить по ИНН» (against a local server that answers
as DaData's findById/party does, with its documented example), «Сбросить» on a board's filter bar,
and the admin's way back to the CRM."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.demo import grant_supervisors
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PARTY = (Path(__file__).parent.parent / "crm" / "fixtures" / "dadata" / "party_legal_7707083893.json").read_bytes()


@pytest.fixture
def dadata(settings):
    """A DaData stand-in on loopback: answers every findById/party with the documented example and
    keeps what it was asked."""
    asked = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            asked.append((self.headers.get("Authorization"), json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(PARTY)))
            self.end_headers()
            self.wfile.write(PARTY)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.DADATA_API_KEY = "test-key"
    settings.DADATA_URL = f"http://127.0.0.1:{server.server_port}/findById/party"
    yield asked
    server.shutdown()
    server.server_close()


def test_a_manager_fills_the_requisites_of_a_new_company_by_its_inn(live_server, page, login, owner, dadata):
    login(owner)
    page.goto(f"{live_server.url}/clients/companies/new/")
    page.get_by_label("ИНН").fill("7707083893")
    page.get_by_test_id("requisites-lookup").click()
    expect(page.get_by_label("КПП")).to_have_value("773601001")
    expect(page.get_by_label("ОГРН")).to_have_value("1027700132195")
    expect(page.get_by_label("Полное наименование")).to_have_value("ПУБЛИЧНОЕ АКЦИОНЕРНОЕ ОБЩЕСТВО \"СБЕРБАНК РОССИИ\"")
    assert dadata == [("Token test-key", {"query": "7707083893", "count": 1, "branch_type": "MAIN"})]


def test_the_reset_button_clears_the_lead_board_filter(live_server, page, login, owner):
    LeadFactory(responsible=owner, title="Лид про окна")
    LeadFactory(responsible=owner, title="Лид про двери")
    login(owner)
    page.goto(f"{live_server.url}/leads/kanban/?q=окна")
    cards = page.get_by_test_id("kanban-card")
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Лид про окна")
    page.get_by_test_id("kanban-filter-reset").click()
    expect(cards).to_have_count(2)
    expect(cards.filter(has_text="Лид про двери")).to_have_count(1)
    assert "q=" not in page.url

def test_the_head_goes_back_from_the_admin_to_the_crm(live_server, page, login, head):
    grant_supervisors({"head": head})
    login(head)
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Вернуться в CRM").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()
    assert "/admin/" not in page.url
