"""How long human-study statistics and web clicks take (run by hand; results in docs/benchmarks/human.md).

    python benchmarks/human_study.py

Measures: the agreement statistics on a paper-sized study (459 items x 3 raters) and a large
one (20,000 items x 5 raters, 10% missing); `human results` statistics for the paper's study
(60 tasks, 3 raters, 3 dimensions, 2,000 bootstrap resamples); the web app's answer
round trip (POST + redirect, one SQLite transaction) through FastAPI's test client; the
per-rater assignment (20,000 items, 10 raters, 3 per item) and agreement on that incomplete
design; the item page of a large assigned study (3,000 tasks, 10 raters, 3 per task); and
reading a video's frame rate (first probe, then cached).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from microverse.bench.agreement import agreement_summary
from microverse.bench.canonical import write_canonical
from microverse.human import study as hs
from microverse.human.assignment import assign
from microverse.human.stats import preference_results
from microverse.human.videos import frame_rate
from microverse.store import studies as store
from microverse.testing.studies import make_benchmark, make_videos, video_bytes


def ratings(items: int, raters: int, missing: float, seed: int = 0) -> list[tuple]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, items)
    rows = []
    for r in range(raters):
        noisy = np.where(rng.random(items) < 0.8, truth, rng.integers(0, 3, items))
        rows += [(f"r{r}", i, int(noisy[i])) for i in range(items) if rng.random() >= missing]
    return rows


def timed(label: str, fn, repeat: int = 3) -> float:
    best = min(_once(fn) for _ in range(repeat))
    print(f"{label}: {best * 1000:.1f} ms")
    return best


def _once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    small, large = ratings(459, 3, 0.0), ratings(20_000, 5, 0.1)
    timed("agreement, 459 items x 3 raters", lambda: agreement_summary(small))
    timed("agreement, 20000 items x 5 raters, 10% missing", lambda: agreement_summary(large))

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        benchmark = make_benchmark(60)
        bench = write_canonical(benchmark, root / "b.json")
        folders = make_videos(root, ["MicroVerse", "Sora", "Veo3"], range(60))
        conn = store.open_studies(root / "s.db")
        study = hs.create_preference_study(conn, "p", benchmark, str(bench), folders,
                                           dimensions=["scientific", "visual", "instruction"])
        tokens = hs.add_raters(conn, study, ["a", "b", "c"])
        rng = np.random.default_rng(1)
        start = time.perf_counter()
        for rater in tokens:
            for item in store.list_items(conn, study):
                for dim in study.config["dimensions"]:
                    hs.record_preference(conn, study, rater, item.key, dim, "ABC"[rng.integers(0, 3)], None)
        per_answer = (time.perf_counter() - start) / (3 * 60 * 3)
        print(f"record_preference (validate + one SQLite transaction): {per_answer * 1000:.2f} ms per answer")
        items, answers = store.list_items(conn, study), store.list_answers(conn, study)
        timed("preference results, 60 tasks x 3 raters x 3 dimensions, 2000 resamples",
              lambda: preference_results(study, items, answers))

        from fastapi.testclient import TestClient

        from microverse.web.app import create_app

        client = TestClient(create_app(root / "s.db"))
        client.post("/login", data={"token": tokens["a"]})
        keys = [i.key for i in items]
        start = time.perf_counter()
        for n, key in enumerate(keys):
            # change an answer: POST, 303 redirect, render the item page
            client.post(f"/study/p/item/{key}/answer", data={"question": "scientific", "choice": "tie",
                                                              "revision": "1"})
        elapsed = (time.perf_counter() - start) / len(keys)
        print(f"web answer round trip (POST + redirected page render): {elapsed * 1000:.1f} ms")
        timed("web item page render", lambda: client.get(f"/study/p/item/{keys[0]}"), repeat=20)

    raters = [f"r{n}" for n in range(10)]
    keys = [str(n) for n in range(20_000)]
    start = time.perf_counter()
    plan = assign(keys, raters, 3, seed=0)
    print(f"assignment, 20000 items to 10 raters, 3 per item: {(time.perf_counter() - start) * 1000:.0f} ms")
    rng = np.random.default_rng(2)
    incomplete = [(r, k, int(rng.integers(0, 3))) for r, ks in plan.items() for k in ks]
    timed("agreement on that incomplete design", lambda: agreement_summary(incomplete, ratings_per_item=3))

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        benchmark = make_benchmark(3000)
        bench = write_canonical(benchmark, root / "b.json")
        folders = make_videos(root, ["MicroVerse", "Sora"], range(3000))
        conn = store.open_studies(root / "s.db")
        study = hs.create_preference_study(conn, "big", benchmark, str(bench), folders)
        tokens = hs.add_panel(conn, study, raters, 3)
        client = TestClient(create_app(root / "s.db"))
        client.post("/login", data={"token": tokens["r0"]})
        mine = store.assignment(conn, study)["r0"]
        timed(f"web item page render, assigned study of 3000 tasks ({len(mine)} for this rater)",
              lambda: client.get(f"/study/big/item/{mine[0]}"), repeat=20)
        start = time.perf_counter()
        for key in mine[:50]:
            client.post(f"/study/big/item/{key}/answer", data={"question": "overall", "choice": "A"})
        print(f"web answer round trip in that study: {(time.perf_counter() - start) / 50 * 1000:.1f} ms")

        video = root / "v.mp4"
        video.write_bytes(video_bytes(frames=81, fps=16, suffix=".mp4", codec="libx264"))
        timed("frame rate, first probe of a file", lambda: _probe_uncached(video), repeat=5)
        timed("frame rate, cached", lambda: frame_rate(video), repeat=20)


def _probe_uncached(path: Path) -> float | None:
    from microverse.human.videos import _probe_rate

    stat = path.stat()
    return _probe_rate.__wrapped__(str(path), stat.st_size, stat.st_mtime_ns)


if __name__ == "__main__":
    main()
