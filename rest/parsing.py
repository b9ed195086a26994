"""Parameters as Bitrix24's clients send them: a GET query, a form (urlencoded or multipart) in PHP's
nested style — `fields[PHONE][0][VALUE]=…`, `select[]=ID` — or a JSON body. The nested style
becomes dicts (`{"fields": {"PHONE": {"0": {"VALUE": …}}}}`): keys stay strings, since `batch`'s
`cmd` keys are names the client chose; `as_list` reads a dict keyed 0, 1, 2… as the list it was."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from .registry import RestError

MAX_DEPTH = 16  # PHP's own max_input_nesting_level is 64; nothing Bitrix24 takes nests past 5
MAX_FIELDS = 5000  # parameters in one query or command (a batch of 50 adds of 50 fields each fits)

_KEY = re.compile(r"^([^\[\]]*)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def parse_query(text: str) -> dict:
    """A urlencoded query (`a[b][0]=1&c=2`) as nested dicts; a malformed one is RestError."""
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise RestError.invalid(f"Too many parameters (at most {MAX_FIELDS})", "INVALID_ARG_VALUE") from None
    return nest(pairs)


def nest(pairs) -> dict:
    """PHP's rules: `a[b][c]=v` sets a→b→c; `a[]=v` appends (the next free integer key); a later
    value of the same key wins; a name that is not bracketed right is taken whole."""
    result: dict = {}
    for name, value in pairs:
        match = _KEY.match(name)
        if not match or not match.group(1):
            result[name] = value
            continue
        keys = [match.group(1), *_PART.findall(match.group(2))]
        if len(keys) > MAX_DEPTH:
            raise RestError.invalid(f"Parameter {keys[0]} is nested too deep", "INVALID_ARG_VALUE")
        node = result
        for i, key in enumerate(keys):
            last = i == len(keys) - 1
            if key == "":
                key = str(sum(1 for k in node if str(k).isdigit()))
            if last:
                node[key] = value
            else:
                child = node.get(key)
                if not isinstance(child, dict):
                    child = node[key] = {}
                node = child
    return result


def as_list(value) -> list:
    """A list parameter however it came: a JSON list, a PHP array (a dict keyed "0", "1"…, in key
    order), a single value (a list of one), nothing (an empty list)."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        keys = list(value)
        if all(str(k).lstrip("-").isdigit() for k in keys):
            keys.sort(key=lambda k: int(k))
        return [value[k] for k in keys]
    return [value]


def check_depth(value, depth: int = 0) -> None:
    """A JSON body nested past MAX_DEPTH is refused (the same limit as a form's)."""
    if depth > MAX_DEPTH:
        raise RestError.invalid("Parameters are nested too deep", "INVALID_ARG_VALUE")
    if isinstance(value, dict):
        for v in value.values():
            check_depth(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            check_depth(v, depth + 1)
