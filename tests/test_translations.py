"""The English catalog: complete, not fuzzy, placeholders kept, the committed .mo matches the .po,
and a real page renders in English."""

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import UserFactory

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"

# %(name)s / %(n)d style and str.format style ({name}, {0}); "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|\{\w*(?:[.:!][^{}]*)?\}")


@dataclass
class Entry:
    line: int
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # 0 for a plain entry, n for msgstr[n]
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> str:
        # How GNU gettext (and Python's gettext) stores a context: "ctxt\x04msgid".
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


def _unquote(text: str) -> str:
    return ast.literal_eval(text)  # a PO string is a C-style double-quoted string


def parse_po(path: Path) -> list[Entry]:
    """A minimal PO parser: flags, msgctxt, msgid, msgid_plural, msgstr / msgstr[n] and continuation
    lines. Obsolete (#~) entries are skipped: they do not reach the .mo."""
    entries: list[Entry] = []
    entry: Entry | None = None
    flags: set[str] = set()
    target: tuple[str, int] = ("", 0)
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            assert entry is not None, f"{path.name}:{lineno}: a string outside an entry"
        else:
            keyword, _sep, line = line.partition(" ")
            if keyword in ("msgctxt", "msgid") and (entry is None or entry.msgstr):
                entry = Entry(line=lineno, flags=flags)
                entries.append(entry)
                flags = set()
            assert entry is not None, f"{path.name}:{lineno}: {keyword} outside an entry"
            plural = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if plural:
                target = ("msgstr", int(plural.group(1)))
            elif keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr"):
                target = (keyword, 0)
            else:
                raise AssertionError(f"{path.name}:{lineno}: unexpected line {raw!r}")
        value = _unquote(line)
        name, index = target
        if name == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + value
        elif name == "msgid":
            entry.msgid += value
        else:  # msgctxt, msgid_plural
            setattr(entry, name, (getattr(entry, name) or "") + value)
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    parsed = parse_po(PO)
    header = [e for e in parsed if e.msgid == "" and e.msgctxt is None]
    assert len(header) == 1, "the catalog must have exactly one header entry"
    return [e for e in parsed if e is not header[0]]


def _where(entry: Entry) -> str:
    return f"{PO.name}:{entry.line}: {entry.msgid!r}"


def test_the_catalog_is_not_empty(entries):
    assert len(entries) > 100
    assert len({e.key for e in entries}) == len(entries), "duplicate msgids in the catalog"


def test_every_entry_is_translated_and_not_fuzzy(entries):
    fuzzy = [_where(e) for e in entries if "fuzzy" in e.flags]
    empty = [_where(e) for e in entries if not e.msgstr or any(not s.strip() for s in e.msgstr.values())]
    assert not fuzzy, "fuzzy entries (check the translation, then remove the flag):\n" + "\n".join(fuzzy)
    assert not empty, "untranslated entries:\n" + "\n".join(empty)


def test_placeholders_are_kept(entries):
    wrong = []
    for e in entries:
        for index, msgstr in e.msgstr.items():
            source = e.msgid_plural if (index and e.msgid_plural is not None) else e.msgid
            expected = sorted(PLACEHOLDER.findall(source))
            got = sorted(PLACEHOLDER.findall(msgstr))
            if set(expected) != set(got):
                wrong.append(f"{_where(e)} -> {msgstr!r}: expected {expected}, got {got}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_the_compiled_mo_matches_the_po(entries):
    """A .po edited without `manage.py compilemessages -l en` leaves a stale .mo: this fails then."""
    with MO.open("rb") as fp:
        catalog = gettext.GNUTranslations(fp)._catalog
    stale = []
    for e in entries:
        if e.msgid_plural is None:
            if catalog.get(e.key) != e.msgstr[0]:
                stale.append(f"{_where(e)}: .mo has {catalog.get(e.key)!r}, .po has {e.msgstr[0]!r}")
        else:
            for index, msgstr in e.msgstr.items():
                if catalog.get((e.key, index)) != msgstr:
                    stale.append(f"{_where(e)}[{index}]: .mo has {catalog.get((e.key, index))!r}")
    po_keys = {e.key for e in entries}
    extra = sorted(k for k in catalog if k != "" and (k[0] if isinstance(k, tuple) else k) not in po_keys)
    assert not stale, "django.mo is out of date, run `manage.py compilemessages -l en`:\n" + "\n".join(stale)
    assert not extra, f"django.mo has entries the .po no longer has (recompile): {extra}"


def _menu(html: str) -> str:
    match = re.search(r'<ul[^>]*data-testid="menu"[^>]*>(.*?)</ul>', html, re.S)
    assert match, "the left menu is missing"
    return match.group(1)


@pytest.fixture
def english_client(client, org):
    # A manager of «Группа продаж 1», like the `owner` persona: sees the leads menu item.
    user = UserFactory(department=org["group1"], role="Менеджер")
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client  # tests/conftest.py puts the thread back into Russian after the test


def test_the_leads_list_renders_in_english(english_client):
    response = english_client.get("/leads/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="en"' in html
    menu = _menu(html)
    assert "Leads" in menu and "Лиды" not in menu
    assert "Лиды" not in html
    for text in ("Create lead", "Kanban", "Filters", "My profile", "Log out", "“Reshenie” CRM"):
        assert text in html, text
    for text in ("Создать лид", "Фильтры", "Мой профиль", "Выйти"):
        assert text not in html, text


def test_the_profile_renders_in_english(english_client):
    response = english_client.get("/profile/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="en"' in html
    assert "My profile" in html and "Мой профиль" not in html
    menu = _menu(html)
    assert "Leads" in menu and "Лиды" not in menu
