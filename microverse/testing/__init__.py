"""Test doubles and synthetic inputs, shipped so users can dry-run their own pipelines offline.

In the spirit of diffusers' testing utilities and inspect_ai's ``mockllm``: the same fakes our
test suite and benchmarks use, importable from an installed MicroVerse.

- :mod:`microverse.testing.videos` — synthetic videos with known cuts, letterbox bars,
  burned-in subtitles and stills (``Scene``, ``make_video``, ``make_audio_only``, ``make_tinted``).
- :mod:`microverse.testing.fake_openai` — ``FakeChatServer``: a real OpenAI-compatible
  chat-completions server on 127.0.0.1 whose answers a Python function decides;
  ``python -m microverse.testing.fake_openai --words 150`` serves one fixed answer (a caption).
- :mod:`microverse.testing.fake_judge` — ``FakeJudge``: a deterministic loopback judge that can
  also misbehave (429, 500, 413, hangs, dropped sockets, malformed answers);
  ``python -m microverse.testing.fake_judge`` serves one for a dry run of ``microverse eval``.
- :mod:`microverse.testing.benchmark` — ``tiny_benchmark``: a small synthetic MicroWorldBench.
- :mod:`microverse.testing.studies` — inputs for human studies and benchmark builds (a small
  benchmark with HTML in its texts, video folders, a build database with drafted rubrics).

This package sits above the rest (it may import ``microverse.bench``; nothing in ``microverse``
imports it) and imports nothing heavy itself: no torch, and PyAV only when a video is made.
Import the submodules you need.
"""
