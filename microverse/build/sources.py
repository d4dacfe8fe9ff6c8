"""Read the video metadata a build starts from: JSON Lines, one video per line.

Each line needs a ``title``; ``description``, ``url``, ``id``, ``licence``/``license`` and
counts (``views``, ``likes``…) are optional and kept verbatim as the task's provenance. A
video is identified by ``id``, else ``url``, else a hash of title and description, so
re-reading the same file (or a longer one) adds only new videos.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from microverse.errors import MicroverseError


def source_id(record: dict[str, Any]) -> str:
    for key in ("id", "url"):
        if record.get(key):
            return str(record[key])
    digest = hashlib.sha256(f"{record.get('title', '')}\x1f{record.get('description', '')}".encode()).hexdigest()
    return f"sha256:{digest[:16]}"


def read_sources(path: Path) -> list[tuple[str, dict[str, Any]]]:
    if not path.is_file():
        raise MicroverseError("sources file not found", file=str(path),
                              fix="pass a JSONL file with one {\"title\": ..., \"description\": ...} per line")
    result: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MicroverseError(f"not JSON ({exc.msg})", file=str(path), item=f"line {number}",
                                      fix="one JSON object per line") from None
            if not isinstance(record, dict) or not str(record.get("title") or "").strip():
                raise MicroverseError("each line needs a non-empty 'title'", file=str(path), item=f"line {number}")
            sid = source_id(record)
            if sid in seen:
                raise MicroverseError(f"video {sid!r} appears twice", file=str(path), item=f"line {number}",
                                      fix="remove the duplicate line")
            seen.add(sid)
            result.append((sid, record))
    if not result:
        raise MicroverseError("no videos in file", file=str(path))
    return result
