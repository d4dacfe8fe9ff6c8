"""Commands of the `build` capability (being built; see the open issue)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""
