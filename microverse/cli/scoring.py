"""``microverse score`` and ``microverse compare`` (being built)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the scoring commands to the root app."""
