"""Pull every JSON object or array out of an LLM answer that is only roughly JSON.

Why by hand: answers wrap JSON in prose and code fences, emit several objects one after
another, leave trailing commas, use typographic or single quotes. Repair libraries guess
far more aggressively (inventing keys or closing brackets), which would hide a truncated
answer; here only those few well-understood slips are repaired, and anything else stays
an error that names what was found. Duplicate keys are reported, not silently dropped.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_SMART = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})


class DuplicateKeys(dict):
    """A dict that remembers keys given twice (json's object_pairs_hook keeps only the last)."""

    duplicates: list[str]

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.duplicates = []
        for key, value in pairs:
            if key in self:
                self.duplicates.append(key)
            self[key] = value


def _decode(text: str) -> tuple[Any, int] | None:
    """Decode the value at the start of ``text``: strict, then trailing commas, then Python literal."""
    decoder = json.JSONDecoder(object_pairs_hook=DuplicateKeys)
    try:
        return decoder.raw_decode(text)
    except json.JSONDecodeError:
        pass
    end = _matching_close(text)
    if end is None:
        return None
    chunk = text[:end]
    for candidate in (_TRAILING_COMMA.sub(r"\1", chunk), _TRAILING_COMMA.sub(r"\1", chunk.translate(_SMART))):
        try:
            return decoder.decode(candidate), end
        except json.JSONDecodeError:
            pass
    try:  # single-quoted keys/strings, True/None: a Python literal
        return ast.literal_eval(_TRAILING_COMMA.sub(r"\1", chunk.translate(_SMART))), end
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def _matching_close(text: str) -> int | None:
    """Index after the bracket closing ``text[0]``, skipping quoted strings; None if unbalanced."""
    depth, quote, escape = 0, None, False
    for i, ch in enumerate(text):
        if quote:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == quote:
                quote = None
        elif ch in "\"'“”":
            quote = '"' if ch in "“”" else ch
            if ch == "“":
                quote = "”"
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def json_values(text: str) -> list[Any]:
    """Every top-level JSON object/array in ``text``, in order (nested ones belong to their parent)."""
    values, i = [], 0
    text = text or ""
    while i < len(text):
        if text[i] in "{[":
            decoded = _decode(text[i:])
            if decoded is not None:
                value, length = decoded
                values.append(value)
                i += max(length, 1)
                continue
        i += 1
    return values
