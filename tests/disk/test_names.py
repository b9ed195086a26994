"""Hostile and awkward names: what the disk refuses, what it tidies, how it numbers duplicates."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from disk import names


@pytest.mark.parametrize("hostile", [
    "../../etc/passwd", "..\\..\\boot.ini", "a/b.txt", "C:\\x.txt", "what?.txt", "<script>.html", 'a"b.txt',
    "line\nbreak.txt", "nul\x00byte.txt", "tab\there.txt", "отчёт\u202efdp.exe", "\u200b",
    "CON", "con.txt", "Lpt1.docx", "COM9", "..", ".", "   ", "", "x" * 256,
])
def test_it_refuses_a_hostile_name(hostile):
    with pytest.raises(ValidationError):
        names.clean(hostile)


@pytest.mark.parametrize(("given", "stored"), [
    ("  Договор.docx  ", "Договор.docx"),
    ("Договор.", "Договор"),
    (".env", ".env"),
    ("Смета v1.2 (итог).xlsx", "Смета v1.2 (итог).xlsx"),
    ("CONSOLE.txt", "CONSOLE.txt"),
    ("и\u0306", "й"),  # the decomposed «й» of a Mac is stored as one letter
    ("x" * 255, "x" * 255),
])
def test_it_keeps_a_fair_name_tidied(given, stored):
    assert names.clean(given) == stored


def test_it_explains_the_refusal_in_russian():
    with pytest.raises(ValidationError) as refused:
        names.clean("a:b*.txt")
    assert refused.value.messages == ["В названии нельзя использовать символы * :"]
    with pytest.raises(ValidationError) as refused:
        names.clean("AUX.pdf")
    assert "зарезервированное имя Windows" in refused.value.messages[0]


def test_it_numbers_duplicates_as_bitrix24_does():
    assert names.free("Договор.docx", []) == "Договор.docx"
    assert names.free("Договор.docx", ["договор.DOCX"]) == "Договор (1).docx"
    assert names.free("Договор.docx", ["Договор.docx", "Договор (1).docx"]) == "Договор (2).docx"
    # A copy of a copy is numbered from the original, not «Договор (1) (1).docx».
    assert names.free("Договор (1).docx", ["Договор.docx", "Договор (1).docx"]) == "Договор (2).docx"
    assert names.free("Папка", ["Папка"]) == "Папка (1)"
    assert names.free(".env", [".env"]) == ".env (1)"
    long = "x" * 250 + ".docx"
    assert len(names.free(long, [long])) <= names.MAX_LENGTH
