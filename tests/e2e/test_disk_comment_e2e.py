"""Files on comments (issue 11): a manager writes a comment on a deal's card, attaches a КП with
«Прикрепить файлы» and drops the company's requisites onto the form, sends it; the comment lists
both files, the card's «Документы» refresh with them, and the head of sales, who reaches the deal,
downloads the КП from the comment under its Cyrillic name."""

import pytest
from playwright.sync_api import expect

from crm.models import TimelineEntry
from disk.models import Attachment
from tests.factories import DealFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

KP = "КП для Ромашки.pdf"
PDF = "%PDF-1.4\n% Коммерческое предложение для ООО «Ромашка»\n%%EOF\n"
REQUISITES = "Реквизиты Ромашки.txt"

DROP_ON_FORM = """([name, body]) => {
  // A file dragged from the desktop onto the comment form.
  const form = document.querySelector(".crm-comment-form");
  const data = new DataTransfer();
  data.items.add(new File([body], name, {type: "text/plain"}));
  for (const type of ["dragenter", "dragover", "drop"]) {
    form.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
  }
}"""


@pytest.fixture(autouse=True)
def disk_store(settings, tmp_path):
    """A private folder as the disk's store (never the developer's files)."""
    settings.STORAGES = {**settings.STORAGES, "disk": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "disk"), "base_url": None}}}
    settings.DISK_X_ACCEL_REDIRECT = ""


def test_a_manager_attaches_files_to_a_comment_and_the_head_downloads_one(live_server, page, login, owner, head,
                                                                         tmp_path):
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    deal = DealFactory(title="Ромашка: внедрение CRM", responsible=owner)
    card = f"{live_server.url}{deal.get_absolute_url()}"
    offer = tmp_path / KP
    offer.write_text(PDF, encoding="utf-8")

    login(owner)
    page.goto(card)
    timeline = page.get_by_test_id("timeline")
    timeline.get_by_label("Комментарий").fill("Отправил КП, реквизиты приложил")
    with page.expect_file_chooser() as chooser:
        timeline.get_by_test_id("comment-attach").click()
    chooser.value.set_files(str(offer))
    expect(timeline.get_by_test_id("comment-files-chosen")).to_have_text(KP)
    page.evaluate(DROP_ON_FORM, [REQUISITES, "ИНН 7701234567"])
    expect(timeline.get_by_test_id("comment-files-chosen")).to_have_text(f"{KP}, {REQUISITES}")
    timeline.get_by_test_id("comment-send").click()

    entry = timeline.locator("li.crm-entry-comment")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Отправил КП, реквизиты приложил")
    expect(entry.get_by_test_id("comment-file-download")).to_have_text([KP, REQUISITES])
    expect(timeline.get_by_label("Комментарий")).to_have_value("")  # the form is fresh for the next one
    # The card's «Документы» refreshed with the comment's files.
    expect(page.get_by_test_id("attachments-panel").get_by_test_id("attachment-download")).to_have_count(2)
    comment = TimelineEntry.objects.get(kind="comment")
    assert Attachment.objects.filter(object_id=comment.pk, content_type__model="timelineentry").count() == 2

    login(head)
    page.goto(card)
    link = page.get_by_test_id("timeline").get_by_test_id("comment-file-download").filter(has_text=KP)
    with page.expect_download() as caught:
        link.click()
    download = caught.value
    assert download.suggested_filename == KP
    with open(download.path(), encoding="utf-8") as saved:
        assert saved.read() == PDF
    assert not problems, problems
