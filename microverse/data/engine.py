"""Run one stage's worker over many items: in this process, a local process pool, or Ray Data.

A stage is a worker class: ``Worker(config)`` loads what it needs once (a model, an OCR
engine) and ``worker(item) -> row`` turns one manifest row into one result row keyed like
the item; a model stage may also offer ``worker.batch(items) -> rows`` (one forward pass for
several items), used in chunks of ``StageSpec.batch_size``. Both engines call the same class
on the same items and return the same rows, so the folded manifest is identical whichever ran
(the manifest sorts rows and columns).

An exception inside a worker becomes a dropped row carrying the error (the item is
quarantined) and the run goes on. Results stream to a sink as they finish: nothing is
accumulated, and in-flight work is bounded, so memory stays flat in the number of items.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from microverse.errors import MicroverseError

ENGINES = ("local", "ray")


@dataclasses.dataclass(frozen=True)
class StageSpec:
    """Everything an engine needs to run a stage anywhere (picklable)."""

    name: str
    key: str
    worker: type
    config: dict[str, Any]
    num_gpus: float = 0.0  # per worker, a hint for Ray's scheduler
    batch_size: int = 1  # items per call of the worker's ``batch`` method (one model forward), if it has one


def to_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def error_row(spec: StageSpec, item: dict, exc: BaseException) -> dict:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{exc.__class__.__name__}: {message}" if message else exc.__class__.__name__
    return {spec.key: item[spec.key], f"{spec.name}.keep": False, f"{spec.name}.reason": f"error: {text}",
            f"{spec.name}.error": text}


class _Runner:
    """The worker plus the quarantine rule, shared by every engine."""

    def __init__(self, spec: StageSpec) -> None:
        self.spec = spec
        try:
            self.worker = spec.worker(spec.config)
        except MicroverseError:
            raise
        except Exception as exc:  # a model or engine that cannot load stops the stage with one clear line
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            raise MicroverseError(f"the {spec.name} stage could not start: {exc.__class__.__name__}: {first}",
                                  fix="check the model name/folder (and network access for hub ids)") from None

    def __call__(self, item: dict) -> dict:
        try:
            row = self.worker(item)
        except Exception as exc:  # quarantine: the item gets the error, the run continues
            row = error_row(self.spec, item, exc)
        row[self.spec.key] = item[self.spec.key]
        return to_jsonable(row)

    def many(self, items: list[dict]) -> list[dict]:
        """Rows for a chunk: one ``batch`` call where the worker has it; if the batch fails,
        item by item, so only the bad item is quarantined."""
        if len(items) > 1 and hasattr(self.worker, "batch"):
            try:
                rows = self.worker.batch(items)
            except Exception:
                rows = None
            if rows is not None:
                return [to_jsonable({**row, self.spec.key: item[self.spec.key]}) for item, row in zip(items, rows)]
        return [self(item) for item in items]


def chunks(items: Iterable[dict], size: int) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_LOCAL: _Runner | None = None


def _init_local(spec: StageSpec) -> None:
    """Pool worker start: one thread per library, since the pool already uses every core."""
    global _LOCAL
    _LOCAL = _Runner(spec)
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:
        pass
    import sys

    if "torch" in sys.modules:  # loaded by a model stage's worker
        sys.modules["torch"].set_num_threads(1)


def _call_local(chunk: list[dict]) -> list[dict]:
    assert _LOCAL is not None
    return _LOCAL.many(chunk)


def _run_local(spec: StageSpec, items: Iterable[dict], workers: int) -> Iterator[dict]:
    size = max(1, spec.batch_size)
    if workers <= 1:
        runner = _Runner(spec)
        for chunk in chunks(items, size):
            yield from runner.many(chunk)
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn: forked children of a process that loaded torch or onnxruntime threads can hang.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_local,
                             initargs=(spec,)) as pool:
        pending: set = set()
        try:
            for submitted, chunk in enumerate(chunks(items, size)):
                with _sigint_ignored(starting_processes=submitted < workers):
                    pending.add(pool.submit(_call_local, chunk))
                if len(pending) >= 2 * workers:  # bounded in-flight work: flat memory
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        yield from future.result()
            for future in pending:
                yield from future.result()
        except KeyboardInterrupt:  # stop now: queued chunks are dropped, not run while the user waits
            pool.shutdown(wait=True, cancel_futures=True)
            raise


@contextlib.contextmanager
def _sigint_ignored(*, starting_processes: bool) -> Iterator[None]:
    """Ignore SIGINT while the pool may start a process, which inherits that (Python keeps an
    ignored SIGINT ignored): Ctrl-C is then the parent's alone to handle (it stops the stage,
    finished rows are saved), instead of every worker also printing a KeyboardInterrupt
    traceback. The pool starts its processes inside ``submit``, one per call, up to ``workers``."""
    if not starting_processes or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _pool_errors(rows: Iterator[dict]) -> Iterator[dict]:
    """A worker process that died (or failed to start) ends the stage with a clear message."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        yield from rows
    except BrokenProcessPool as exc:
        raise MicroverseError(f"a worker process died ({exc}); finished results are saved",
                              fix="rerun with --workers 1 to see the error, then rerun to resume") from None


