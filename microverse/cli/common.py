"""What every command shares: one console, clean errors, and the common options."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated, Any, Callable, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from microverse.errors import MicroverseError

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

# Which optional extra brings each top-level module that commands import lazily.
EXTRA_OF_MODULE = {
    **dict.fromkeys(("torch", "diffusers", "transformers", "accelerate", "peft", "safetensors", "sentencepiece"),
                    "model"),
    **dict.fromkeys(("pandas", "pyarrow", "scenedetect", "cv2", "rapidocr_onnxruntime", "yt_dlp"), "data"),
    "ray": "ray",
    **dict.fromkeys(("fastapi", "uvicorn", "starlette", "multipart"), "web"),
}


def missing_extra_message(exc: ModuleNotFoundError) -> str | None:
    """One line naming the extra to install for a missing optional module, or None if it is not one of ours."""
    module = (exc.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(module)
    if extra is None:
        return None
    first = "pip install torch==2.13.0 (or your CUDA build), then " if extra == "model" else ""
    return (f"this command needs the '{extra}' extra (module {module!r} is not installed) "
            f"(fix: {first}pip install 'microverse[{extra}]')")

BenchmarkOption = Annotated[
    Path | None,
    typer.Option("--benchmark", help="Official-layout folder or canonical .json; default: the fetched cache.",
                 show_default=False),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one error line to stderr and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def clean_errors(func: F) -> F:
    """Turn :class:`MicroverseError` (and interrupts) into one line and an exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MicroverseError as exc:
            raise fail(exc.render(), exc.exit_code) from None
        except ModuleNotFoundError as exc:
            message = missing_extra_message(exc)
            if message is None:
                raise
            raise fail(message) from None
        except KeyboardInterrupt:
            raise fail("interrupted; finished work is saved, rerun the same command to resume", 130) from None
        except BrokenPipeError:
            sys.exit(0)

    return wrapper  # type: ignore[return-value]


def write_output(text: str, out: Path | None) -> None:
    """Write to ``out`` if given, else print to stdout unstyled (so pipes get plain text)."""
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {out}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
