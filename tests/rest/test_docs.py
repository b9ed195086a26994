"""docs/rest.md is the API's documentation: every method the API answers has its section there,
and the page names no method the API does not answer."""

import re
from pathlib import Path

import rest.methods  # noqa: F401 — registers every method
from rest import registry

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rest.md"


def documented() -> set[str]:
    # A method's section: «#### `crm.lead.add`» (and «## batch»).
    headings = re.findall(r"^#{2,4} `?([a-z][a-z0-9_.]*)`?\s*$", DOCS.read_text(encoding="utf-8"), re.MULTILINE)
    return {name.lower() for name in headings}


def test_every_method_the_api_answers_is_documented():
    missing = sorted(m.name for m in registry.all_methods() if m.name not in documented())
    assert missing == []


def test_the_documentation_names_only_methods_that_exist():
    answered = {m.name for m in registry.all_methods()}
    assert sorted(documented() - answered) == []
