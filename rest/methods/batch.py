"""`batch`: up to 50 commands `{"cmd": {key: "method?query"}, "halt": 0|1}` in one request, as
Bitrix24 runs them: in order, each as its own call (its own transaction — `batch` itself opens
none —: a failed command leaves nothing half-saved, the others stand), `halt` stops at the first error, and a command may use an
earlier one's result — `$result[key][path…]`, URL-encoded or not (b24pysdk's as_list_fast sends
`filter[%3EID]=%24result%5B1%5D%5B49%5D%5BID%5D`). A reference to nothing is that command's error.

The answer: result / result_error / result_total / result_next / result_time, each keyed by the
commands' keys, each written as PHP writes an array (keys 0…n-1 → a JSON list, none → `[]`)."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qsl

from ..dispatch import execute, time_block
from ..lists import read_ahead
from ..parsing import MAX_FIELDS, as_list, nest
from ..registry import Call, Page, RestError, find, method

MAX_COMMANDS = 50
_REFERENCE = re.compile(r"\$result((?:\[[^\[\]]*\])+)")
_PART = re.compile(r"\[([^\[\]]*)\]")


class _Broken(Exception):
    pass


@method("batch", scope=None, atomic=False)
def batch(call: Call) -> dict:
    commands = call.param("cmd")
    if isinstance(commands, list):
        commands = {str(i): c for i, c in enumerate(commands)}
    if not isinstance(commands, dict) or not commands:
        raise RestError.invalid("Parameter cmd is not defined or is not an object", "INVALID_ARG_VALUE")
    if len(commands) > MAX_COMMANDS:
        raise RestError("ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded", 400)
    parsed = {}
    for key, command in commands.items():
        if not isinstance(command, str):
            raise RestError.invalid(f"Command {key} is not a string", "INVALID_ARG_VALUE")
        name, _, query = command.partition("?")
        if name.strip().lower().removesuffix(".json") == "batch":
            raise RestError("ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage", 405)
        parsed[str(key)] = (name.strip(), query)
    halt = str(call.param("halt", default="0")).strip().lower() in ("1", "true", "y", "yes")

    results: dict[str, Any] = {}
    errors: dict[str, dict] = {}
    totals: dict[str, int] = {}
    nexts: dict[str, int] = {}
    times: dict[str, dict] = {}
    with read_ahead() as ahead:
        for index, (key, (name, query)) in enumerate(parsed.items()):
            started = time.time()
            ahead.following = len(parsed) - index - 1
            try:
                params = _params(query, results)
                found = find(name)
                if found is None:  # checked here so that an unknown method is that command's error
                    raise RestError("ERROR_METHOD_NOT_FOUND", "Method not found!", 404)
                if found.atomic:
                    ahead.pages.clear()  # a command that may write: the pages read ahead may be stale
                value = execute(call.webhook, name, params, call.request)
            except RestError as error:
                errors[key] = error.as_json()
                times[key] = time_block(started, time.time())
                if halt:
                    break
                continue
            if isinstance(value, Page):
                results[key] = value.rows
                if value.total is not None:
                    totals[key] = value.total
                if value.next is not None:
                    nexts[key] = value.next
            else:
                results[key] = value
            times[key] = time_block(started, time.time())
    return {"result": php_array(results), "result_error": php_array(errors), "result_total": php_array(totals),
            "result_next": php_array(nexts), "result_time": php_array(times)}


def php_array(mapping: dict) -> dict | list:
    """Keys "0", "1"… in order are a list in PHP's JSON; an empty array is `[]` (rest.dispatch.php)."""
    if list(mapping) == [str(i) for i in range(len(mapping))]:
        return list(mapping.values())
    return mapping


def _params(query: str, results: dict) -> dict:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise RestError.invalid(f"Too many parameters (at most {MAX_FIELDS})", "INVALID_ARG_VALUE") from None
    try:
        return nest([(_text(_substitute(k, results)), _substitute(v, results)) for k, v in pairs])
    except _Broken as broken:
        raise RestError.invalid(f"Wrong reference {broken}: no such result", "INVALID_ARG_VALUE") from None


def _substitute(text: str, results: dict):
    """`$result[key][path]` → the value there; a value that is one whole reference takes the
    referred value as it is (a list stays a list), inside a longer text it is written in."""
    if "$result" not in text:
        return text
    whole = _REFERENCE.fullmatch(text)
    if whole:
        return _lookup(whole.group(1), results)
    return _REFERENCE.sub(lambda m: _text(_lookup(m.group(1), results)), text)


def _lookup(path: str, results: dict):
    node: Any = results
    for part in _PART.findall(path):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise _Broken(f"$result{path}")
    return node


def _text(value) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, (dict, list)):
        return ",".join(_text(v) for v in as_list(value))
    return "" if value is None else str(value)
