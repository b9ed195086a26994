"""The issue's browser test (issue 11, «Диск»): a manager drops a КП on a deal's card and sees its
progress finish and the file listed; the head of sales, who reaches the deal, downloads it with its
Cyrillic name intact; the manager makes a public link in the panel, a browser with no login
downloads the file by it, and once the manager revokes the link it answers 404."""

import pytest
from playwright.sync_api import expect

from disk.models import Attachment
from tests.factories import DealFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

KP = "КП для Ромашки.pdf"
PDF = "%PDF-1.4\n% Коммерческое предложение для ООО «Ромашка»\n%%EOF\n"

DROP = """([name, body]) => {
  // What a file dragged from the desktop brings: a DataTransfer with one File, dropped on the zone.
  const zone = document.querySelector("[data-disk-drop]");
  const data = new DataTransfer();
  data.items.add(new File([body], name, {type: "application/pdf"}));
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
  }
}"""


@pytest.fixture(autouse=True)
def disk_store(settings, tmp_path):
    """A private folder as the disk's store (never the developer's files)."""
    settings.STORAGES = {**settings.STORAGES, "disk": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "disk"), "base_url": None}}}
    settings.DISK_X_ACCEL_REDIRECT = ""


def test_a_kp_dropped_on_a_deal_card_is_downloaded_by_a_colleague_and_by_a_public_link_until_revoked(
        live_server, page, browser, login, owner, head):
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.on("dialog", lambda dialog: dialog.accept())  # «Отозвать ссылку?»
    deal = DealFactory(title="Ромашка: внедрение CRM", responsible=owner)
    card = f"{live_server.url}{deal.get_absolute_url()}"

    # The manager drops the КП on the deal's «Документы».
    login(owner)
    page.goto(card)
    panel = page.get_by_test_id("attachments-panel")
    expect(panel).to_contain_text("Документы")
    expect(panel.get_by_test_id("attachments-none")).to_be_visible()
    page.evaluate(DROP, [KP, PDF])
    progress = panel.get_by_test_id("disk-upload")
    expect(progress).to_have_count(1)
    expect(progress).to_have_attribute("data-state", "done")
    expect(progress).to_contain_text("Загружено")
    listed = panel.get_by_test_id("attachment")
    expect(listed).to_have_count(1)  # the list refreshed itself on disk:uploaded
    expect(listed.get_by_test_id("attachment-download")).to_have_text(KP)
    attachment = Attachment.objects.get()
    assert attachment.file.name == KP and attachment.created_by == owner

    # The head of sales reaches his manager's deal and downloads the КП under its own name.
    login(head)
    page.goto(card)
    link = page.get_by_test_id("attachments-panel").get_by_test_id("attachment-download")
    expect(link).to_have_text(KP)
    with page.expect_download() as caught:
        link.click()
    download = caught.value
    assert download.suggested_filename == KP
    with open(download.path(), encoding="utf-8") as saved:
        assert saved.read() == PDF

    # The manager makes a public link for the client.
    login(owner)
    page.goto(card)
    panel = page.get_by_test_id("attachments-panel")
    panel.get_by_test_id("attachment-link-create").click()
    url_field = panel.get_by_test_id("attachment-link-url")
    panel.get_by_test_id("attachment-link-copy").click()
    expect(panel.get_by_test_id("attachment-link-copy")).to_have_text("Скопировано")
    expect(url_field).to_be_visible()
    public_url = url_field.input_value()
    assert public_url.startswith(f"{live_server.url}/disk/s/")

    # A browser with no login (the client) downloads it by the link.
    client = browser.new_context()
    try:
        answer = client.request.get(public_url, max_redirects=0)
        assert answer.status == 200
        assert answer.body().decode("utf-8") == PDF
        assert "filename*=UTF-8''%D0%9A%D0%9F%20%D0%B4%D0%BB%D1%8F" in answer.headers["content-disposition"]

        # The manager revokes it: the link now answers 404.
        panel.get_by_test_id("attachment-link-revoke").click()
        expect(panel.get_by_test_id("attachment-link-url")).to_have_count(0)
        expect(panel.get_by_test_id("attachment-link-create")).to_be_visible()
        assert client.request.get(public_url, max_redirects=0).status == 404
    finally:
        client.close()
    assert not problems, problems
