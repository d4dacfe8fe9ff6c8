"""The LLM stages of a build (tasks, classify, rubrics) through the judge's provider layer.

Each stage is a list of jobs (item key, prompt, parser). Jobs run concurrently (the
provider bounds requests in flight and retries), and each answer is stored the moment it
arrives, so an interrupted stage resumes where it stopped. Only items without an ``ok``
answer are asked again; an item answered with another template version is refused
instead of silently mixing prompts (``redo`` asks it again).

A malformed answer (no level, no criterion) is stored raw as ``parse_error`` and yields
nothing: no task, level or draft appears from it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from microverse.build.parse_level import parse_level
from microverse.build.parse_rubric import parse_rubric
from microverse.build.prompts import Template, load_template
from microverse.errors import MicroverseError
from microverse.store import builds as store

Parser = Callable[[str], Any]


@dataclass(frozen=True)
class Job:
    item: str
    prompt: str
    parse: Parser


@dataclass
class StageReport:
    stage: str
    asked: int = 0
    ok: int = 0
    failed: int = 0
    parse_errors: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None


def task_job(source_id: str, metadata: dict[str, Any], template: Template) -> Job:
    prompt = template.render(video_title=str(metadata.get("title", "")),
                             video_description=str(metadata.get("description", "")))

    def parse(raw: str) -> dict[str, str]:
        text = " ".join(raw.split())  # the prompt asks for one paragraph; fold stray line breaks
        if len(text) < 20:
            raise MicroverseError(f"answer too short to be a task prompt: {raw[:80]!r}", fix="ask again")
        # the short task text defaults to the paragraph; an expert may shorten it later
        return {"prompt": str(metadata.get("task") or text), "requirement": text}

    return Job(source_id, prompt, parse)


def classify_job(task: int, requirement: str, template: Template) -> Job:
    return Job(str(task), template.render(Task_Description=requirement),
               lambda raw: {"level": parse_level(raw).value})


def rubric_job(task: int, requirement: str, template: Template) -> Job:
    return Job(str(task), template.render(prompt=requirement),
               lambda raw: [c.to_json() for c in parse_rubric(raw)])


def pending(conn, stage: str, jobs: list[Job], template: Template, *, redo: bool = False) -> tuple[list[Job], int]:
    """The jobs still to ask, and how many already have an ``ok`` answer."""
    done = store.answers(conn, stage)
    todo, skipped = [], 0
    for job in jobs:
        previous = done.get(job.item)
        if previous is not None and previous.status == "ok" and not redo:
            if previous.template_sha256 != template.sha256:
                raise MicroverseError(
                    f"item {job.item} of stage {stage!r} was answered with template {previous.template}, "
                    f"this run uses {template.name} (different text)",
                    fix="pass --redo to ask every item again with the new template")
            skipped += 1
            continue
        todo.append(job)
    return todo, skipped


async def run_jobs(provider, conn, stage: str, template: Template, jobs: list[Job], *,
                   temperature: float | None = None, on_done: Callable[[], None] | None = None) -> StageReport:
    """Ask every job, store each answer as it arrives; a stopped provider ends the stage cleanly."""
    from microverse.judge.providers import ChatRequest, ProviderError, ProviderStopped

    report = StageReport(stage, asked=len(jobs))

    async def one(job: Job) -> None:
        request = ChatRequest(prompt=job.prompt, temperature=temperature)
        try:
            result = await provider.complete(request)
        except ProviderError as exc:
            report.failed += 1
            report.errors.append(f"{job.item}: {exc}")
            store.save_answer(conn, store.StoredAnswer(stage, job.item, template.name, template.sha256,
                                                       provider.describe(), "failed", None, None, str(exc)),
                              attempts=exc.attempts)
            return
        finally:
            if on_done:
                on_done()
        try:
            parsed, status, error = job.parse(result.text), "ok", None
        except MicroverseError as exc:
            parsed, status, error = None, "parse_error", exc.render()
            report.parse_errors += 1
            report.errors.append(f"{job.item}: {error}")
        else:
            report.ok += 1
        store.save_answer(conn, store.StoredAnswer(stage, job.item, template.name, template.sha256,
                                                   result.model or provider.describe(), status, result.text, parsed,
                                                   error),
                          attempts=result.attempts, prompt_tokens=result.usage.prompt_tokens,
                          completion_tokens=result.usage.completion_tokens)

    tasks = [asyncio.ensure_future(one(job)) for job in jobs]
    try:
        await asyncio.gather(*tasks)
    except ProviderStopped as exc:
        report.stopped = str(exc)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return report


def stage_jobs(conn, stage: str, template: Template, *, only: list[int] | None = None) -> list[Job]:
    """The jobs of ``stage`` over what the build has so far."""
    if stage == "tasks":
        return [task_job(source_id, metadata, template) for source_id, _, metadata in store.sources(conn)]
    rows = store.tasks(conn)
    if only is not None:
        wanted = set(only)
        rows = [r for r in rows if r["task"] in wanted]
    make = classify_job if stage == "classify" else rubric_job
    return [make(r["task"], r["requirement"], template) for r in rows]


def run_stage(conn, stage: str, provider_factory: Callable[[], Any], *, template_version: int | None = None,
              redo: bool = False, only: list[int] | None = None, temperature: float | None = None,
              progress: Callable[[int], Callable[[], None]] | None = None) -> StageReport:
    """Plan and run one stage; ``provider_factory`` is only called when something is left to ask."""
    template = load_template(stage, template_version)
    todo, skipped = pending(conn, stage, stage_jobs(conn, stage, template, only=only), template, redo=redo)
    if not todo:
        return StageReport(stage, skipped=skipped)

    async def main() -> StageReport:
        provider = provider_factory()
        try:
            return await run_jobs(provider, conn, stage, template, todo, temperature=temperature,
                                  on_done=progress(len(todo)) if progress else None)
        finally:
            await provider.aclose()

    report = asyncio.run(main())
    report.skipped = skipped
    return report
