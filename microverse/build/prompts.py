"""The paper's prompts (Appendices A, B, G) as versioned template files.

Each stage's prompt lives in ``templates/<stage>_v<N>.txt``, verbatim from the paper
(Appendix G's LaTeX ``$$\\{a_i, d_i, s_i, w_i\\}$$`` written as plain text). A template never
changes once shipped: a new wording is a new version, and every stored answer records the
version and the SHA-256 of the text it was asked with, so a rerun with a changed prompt
cannot silently mix answers.

Placeholders are substituted literally (``{video_title}``), not with ``str.format``: the
rubric prompt contains JSON braces.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from microverse.errors import MicroverseError

STAGES = {"tasks": ("video_title", "video_description"), "classify": ("Task_Description",), "rubrics": ("prompt",)}
LATEST = {"tasks": 1, "classify": 1, "rubrics": 1}


@dataclass(frozen=True)
class Template:
    stage: str
    version: int
    text: str

    @property
    def name(self) -> str:
        return f"{self.stage}_v{self.version}"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def render(self, **values: str) -> str:
        expected = set(STAGES[self.stage])
        if set(values) != expected:
            raise ValueError(f"template {self.name} takes {sorted(expected)}, got {sorted(values)}")
        text = self.text
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        return text


def load_template(stage: str, version: int | None = None) -> Template:
    """The template of ``stage`` (latest version unless one is named)."""
    if stage not in STAGES:
        raise MicroverseError(f"unknown build stage {stage!r}", fix=f"use one of {', '.join(STAGES)}")
    version = LATEST[stage] if version is None else version
    path = resources.files("microverse.build").joinpath("templates", f"{stage}_v{version}.txt")
    if not path.is_file():
        raise MicroverseError(f"no template version {version} for stage {stage!r}",
                              fix=f"the latest is {LATEST[stage]}")
    text = path.read_text(encoding="utf-8").rstrip("\n")
    missing = [p for p in STAGES[stage] if not re.search(r"\{" + p + r"\}", text)]
    if missing:  # a broken template must fail loudly, not send a prompt with a hole
        raise MicroverseError(f"template {stage}_v{version} lacks placeholder(s) {missing}")
    return Template(stage, version, text)
