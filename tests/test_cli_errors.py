"""A command whose optional extra is missing says which extra to install, in one line."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from microverse.cli.common import clean_errors

runner = CliRunner()


def _app_importing(module: str) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    @clean_errors
    def go() -> None:
        raise ModuleNotFoundError(f"No module named '{module}'", name=module)

    return app


def test_missing_optional_module_names_the_extra_and_keeps_brackets():
    result = runner.invoke(_app_importing("pandas"), [])
    assert result.exit_code == 2
    assert "microverse[data]" in result.output and "Traceback" not in result.output
    result = runner.invoke(_app_importing("diffusers"), [])
    assert "microverse[model]" in result.output and "torch==2.13.0" in result.output


def test_unknown_missing_module_is_a_bug_not_a_user_error():
    result = runner.invoke(_app_importing("not_a_dependency_of_ours"), [])
    assert isinstance(result.exception, ModuleNotFoundError)
