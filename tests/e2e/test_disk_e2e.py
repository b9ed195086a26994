"""«Диск» in a real browser: a manager uploads by the button and by dropping files on the page
(a progress bar each), makes a folder, renames, moves, deletes and restores from «Корзина», makes
an earlier version current, shares a file with a colleague — who finds it under «Доступные мне» —
and switches to tiles."""

import re

import pytest
from playwright.sync_api import expect

from disk.models import File

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def disk_store(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "disk": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "disk"), "base_url": None}}}
    settings.DISK_X_ACCEL_REDIRECT = ""


def drop_files(page, files: dict[str, str]):
    """What a file manager's drag does: a `drop` carrying the files on the page's drop zone."""
    page.evaluate("""(files) => {
        const data = new DataTransfer();
        for (const [name, text] of Object.entries(files)) data.items.add(new File([text], name, {type: "text/plain"}));
        const zone = document.querySelector("[data-disk-drop]");
        for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: data}));
        }
    }""", files)


def item(page, name):
    return page.get_by_test_id("disk-list").locator(f'[data-testid="disk-item"][data-name="{name}"]')


def action(page, name, label):
    row = item(page, name)
    row.get_by_test_id("disk-item-menu").click()
    row.get_by_role("link", name=label, exact=True).click()


def test_a_manager_keeps_files_on_the_disk_and_shares_one(live_server, page, login, owner, teammate):
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    login(owner)
    page.get_by_test_id("menu").get_by_role("link", name="Диск").click()
    expect(page.get_by_test_id("disk-crumbs")).to_contain_text("Мой диск")

    # By the button: two files at once, each with its finished progress bar.
    page.get_by_test_id("disk-upload-input").set_input_files([
        {"name": "КП Ромашка.txt", "mimeType": "text/plain", "buffer": "Коммерческое предложение v1".encode()},
        {"name": "Прайс.txt", "mimeType": "text/plain", "buffer": b"price"},
    ])
    expect(page.locator('[data-testid="disk-upload"][data-state="done"]')).to_have_count(2)
    expect(item(page, "КП Ромашка.txt")).to_be_visible()
    expect(item(page, "Прайс.txt")).to_be_visible()

    # By a drop: one new file, and one of the same name — a new version, not a second file.
    drop_files(page, {"Счёт №5.txt": "invoice", "КП Ромашка.txt": "Коммерческое предложение v2"})
    expect(page.locator('[data-testid="disk-upload"][data-state="done"]')).to_have_count(4)
    expect(item(page, "Счёт №5.txt")).to_be_visible()
    expect(page.get_by_test_id("disk-list").get_by_test_id("disk-item")).to_have_count(3)
    assert File.objects.get(name="КП Ромашка.txt").versions.count() == 2

    # A new folder.
    page.get_by_role("button", name="Новая папка").click()
    page.locator("#crm-modal").get_by_label("Название").fill("Договоры")
    page.locator("#crm-modal").get_by_role("button", name="Создать").click()
    expect(page.locator("#crm-modal")).to_be_hidden()
    expect(item(page, "Договоры")).to_be_visible()

    # Rename.
    action(page, "Прайс.txt", "Переименовать")
    page.locator("#crm-modal").get_by_label("Новое название").fill("Прайс 2026.txt")
    page.locator("#crm-modal").get_by_role("button", name="Переименовать").click()
    expect(item(page, "Прайс 2026.txt")).to_be_visible()
    expect(item(page, "Прайс.txt")).to_have_count(0)

    # Move into the folder through the picker.
    action(page, "Счёт №5.txt", "Переместить")
    page.locator("#crm-modal").get_by_test_id("disk-picker-folder").filter(has_text="Договоры").click()
    page.locator("#crm-modal").get_by_role("button", name="Переместить в «Договоры»").click()
    expect(page.locator("#crm-modal")).to_be_hidden()
    expect(item(page, "Счёт №5.txt")).to_have_count(0)
    item(page, "Договоры").get_by_role("link", name="Договоры").click()
    expect(item(page, "Счёт №5.txt")).to_be_visible()
    page.get_by_test_id("disk-crumbs").get_by_role("link", name="Мой диск").click()

    # Delete the folder, restore it from «Корзина».
    action(page, "Договоры", "Удалить")
    page.locator("#crm-modal").get_by_role("button", name="Удалить").click()
    expect(item(page, "Договоры")).to_have_count(0)
    page.get_by_test_id("disk-storages").get_by_role("link", name="Корзина").click()
    item(page, "Договоры").get_by_role("button", name="Восстановить").click()
    expect(item(page, "Договоры")).to_have_count(0)
    page.get_by_test_id("disk-storages").get_by_role("link", name="Мой диск").click()
    expect(item(page, "Договоры")).to_be_visible()

    # «Загрузить новую версию» (a third one), then the first one made current again.
    action(page, "КП Ромашка.txt", "Загрузить новую версию")
    page.get_by_test_id("disk-version-input").set_input_files(
        {"name": "кп-правки.txt", "mimeType": "text/plain", "buffer": "Коммерческое предложение v3".encode()})
    versions = page.get_by_test_id("disk-versions")
    expect(versions.get_by_test_id("disk-version")).to_have_count(3)
    expect(versions.locator('[data-number="3"]')).to_contain_text("текущая")
    versions.locator('[data-number="1"]').get_by_role("button", name="Сделать текущей").click()
    expect(versions.locator('[data-number="1"]')).to_contain_text("текущая")
    found = File.objects.get(name="КП Ромашка.txt")
    assert found.current.number == 1
    page.locator("#crm-modal").get_by_role("link", name="Закрыть").click()
    expect(page.locator("#crm-modal")).to_be_hidden()

    # Share with a colleague, to read.
    action(page, "КП Ромашка.txt", "Общий доступ")
    modal = page.locator("#crm-modal")
    modal.get_by_label("Сотрудник").select_option(label=str(teammate))
    modal.get_by_role("button", name="Открыть доступ").click()
    expect(modal.get_by_test_id("disk-shares")).to_contain_text(str(teammate))
    modal.get_by_role("link", name="Готово").click()

    # Tiles.
    page.get_by_test_id("disk-view-tiles").click()
    expect(page.get_by_test_id("disk-tiles")).to_be_visible()
    expect(page).to_have_url(re.compile(r"view=tiles"))
    assert not problems, problems

    # The colleague finds it under «Доступные мне» and downloads it.
    login(teammate)
    page.goto(f"{live_server.url}/disk/")
    page.get_by_test_id("disk-storages").get_by_role("link", name="Доступные мне").click()
    expect(item(page, "КП Ромашка.txt")).to_be_visible()
    with page.expect_download() as download:
        item(page, "КП Ромашка.txt").get_by_role("link", name="КП Ромашка.txt").click()
    assert download.value.suggested_filename == "КП Ромашка.txt"


def test_a_file_over_the_size_limit_is_refused_with_the_reason(live_server, page, login, owner, settings):
    settings.DISK_MAX_FILE_SIZE = 1024
    login(owner)
    page.goto(f"{live_server.url}/disk/")
    page.get_by_test_id("disk-upload-input").set_input_files([
        {"name": "Видео.mp4", "mimeType": "video/mp4", "buffer": b"x" * 4096},
        {"name": "Счёт.txt", "mimeType": "text/plain", "buffer": b"invoice"},
    ])
    refused = page.locator('[data-testid="disk-upload"][data-state="failed"]')
    expect(refused).to_contain_text("Файл больше 1,0\xa0КБ: такой загрузить нельзя.")
    expect(page.locator('[data-testid="disk-upload"][data-state="done"]')).to_have_count(1)
    expect(item(page, "Счёт.txt")).to_be_visible()
    assert list(File.objects.values_list("name", flat=True)) == ["Счёт.txt"]
