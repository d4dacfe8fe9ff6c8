"""The ``microverse`` command: each capability registers its commands here."""

from __future__ import annotations

import typer

from microverse import __version__
from microverse.cli import bench, build, data, human, judge, model, scoring, web

app = typer.Typer(
    name="microverse",
    help="Micro-world simulation toolkit: MicroWorldBench scoring and judging, the MicroSim data pipeline, "
         "MicroVerse generation and training, and human evaluation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for module in (bench, scoring, judge, data, model, build, human, web):
    module.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"microverse {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit.")) -> None:
    """Micro-world simulation toolkit."""


def main() -> None:
    app()


if __name__ == "__main__":
    main()