class _RayBatch:
    """Ray Data callable class: one per actor, so a model loads once per worker."""

    def __init__(self, spec: StageSpec) -> None:
        self.runner = _Runner(spec)

    def __call__(self, batch: dict) -> dict:
        rows = [json.dumps(row) for row in self.runner.many([json.loads(text) for text in batch["item"]])]
        return {"row": np.asarray(rows, dtype=object)}


def _run_ray(spec: StageSpec, items: Iterable[dict], workers: int, address: str | None) -> Iterator[dict]:
    # Our progress bar reports the stage; Ray Data's bars and INFO lines would interleave with it
    # (read when ray.data is first imported; set RAY_DATA_LOG_LEVEL yourself to see them).
    os.environ.setdefault("RAY_DATA_LOG_LEVEL", "ERROR")
    import ray

    if not ray.is_initialized():
        import logging

        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING,
                 ignore_reinit_error=True, **({} if address else {"num_cpus": max(1, workers)}))
    payload = [{"item": json.dumps(to_jsonable(item))} for item in items]
    if not payload:
        return
    ray.data.DataContext.get_current().enable_progress_bars = False
    ds = ray.data.from_items(payload, override_num_blocks=min(len(payload), max(1, workers) * 4))
    ds = ds.map_batches(_RayBatch, fn_constructor_kwargs={"spec": spec}, batch_size=max(1, spec.batch_size),
                        concurrency=max(1, workers), num_cpus=1, num_gpus=spec.num_gpus or None)
    for batch in ds.iter_batches(batch_size=16, batch_format="numpy"):
        for text in batch["row"]:
            yield json.loads(text)


def run(spec: StageSpec, items: Iterable[dict], *, engine: str = "local", workers: int = 1,
        address: str | None = None) -> Iterator[dict]:
    """Yield one result row per item as work finishes (order not guaranteed)."""
    if engine == "local":
        yield from _pool_errors(_run_local(spec, items, workers))
    elif engine == "ray":
        yield from _run_ray(spec, items, workers, address)
    else:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1))


def stream_to(sink: Callable[[list[dict]], None], rows: Iterable[dict], *, every: int = 32,
              on_row: Callable[[dict], None] | None = None) -> int:
    """Hand rows to ``sink`` in small batches (each batch is persisted before the next).

    If the stream stops with an exception (Ctrl-C, a worker process that died), the rows that
    did finish are still handed over, so the rerun does not redo them.
    """
    batch: list[dict] = []
    count = 0
    try:
        for row in rows:
            batch.append(row)
            count += 1
            if on_row:
                on_row(row)
            if len(batch) >= every:
                full, batch = batch, []
                sink(full)
    finally:
        if batch:
            sink(batch)
    return count
