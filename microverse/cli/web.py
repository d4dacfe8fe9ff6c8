"""Commands of the `web` capability: `microverse serve`, the rater and expert web UI."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import typer

from microverse.cli.common import clean_errors, err_console
from microverse.errors import MicroverseError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@clean_errors
def serve(
    db: Annotated[Path, typer.Option("--db", help="SQLite file with the studies (`microverse human create-*`).")],
    host: Annotated[str, typer.Option(help="Address to bind; loopback by default.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    videos: Annotated[list[Path] | None, typer.Option(
        "--videos", help="Extra folder videos may be served from (besides each study's own); repeat.")] = None,
    allow_remote: Annotated[bool, typer.Option(
        "--allow-remote", help="Required to bind a non-loopback address: raters then log in with their tokens "
                               "over the network (put a TLS proxy in front).")] = False,
    secure_cookie: Annotated[bool, typer.Option(
        "--secure-cookie", help="Mark the login cookie Secure (browsers then send it over HTTPS only; use behind a "
                                "TLS proxy).")] = False,
) -> None:
    """Serve the rater web UI: blinded preference and criterion-annotation screens."""
    try:
        import uvicorn

        from microverse.web.app import create_app
    except ImportError as exc:
        raise MicroverseError(f"the web UI needs the `web` extra ({exc.name} is missing)",
                              fix="pip install 'microverse[web]'") from None
    if not db.is_file():
        raise MicroverseError("database not found", file=str(db),
                              fix="create a study first with `microverse human create-preference --db ...`")
    for folder in videos or []:
        if not folder.is_dir():
            raise MicroverseError("video folder not found", file=str(folder))
    remote = not is_loopback(host)
    if remote and not allow_remote:
        raise MicroverseError(f"refusing to bind {host}: it is reachable from other machines",
                              fix="add --allow-remote (every rater must then log in with their own token)")
    app = create_app(db, extra_video_folders=list(videos or []), secure_cookie=secure_cookie)
    err_console.print(f"serving {db} on http://{host}:{port}/ — raters log in with their token; Ctrl+C to stop")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""
    app.command("serve")(serve)
