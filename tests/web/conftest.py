"""A study database with a preference and an annotation study, raters and their tokens."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "human"))  # shared builders (tests have no packages)
from studykit import make_benchmark, make_videos  # noqa: E402

from microverse.bench.canonical import write_canonical  # noqa: E402
from microverse.human import study as hs  # noqa: E402
from microverse.store import studies as store  # noqa: E402


@dataclass
class Site:
    db: Path
    root: Path
    tokens: dict[str, str]   # "study/rater" -> token


def build_site(root: Path, video_bytes: bytes = b"fake video bytes") -> Site:
    benchmark = make_benchmark()
    bench = write_canonical(benchmark, root / "bench.json")
    folders = make_videos(root, ["MicroVerse", "Sora", "Veo3"], range(3), video_bytes)
    db = root / "studies.db"
    conn = store.open_studies(db)
    pref = hs.create_preference_study(conn, "pref", benchmark, str(bench), folders,
                                      dimensions=["scientific", "visual"], tasks=[0, 1], seed=1)
    ann = hs.create_annotation_study(conn, "ann", benchmark, str(bench), {"Sora": folders["Sora"]}, tasks=[0])
    tokens = {f"pref/{k}": v for k, v in hs.add_raters(conn, pref, ["ann", "bob"]).items()}
    tokens |= {f"ann/{k}": v for k, v in hs.add_raters(conn, ann, ["expert"]).items()}
    conn.close()
    return Site(db, root, tokens)


@pytest.fixture
def site(tmp_path) -> Site:
    return build_site(tmp_path)


@pytest.fixture
def site_factory():
    """``build_site`` itself, for tests that need real video bytes."""
    return build_site
