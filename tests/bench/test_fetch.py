"""Fetching the benchmark: from a loopback HTTP server or a local folder, checksums enforced."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading

import pytest
from typer.testing import CliRunner

from microverse.bench.fetch import cached_benchmark_dir, fetch_benchmark
from microverse.bench.official import OFFICIAL_FILES
from microverse.cli.app import app
from microverse.errors import MicroverseError

runner = CliRunner()


@pytest.fixture
def server(tmp_path):
    """Serve a folder on 127.0.0.1; yields (base_url, folder)."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", folder
    httpd.shutdown()


def test_fetch_over_http_into_the_cache_then_commands_use_it(official_dir, server):
    base_url, folder = server
    for name in OFFICIAL_FILES:
        shutil.copy(official_dir / name, folder / name)
    result = runner.invoke(app, ["bench", "fetch", "--base-url", base_url])
    assert result.exit_code == 0, result.output
    assert all((cached_benchmark_dir() / name).is_file() for name in OFFICIAL_FILES)
    stats = runner.invoke(app, ["bench", "stats", "--format", "json"])  # no --benchmark: the cache
    assert stats.exit_code == 0 and '"tasks": 459' in stats.stdout


def test_checksum_mismatch_installs_nothing(official_dir, server, tmp_path):
    base_url, folder = server
    for name in OFFICIAL_FILES:
        shutil.copy(official_dir / name, folder / name)
    (folder / "finaltasks.json").write_bytes((official_dir / "finaltasks.json").read_bytes() + b" ")
    target = tmp_path / "target"
    with pytest.raises(MicroverseError, match="SHA-256"):
        fetch_benchmark(base_url=base_url, target=target)
    assert not (target / "finaltasks.json").exists()
    assert not [p for p in target.iterdir() if p.name.startswith(".")]


def test_unreachable_server_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["bench", "fetch", "--base-url", "http://127.0.0.1:9", "--target", str(tmp_path)])
    assert result.exit_code == 2
    assert "download failed" in result.output and "--from" in result.output


def test_fetch_from_local_folder(official_dir, tmp_path):
    result = runner.invoke(app, ["bench", "fetch", "--from", str(official_dir)])
    assert result.exit_code == 0, result.output
    missing = runner.invoke(app, ["bench", "fetch", "--from", str(tmp_path), "--target", str(tmp_path / "t")])
    assert missing.exit_code == 2 and "--from must be a folder" in missing.output
