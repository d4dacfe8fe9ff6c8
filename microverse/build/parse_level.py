"""Read the level label out of a classifier's answer (Appendix B), however it was worded.

Models answer "Cellular-level simulations", "**2. Cellular-level simulations** – cell
migration...", "Category: subcellular level", "Sub-cellular", or just "2". The answer is
accepted when exactly one level is named (the number alone counts as the list item of the
prompt); an answer naming several levels is ambiguous and refused, with the raw text kept
for an expert to decide.
"""

from __future__ import annotations

import re

from microverse.bench.models import Level
from microverse.errors import MicroverseError

# "subcellular" must be tried before "cellular"; hyphens, spaces, en dashes and "sub cellular" vary.
_PATTERNS = [
    (Level.SUBCELLULAR, re.compile(r"\bsub[\s\-‐–]*cellular\b|\bmolecular[\s\-–]*level\b", re.I)),
    (Level.CELLULAR, re.compile(r"\bcellular\b|\bcell[\s\-‐–]*level\b", re.I)),
    (Level.ORGAN, re.compile(r"\borgans?(?:[\s\-‐–]*(?:level|system)s?)?\b", re.I)),
]
_NUMBER = re.compile(r"^\W*(?:category|label|answer)?\W*([123])\W*$", re.I)
_NUMBERED = {"1": Level.ORGAN, "2": Level.CELLULAR, "3": Level.SUBCELLULAR}


class LevelParseError(MicroverseError):
    """The answer names no level, or more than one."""


def _mentions(text: str) -> list[tuple[int, Level]]:
    found = []
    masked = text
    for level, pattern in _PATTERNS:
        for match in pattern.finditer(masked):
            found.append((match.start(), level))
        # blank out what matched so "subcellular" is not counted again as "cellular"
        masked = pattern.sub(lambda m: " " * len(m.group(0)), masked)
    return sorted(found)


def parse_level(answer: str) -> Level:
    """The one level ``answer`` names; :class:`LevelParseError` otherwise."""
    text = re.sub(r"[*_`#>]", " ", answer or "").strip()
    if not text:
        raise LevelParseError("empty answer", fix="ask again or set the level by hand")
    number = _NUMBER.match(text)
    if number:
        return _NUMBERED[number.group(1)]
    levels = {level for _, level in _mentions(text)}
    if len(levels) == 1:
        return levels.pop()
    if not levels:
        raise LevelParseError(f"no level named in {answer[:80]!r}", fix="ask again or set the level by hand")
    names = ", ".join(sorted(level.value for level in levels))
    raise LevelParseError(f"several levels named ({names}) in {answer[:80]!r}", fix="set the level by hand")
