"""Run the judge over a model's videos: plan what is still missing, then ask, check and record.

The engine is a pipeline with bounded memory: a video's frames are extracted (in worker
processes, :mod:`microverse.judge.workers`) only
when a slot among ``ahead`` videos is free, shared by that video's calls, and dropped when
they finish; at most ``concurrency`` requests are in
flight (the provider's semaphore). Each answer goes to the sink the moment it is checked,
so a killed run loses only calls in flight, and the next run asks only for what is missing.

The sink (``microverse.store.judgments.JudgmentStore``) is passed in: the judge package
never speaks SQL.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import time
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from microverse.bench.models import DIMENSIONS, Benchmark, Dimension
from microverse.errors import MicroverseError
from microverse.judge.answers import BadAnswer, parse_answer
from microverse.judge.frames import BadVideo, FrameSet, FrameSettings
from microverse.judge.memory import large_buffers_from_mmap
from microverse.judge.prompt import PROMPT_VERSION, TEMPLATES, DimensionPrompt, build_prompt
from microverse.judge.providers.base import ChatRequest, JudgeProvider, ProviderError, ProviderStopped
from microverse.judge.videos import VideoScan
from microverse.judge.workers import extract_timed, frame_pool


def _digest(settings: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class RunIdentity:
    """What makes judgments comparable; every stored row carries it."""

    model: str
    judge: str
    frames: FrameSettings = FrameSettings()
    temperature: float | None = 0.0
    repeats: int = 1
    prompt_version: str = PROMPT_VERSION

    def __post_init__(self) -> None:
        if self.prompt_version not in TEMPLATES:
            raise ValueError(f"unknown prompt version {self.prompt_version!r}; known: {', '.join(TEMPLATES)}")
        if self.repeats < 1 or self.repeats % 2 == 0:
            raise ValueError("repeats must be an odd number (1, 3, 5…) so a majority always exists")

    @property
    def answer_settings(self) -> dict[str, Any]:
        return {**self.frames.describe(), "temperature": self.temperature}

    @property
    def answer_settings_hash(self) -> str:
        return _digest(self.answer_settings)

    @property
    def settings(self) -> dict[str, Any]:
        return {**self.answer_settings, "repeats": self.repeats}

    @property
    def settings_hash(self) -> str:
        return _digest(self.settings)


@dataclass
class Answer:
    """One checked answer (or failure) for one repeat of one (task, dimension)."""

    task: int
    dimension: Dimension
    repeat: int
    prompt_sha: str
    n_criteria: int
    scores: list[int] | None = None
    reasoning: str | None = None
    raw_response: str | None = None
    failure: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    attempts: int = 0
    asks: int = 0
    response_format: str | None = None
    image_width: int | None = None
    image_height: int | None = None
    payload_bytes: int | None = None
    video: str | None = None


class AnswerSink(Protocol):
    """Where answers go; ``record`` also writes the judgment once all repeats are in."""

    def record(self, answer: Answer) -> bool: ...

    def settle(self, task: int, dimension: Dimension, prompt_sha: str, n_criteria: int, video: str | None) -> bool: ...


@dataclass
class DimensionWork:
    prompt: DimensionPrompt
    repeats: list[int]


@dataclass
class VideoWork:
    task: int
    path: Path
    dimensions: list[DimensionWork]

    @property
    def calls(self) -> int:
        return sum(len(d.repeats) for d in self.dimensions)


@dataclass
class RunStats:
    """Live counters for the progress bar and the end-of-run summary."""

    calls_total: int = 0
    calls_done: int = 0
    answers_ok: int = 0
    answers_failed: int = 0
    reasks: int = 0
    already_done: int = 0
    videos_total: int = 0
    videos_done: int = 0
    frames_cpu_s: float = 0.0
    bad_videos: list[tuple[str, str]] = field(default_factory=list)
    failures: list[tuple[int, str, str]] = field(default_factory=list)
    """(task, dimension, reason) of answers that stayed failed."""
    no_criteria: list[tuple[int, str]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)


@dataclass
class Plan:
    """The calls still needed (in task order) and the (task, dimension)s already fully answered."""

    work: list[VideoWork]
    complete: list[tuple[int, DimensionPrompt, str]]
    """(task, prompt, video file name) whose answers are all stored: only their judgment is (re)written."""


def plan(benchmark: Benchmark, scan: VideoScan, identity: RunIdentity, finished: dict[tuple[int, str, int], str],
         stats: RunStats) -> Plan:
    """Compare what the videos need with ``finished`` answers (task, dimension, repeat) -> prompt hash."""
    tasks = benchmark.by_index()
    result = Plan([], [])
    for index, path in sorted(scan.videos.items()):
        dims: list[DimensionWork] = []
        for dimension in DIMENSIONS:
            prompt = build_prompt(tasks[index], dimension, identity.frames.count, identity.prompt_version)
            if prompt is None:
                stats.no_criteria.append((index, dimension.value))
                continue
            missing = [r for r in range(identity.repeats) if finished.get((index, dimension.value, r)) != prompt.sha]
            stats.already_done += identity.repeats - len(missing)
            if missing:
                dims.append(DimensionWork(prompt, missing))
            else:
                result.complete.append((index, prompt, path.name))
        if dims:
            result.work.append(VideoWork(index, path, dims))
    stats.calls_total = sum(w.calls for w in result.work)
    stats.videos_total = len(result.work)
    return result


class Engine:
    def __init__(self, provider: JudgeProvider, sink: AnswerSink, identity: RunIdentity, *, reasks: int = 2,
                 concurrency: int = 16, workers: int | None = None, max_tokens: int | None = None,
                 progress: Callable[[RunStats], None] | None = None, stats: RunStats | None = None) -> None:
        self.provider = provider
        self.sink = sink
        self.identity = identity
        self.reasks = reasks
        # 8 workers extract ~200 videos per second (~40 ms each), more than any judge answers;
        # more workers would only cost memory (~90 MB each).
        self.workers = workers or max(1, min(8, os.cpu_count() or 1))
        self.concurrency = concurrency
        self.max_tokens = max_tokens
        self.progress = progress or (lambda stats: None)
        self.stats = stats or RunStats()
        self._stopped: ProviderStopped | None = None

    async def run(self, planned: Plan) -> RunStats:
        """Judge every planned call; raises ProviderStopped (after saving what finished) if the judge gives out."""
        large_buffers_from_mmap()
        for task, prompt, video in planned.complete:
            self.sink.settle(task, prompt.dimension, prompt.sha, prompt.n_criteria, video)
        work = planned.work
        calls_per_video = max(1, math.ceil(sum(w.calls for w in work) / max(1, len(work))))
        slots = asyncio.Semaphore(math.ceil(self.concurrency / calls_per_video) + 2 * self.workers)
        running: set[asyncio.Task] = set()
        with frame_pool(self.workers) as executor:
            try:
                for item in work:
                    await slots.acquire()
                    if self._stopped:
                        slots.release()
                        break
                    task = asyncio.create_task(self._video(item, executor))
                    task.add_done_callback(lambda _t: slots.release())
                    running.add(task)
                    task.add_done_callback(running.discard)
                if running:
                    await asyncio.gather(*running)
            finally:
                for task in running:
                    task.cancel()
        if self._stopped:
            raise self._stopped
        return self.stats

    async def _video(self, item: VideoWork, executor: Executor) -> None:
        loop = asyncio.get_running_loop()
        try:
            try:
                frames, cpu = await loop.run_in_executor(executor, extract_timed, item.path, self.identity.frames)
            except BrokenProcessPool:
                raise MicroverseError("a frame-extraction worker died (out of memory?)",
                                      fix="rerun the same command (finished work is kept), with fewer --workers"
                                      ) from None
            except BadVideo:
                raise
            except Exception as exc:  # noqa: BLE001 - one odd file must not stop the benchmark
                raise BadVideo(f"frame extraction failed: {type(exc).__name__}: {str(exc)[:200]}") from None
            self.stats.frames_cpu_s += cpu
        except BadVideo as exc:
            self.stats.bad_videos.append((item.path.name, str(exc)))
            for dim in item.dimensions:
                for repeat in dim.repeats:
                    self._finish(Answer(item.task, dim.prompt.dimension, repeat, dim.prompt.sha,
                                        dim.prompt.n_criteria, failure=f"video: {exc}", video=item.path.name))
            self.stats.videos_done += 1
            return
        await asyncio.gather(*(self._ask(item, dim.prompt, repeat, frames)
                               for dim in item.dimensions for repeat in dim.repeats))
        self.stats.videos_done += 1

    async def _ask(self, item: VideoWork, prompt: DimensionPrompt, repeat: int, frames: FrameSet) -> None:
        """One repeat: ask, check, re-ask a bad answer up to ``reasks`` times, record the outcome."""
        answer = Answer(item.task, prompt.dimension, repeat, prompt.sha, prompt.n_criteria, video=item.path.name)
        base = prompt.request(frames.image_urls, temperature=self.identity.temperature, max_tokens=self.max_tokens)
        request, shrink = base, _Shrinker(frames)
        for ask in range(1 + self.reasks):
            if self._stopped:
                return
            answer.asks = ask + 1
            try:
                result = await self.provider.complete(request, on_too_large=shrink)
            except ProviderStopped as exc:
                self._stopped = self._stopped or exc
                return
            except ProviderError as exc:
                answer.attempts += exc.attempts
                answer.failure = f"judge error: {exc}"
                break
            answer.attempts += result.attempts
            answer.prompt_tokens += result.usage.prompt_tokens
            answer.completion_tokens += result.usage.completion_tokens
            answer.latency_s += result.latency_s
            answer.raw_response, answer.response_format = result.text, result.response_format
            answer.image_width, answer.image_height = shrink.current.width, shrink.current.height
            answer.payload_bytes = shrink.current.payload_bytes
            try:
                parsed = parse_answer(result.text, prompt.n_criteria)
            except BadAnswer as exc:
                answer.failure = f"unusable answer after {ask + 1} ask(s): {exc}"
                if ask < self.reasks:
                    self.stats.reasks += 1
                    request = prompt.corrected(base.with_images(shrink.current.image_urls), str(exc))
                continue
            answer.scores, answer.reasoning, answer.failure = parsed.scores, parsed.reasoning, None
            break
        self._finish(answer)

    def _finish(self, answer: Answer) -> None:
        self.sink.record(answer)
        self.stats.calls_done += 1
        if answer.scores is not None:
            self.stats.answers_ok += 1
        else:
            self.stats.answers_failed += 1
            self.stats.failures.append((answer.task, answer.dimension.value, answer.failure or "failed"))
        self.progress(self.stats)


class _Shrinker:
    """The 413 hook for one call: each use moves to the next smaller encoding of the video's frames.

    Re-encoding runs on the event loop; it happens only after a 413 and is cached per video.
    """

    def __init__(self, frames: FrameSet) -> None:
        self.current = frames

    def __call__(self, request: ChatRequest) -> ChatRequest | None:
        smaller = self.current.smaller()
        if smaller is None:
            return None
        self.current = smaller
        return request.with_images(smaller.image_urls)
