"""The rater web app: server-rendered pages for preference, annotation, screening and revision studies.

Why server-rendered (FastAPI + Jinja2, one small static script): no front-end build, every
page works without JavaScript, and autoescaping covers every text a benchmark or an LLM
wrote. Security model, each point tested in tests/web:

- a rater logs in with their token; the cookie holding it is HttpOnly and SameSite=Strict
  (no cross-site form posts), and every request re-checks that the token belongs to the
  study in the URL, so a rater reads and writes only their own answers;
- videos are addressed by (study, item, slot), never by a path; the path comes from the
  study and is served only if it resolves inside the study's video folders or the folders
  given to ``microverse serve``;
- a Content-Security-Policy allows only this origin's script and media.
"""


import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from microverse.build import review
from microverse.errors import MicroverseError
from microverse.human import study as hs
from microverse.human.videos import frame_rate, inside_folders
from microverse.store import studies as store
from microverse.store.studies import Conflict, Forbidden, NotFound, Study

COOKIE = "mv_token"
STATIC = Path(__file__).with_name("static")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; media-src 'self'; "
                               "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def asset_version() -> str:
    """A short hash of the static files' contents, appended to their URLs (cache busting)."""
    digest = hashlib.sha256()
    for path in sorted(STATIC.iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def _status(exc: MicroverseError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, Conflict):
        return 409
    return 400


def create_app(db_path: Path, *, extra_video_folders: list[Path] = (), secure_cookie: bool = False) -> FastAPI:
    """The app for one database; ``extra_video_folders`` are allowed besides each study's own."""
    db_path = Path(db_path)
    store.open_studies(db_path).close()  # migrate once, before serving
    env = Environment(loader=PackageLoader("microverse.web", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    app = FastAPI(title="MicroVerse human evaluation", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    env.globals["asset_version"] = asset_version()

    def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=status_code)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        if request.url.path.startswith("/static/") and response.status_code == 200:
            # Pages name assets with ?v=<content hash>, so a cached copy is never stale; caching
            # spares a round trip per page, during which a shortcut key pressed early is lost.
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @app.exception_handler(MicroverseError)
    async def microverse_error(request: Request, exc: MicroverseError) -> HTMLResponse:
        return render("error.html", _status(exc), message=exc.message, fix=exc.fix, status=_status(exc))

    @contextmanager
    def database() -> Iterator[sqlite3.Connection]:
        # A connection per request, opened in the thread that uses it (sqlite3 objects are per thread).
        conn = store.open_studies(db_path)
        try:
            yield conn
        finally:
            conn.close()

    def rater_for(request: Request, conn: sqlite3.Connection, study_name: str) -> tuple[Study, str]:
        token = request.cookies.get(COOKIE)
        if not token:
            raise Forbidden("not logged in", fix="open the start page and enter your rater token")
        return hs.authenticate(conn, token, study_name)

    def video_slots(study: Study, item: store.Item) -> list[str]:
        """The slots a page shows: positions A/B/C (blinded) for a preference item, else ``main``."""
        if study.kind == hs.PREFERENCE:
            return list(hs.POSITIONS[: len(item.payload["videos"])])
        return ["main"] if "video" in item.payload else []

    def video_file(study: Study, rater: str, item: store.Item, slot: str) -> Path | None:
        """The file behind a slot, only if it resolves inside an allowed folder."""
        if study.kind == hs.PREFERENCE:
            path = item.payload["videos"][hs.layout(study, rater, item)[hs.POSITIONS.index(slot)]]
        else:
            path = item.payload["video"]
        return inside_folders(path, [*study.config.get("video_folders", {}).values(), *extra_video_folders])

    def players(study: Study, rater: str, item: store.Item) -> list[dict[str, Any]]:
        """What each player needs; ``fps`` is the file's own rate (None: frame stepping is turned off)."""
        shown = []
        for slot in video_slots(study, item):
            resolved = video_file(study, rater, item, slot)
            shown.append({"slot": slot, "src": f"/study/{study.name}/video/{item.key}/{slot}",
                          "label": f"Video {slot}" if study.kind == hs.PREFERENCE else None,
                          "fps": frame_rate(resolved) if resolved else None})
        return shown

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        with database() as conn:
            token = request.cookies.get(COOKIE)
            if token:
                try:
                    study, _ = hs.authenticate(conn, token)
                    return RedirectResponse(f"/study/{study.name}", status_code=303)
                except Forbidden:
                    pass
            return render("login.html")

    @app.post("/login")
    def login(token: Annotated[str, Form()] = "") -> Response:
        with database() as conn:
            try:
                study, _ = hs.authenticate(conn, token)
            except Forbidden as exc:
                return render("login.html", 403, error=exc.message)
            response = RedirectResponse(f"/study/{study.name}", status_code=303)
            response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict", secure=secure_cookie)
            return response

    @app.post("/logout")
    def logout() -> Response:
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/study/{name}", response_class=HTMLResponse)
    def overview(name: str, request: Request) -> Response:
        with database() as conn:
            study, rater = rater_for(request, conn, name)
            items = hs.rater_items(conn, study, rater)
            answers = hs.rater_answers(conn, study, rater)
            rows = []
            for number, item in enumerate(items, start=1):
                asked = hs.questions(study, item)
                done = sum((item.key, q) in answers for q in asked)
                rows.append({"number": number, "key": item.key, "done": done, "total": len(asked)})
            first_open = next((r for r in rows if r["done"] < r["total"]), None)
            return render("overview.html", study=study, rater=rater, rows=rows, first_open=first_open,
                          progress=hs.progress_of(study, items, answers))

    @app.get("/study/{name}/item/{key}", response_class=HTMLResponse)
    def item_page(name: str, key: str, request: Request) -> Response:
        with database() as conn:
            study, rater = rater_for(request, conn, name)
            item = store.get_item(conn, study, key)
            items = hs.rater_items(conn, study, rater)
            order = [i.key for i in items]
            hs.check_assigned(item, order)
            position = order.index(item.key)
            answers = hs.rater_answers(conn, study, rater)
            mine = {q: answers.get((item.key, q)) for q in hs.questions(study, item)}
            current = next((q for q, a in mine.items() if a is None), None)
            context = dict(study=study, rater=rater, item=item, answers=mine, current=current, number=position + 1,
                           total=len(order), previous=order[position - 1] if position > 0 else None,
                           next=order[position + 1] if position + 1 < len(order) else None,
                           progress=hs.progress_of(study, items, answers), players=players(study, rater, item))
            if study.kind == hs.PREFERENCE:
                context["slots"] = video_slots(study, item)
                # the rater sees positions only; their own past answer is shown as the position they picked
                context["picked"] = {q: (a.detail or {}).get("position") if a else None for q, a in mine.items()}
                return render("preference.html", **context)
            if study.kind == review.SCREENING:
                return render("screening.html", **context)
            if study.kind == review.REVISION:
                context["supplements"] = answers.get((item.key, review.SUPPLEMENTS))
                return render("revision.html", **context)
            return render("annotation.html", **context)

    @app.post("/study/{name}/item/{key}/answer")
    def answer(name: str, key: str, request: Request, question: Annotated[str, Form()],
               choice: Annotated[str, Form()] = "", revision: Annotated[str, Form()] = "",
               rationale: Annotated[str, Form()] = "", weight: Annotated[str, Form()] = "",
               description: Annotated[str, Form()] = "", polarity: Annotated[str, Form()] = "",
               dimension: Annotated[str, Form()] = "", index: Annotated[str, Form()] = "") -> Response:
        with database() as conn:
            study, rater = rater_for(request, conn, name)
            # an item outside the rater's assignment: the store refuses the write (403), in its transaction
            try:
                seen = int(revision) if revision else None
            except ValueError:
                raise MicroverseError(f"invalid revision {revision!r}") from None
            if study.kind == hs.PREFERENCE:
                hs.record_preference(conn, study, rater, key, question, choice, seen)
            elif study.kind == hs.ANNOTATION:
                hs.record_annotation(conn, study, rater, key, question, choice, seen)
            elif study.kind == review.SCREENING:
                review.record_screening(conn, study, rater, key, choice, rationale, seen)
            elif study.kind == review.REVISION:
                review.record_revision(conn, study, rater, key, question,
                                       {"op": choice, "weight": weight, "description": description,
                                        "polarity": polarity, "dimension": dimension, "rationale": rationale,
                                        "index": index}, seen)
            else:
                raise MicroverseError(f"study kind {study.kind!r} has no web screen")
            item = store.get_item(conn, study, key)
            answers = hs.rater_answers(conn, study, rater)
            if all((key, q) in answers for q in hs.questions(study, item)):
                items = hs.rater_items(conn, study, rater)
                at = [i.key for i in items].index(key)
                following = next((i.key for i in items[at + 1:] + items[:at]
                                  if any((i.key, q) not in answers for q in hs.questions(study, i))), None)
                if following is not None and seen is None:
                    return RedirectResponse(f"/study/{name}/item/{following}", status_code=303)
                if following is None and seen is None:
                    return RedirectResponse(f"/study/{name}", status_code=303)
            return RedirectResponse(f"/study/{name}/item/{key}", status_code=303)

    @app.get("/study/{name}/video/{key}/{slot}")
    def video(name: str, key: str, slot: str, request: Request) -> Response:
        with database() as conn:
            study, rater = rater_for(request, conn, name)
            item = store.get_item(conn, study, key)
            hs.check_assigned(item, store.assigned_items(conn, study, rater))
            if slot not in video_slots(study, item):
                raise NotFound(f"no video slot {slot!r}")
            resolved = video_file(study, rater, item, slot)
            if resolved is None:
                raise NotFound("video not available", fix="the file is missing or outside the configured video folders")
            return FileResponse(resolved)

    return app
