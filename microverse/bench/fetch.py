"""Get the official benchmark files into the per-user cache, pinned and checksummed.

Only the standard library is used for HTTP here: three static files need no client
library, and keeping ``bench`` free of heavy imports keeps the CLI fast.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from platformdirs import user_cache_dir

from microverse.bench.official import OFFICIAL_COMMIT, OFFICIAL_FILES, OFFICIAL_REPOSITORY, OFFICIAL_SHA256, sha256_of
from microverse.errors import MicroverseError

DEFAULT_BASE_URL = (f"https://raw.githubusercontent.com/{OFFICIAL_REPOSITORY}/{OFFICIAL_COMMIT}/eval")


def cache_root() -> Path:
    """Where fetched benchmarks live; ``MICROVERSE_CACHE`` overrides the platform default."""
    override = os.environ.get("MICROVERSE_CACHE")
    return Path(override) if override else Path(user_cache_dir("microverse"))


def cached_benchmark_dir() -> Path:
    return cache_root() / "benchmark" / OFFICIAL_COMMIT[:12]


def is_complete(directory: Path) -> bool:
    return all((directory / name).is_file() for name in OFFICIAL_FILES)


def _check(path: Path, name: str) -> None:
    actual = sha256_of(path)
    if actual != OFFICIAL_SHA256[name]:
        raise MicroverseError(f"SHA-256 {actual[:16]}… does not match the pinned {OFFICIAL_SHA256[name][:16]}…",
                              file=str(path), fix="the copy is not the official release; fetch it again")


def fetch_benchmark(*, source_dir: Path | None = None, base_url: str | None = None,
                    target: Path | None = None, timeout: float = 60.0) -> Path:
    """Install the three official files into ``target`` (default: the cache) and verify them.

    ``source_dir`` copies a local folder instead of downloading. Files land under a temporary
    name and are renamed only once their checksum matches, so an interrupted fetch never
    leaves a half-written benchmark behind.
    """
    target = target or cached_benchmark_dir()
    target.mkdir(parents=True, exist_ok=True)
    base_url = (base_url or os.environ.get("MICROVERSE_BENCH_URL") or DEFAULT_BASE_URL).rstrip("/")
    for name in OFFICIAL_FILES:
        final = target / name
        if final.is_file() and sha256_of(final) == OFFICIAL_SHA256[name]:
            continue
        handle, temp_name = tempfile.mkstemp(dir=target, prefix=f".{name}.")
        os.close(handle)
        temp = Path(temp_name)
        try:
            if source_dir is not None:
                source = Path(source_dir) / name
                if not source.is_file():
                    raise MicroverseError("file not found", file=str(source),
                                          fix=f"--from must be a folder holding {', '.join(OFFICIAL_FILES)}")
                shutil.copyfile(source, temp)
            else:
                _download(f"{base_url}/{name}", temp, timeout)
            _check(temp, name)
            os.replace(temp, final)
        finally:
            temp.unlink(missing_ok=True)
    return target


def _download(url: str, dest: Path, timeout: float) -> None:
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as out:
            for block in iter(lambda: response.read(1 << 16), b""):
                digest.update(block)
                out.write(block)
    except urllib.error.HTTPError as exc:
        raise MicroverseError(f"download failed with HTTP {exc.code}", file=url,
                              fix="check the URL, or use `microverse bench fetch --from DIR`") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise MicroverseError(f"download failed: {reason}", file=url,
                              fix="check your connection, or use `microverse bench fetch --from DIR` "
                                  "with a local copy, or pass --benchmark PATH") from None
