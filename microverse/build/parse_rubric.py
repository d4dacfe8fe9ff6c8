"""Turn a rubric draft (Appendix G answer) into criteria, flagging every value out of bounds.

The prompt asks for ``{"a1": ..., "d1": ..., "s1": "+1", "w1": "1.0"}``; models answer with
one flat object, a list of objects, a wrapper (``{"rubrics": [...]}``), numbering that
starts at 0 or skips, ``a_1``/``A1``/``aspect`` keys, numbers as strings or floats, and
often an empty polarity (the prompt itself says "leave this field empty"). Everything
that can be read unambiguously is read; what cannot is *flagged* on the criterion, never
guessed: blocking flags keep the criterion out of an export until an expert fixes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from microverse.bench.models import Dimension
from microverse.build.loose_json import json_values
from microverse.errors import MicroverseError

_KEY = re.compile(r"^\s*([adsw])\s*[_\-\s]?\s*(\d+)\s*$", re.I)
_LONG_KEYS = {"aspect": "a", "dimension": "a", "category": "a", "description": "d", "criterion": "d",
              "criteria": "d", "polarity": "s", "sign": "s", "weight": "w", "a": "a", "d": "d", "s": "s", "w": "w"}
_WRAPPERS = ("rubrics", "rubric", "criteria", "items", "triplets", "evaluation", "rubric_criteria")

#: flags that keep a criterion out of an export until an expert fixes it
BLOCKING = ("dimension_unknown", "description_empty", "polarity_invalid", "weight_invalid", "weight_out_of_range")


class RubricParseError(MicroverseError):
    """No criterion could be read from the answer at all."""


@dataclass
class DraftCriterion:
    """One parsed criterion with the values as given (``raw``) and what was wrong with them."""

    number: int
    dimension: Dimension | None
    description: str
    polarity: int | None
    weight: float | None
    raw: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(f.split(":")[0] in BLOCKING for f in self.flags)

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "dimension": self.dimension.value if self.dimension else None,
                "description": self.description, "polarity": self.polarity, "weight": self.weight,
                "raw": self.raw, "flags": self.flags}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "DraftCriterion":
        return cls(data["number"], Dimension(data["dimension"]) if data.get("dimension") else None,
                   data["description"], data["polarity"], data["weight"], data.get("raw", {}), data.get("flags", []))


def parse_dimension(value: Any) -> Dimension | None:
    text = re.sub(r"[^a-z]", "", str(value or "").lower())
    if "scien" in text or "fidelity" in text:
        return Dimension.SCIENTIFIC
    if "visual" in text or text == "quality":
        return Dimension.VISUAL
    if "instruction" in text or "following" in text or "prompt" in text:
        return Dimension.INSTRUCTION
    return None


def parse_polarity(value: Any) -> tuple[int | None, str | None]:
    """(+1/-1, None), or (None, flag). Empty is expected (the prompt asks for it) and assumed +1 by the caller."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "polarity_missing"
    if isinstance(value, bool):
        return None, f"polarity_invalid:{value!r}"
    text = str(value).strip().replace("−", "-").replace("–", "-").lower()
    if text in ("+", "positive", "pos", "plus", "add", "+1", "1", "1.0", "+1.0"):
        return 1, None
    if text in ("-", "negative", "neg", "minus", "deduct", "-1", "-1.0"):
        return -1, None
    return None, f"polarity_invalid:{value!r}"


def parse_weight(value: Any) -> tuple[float | None, list[str]]:
    """The weight and flags: not a number, extra text around it, or outside (0, 1]."""
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        return None, [f"weight_invalid:{value!r}"]
    flags = []
    if isinstance(value, (int, float)):
        weight = float(value)
    else:
        match = re.search(r"[-+]?(?:\d+\.?\d*|\.\d+)", str(value))
        if not match:
            return None, [f"weight_invalid:{value!r}"]
        weight = float(match.group(0))
        if match.group(0) != str(value).strip():
            flags.append(f"weight_extra_text:{value!r}")
    if not 0 < weight <= 1:
        flags.append(f"weight_out_of_range:{weight:g}")
    return weight, flags


def _records(value: Any) -> list[dict[str, Any]]:
    """The criterion-bearing dicts in a decoded value (flat numbered dicts are split later)."""
    if isinstance(value, list):
        return [r for v in value for r in _records(v)]
    if not isinstance(value, dict):
        return []
    for key in value:
        if key.strip().lower() in _WRAPPERS and isinstance(value[key], (list, dict)):
            return _records(value[key])
    if value and all(isinstance(v, dict) for v in value.values()):  # {"1": {...}, "2": {...}}
        return [r for v in value.values() for r in _records(v)]
    return [value]


def _split(record: dict[str, Any], position: int) -> list[tuple[int, dict[str, Any], list[str]]]:
    """A record into (number, {a,d,s,w}, flags) groups: by the digits in its keys, or one unnumbered group."""
    groups: dict[int, dict[str, Any]] = {}
    unnumbered: dict[str, Any] = {}
    flags = [f"duplicate_key:{k}" for k in getattr(record, "duplicates", [])]
    for key, value in record.items():
        match = _KEY.match(str(key))
        if match:
            groups.setdefault(int(match.group(2)), {})[match.group(1).lower()] = value
        elif str(key).strip().lower() in _LONG_KEYS:
            unnumbered[_LONG_KEYS[str(key).strip().lower()]] = value
    if groups and unnumbered:
        flags.append("mixed_numbered_and_unnumbered_keys")
    if not groups:
        return [(position, unnumbered, flags)] if unnumbered else []
    return [(number, values, flags if i == 0 else []) for i, (number, values) in enumerate(sorted(groups.items()))]


def parse_rubric(answer: str) -> list[DraftCriterion]:
    """Every criterion in a rubric answer, each with its flags; :class:`RubricParseError` if none."""
    values = json_values(answer)
    criteria: list[DraftCriterion] = []
    position = 0
    for record in (r for v in values for r in _records(v)):
        for number, fields, flags in _split(record, position + 1):
            position += 1
            flags = list(flags)
            dimension = parse_dimension(fields.get("a"))
            if dimension is None:
                flags.append(f"dimension_unknown:{fields.get('a')!r}")
            description = str(fields.get("d") or "").strip()
            if not description:
                flags.append("description_empty")
            polarity, problem = parse_polarity(fields.get("s"))
            if problem == "polarity_missing":
                polarity = 1
                flags.append("polarity_assumed_positive")
            elif problem:
                flags.append(problem)
            weight, weight_flags = parse_weight(fields.get("w"))
            flags += weight_flags
            raw = {k: fields.get(k) for k in "adsw" if k in fields}
            criteria.append(DraftCriterion(number, dimension, description, polarity, weight, raw, flags))
    if not criteria:
        found = "no JSON object" if not values else f"{len(values)} JSON value(s) without a/d/s/w keys"
        raise RubricParseError(f"no criterion in the answer ({found}): {answer[:100]!r}",
                               fix="ask again (`build rubrics --retry-failed`) or write the rubric by hand")
    numbers = [c.number for c in criteria]
    if len(set(numbers)) != len(numbers):  # lists of {"a1":...} objects restart numbering: renumber in order
        for k, criterion in enumerate(criteria, start=1):
            criterion.number = k
    return criteria

