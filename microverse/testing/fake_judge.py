"""A loopback judge for MicroWorldBench that answers like an LLM judge, or misbehaves on request.

Lets a user dry-run ``microverse eval`` end to end without an API key or network, and is the
judge of our own tests and ``benchmarks/eval_throughput.py``::

    python -m microverse.testing.fake_judge --delay 0.3      # prints its base URL, serves until Ctrl-C
    OPENAI_API_KEY=x microverse eval VIDEOS --name dry-run --base-url URL

Answers are deterministic: score *i* of a prompt is a bit of a hash of the prompt and *i*, so
two runs over the same inputs give the same store (``expected_scores`` recomputes them).

Each request takes the next *action* from ``actions`` (then ``default``); ``rule(prompt)``, if
set, is asked first. Actions: ``ok``; ``late`` / ``late:SECONDS`` (answer after ``delay_s`` or
SECONDS); ``429`` / ``429:SECONDS`` (with Retry-After); ``500``; ``413``; ``413big`` (413 while the
images exceed ``max_image_chars``); ``hang`` (never answer); ``drop`` (close the socket without a
response); ``malformed`` (200 with non-JSON text); ``wrong_count`` (one score too many);
``bad_values`` (a 2); ``echo_key`` (put the Authorization header in the answer;
``echo_key_in_errors`` puts it in every error body too); ``401``; ``reject_schema`` (400 for
response_format json_schema, else ok); ``reject_temperature``; ``empty`` (no choices); ``400`` (a
400 unrelated to the request's options).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from collections import deque
from collections.abc import Callable

from microverse.testing.fake_openai import Exchange, FakeChatServer, serve_until_interrupted

CRITERION_LINE = re.compile(r"^\s*(\d+)\. \[(positive|penalty)", re.IGNORECASE | re.MULTILINE)
USAGE = (100, 20)  # fixed token counts, so tests can check the accounting


def expected_scores(prompt: str) -> list[int]:
    """The 0/1 list the fake judge answers for ``prompt`` (one per numbered criterion line)."""
    n = len(CRITERION_LINE.findall(prompt))
    return [hashlib.sha256(f"{prompt}|{i}".encode()).digest()[0] & 1 for i in range(n)]


class FakeJudge(FakeChatServer):
    def __init__(self, *, delay_s: float = 0.0, default: str = "ok", max_image_chars: int = 10**12) -> None:
        super().__init__()
        self.delay_s = delay_s
        self.default = default
        self.max_image_chars = max_image_chars
        self.echo_key_in_errors = False
        self.actions: deque[str] = deque()
        self.rule: Callable[[str], str | None] | None = None

    def next_action(self, prompt: str) -> str:
        with self.lock:
            ruled = self.rule(prompt) if self.rule else None
            return ruled or (self.actions.popleft() if self.actions else self.default)

    def handle(self, exchange: Exchange) -> None:
        name, _, arg = self.next_action(exchange.prompt).partition(":")
        key = exchange.headers.get("authorization", "")
        fmt = (exchange.body.get("response_format") or {}).get("type")

        def fail(status: int, message: str, headers: dict[str, str] | None = None) -> None:
            exchange.error(status, f"{message} {key}" if self.echo_key_in_errors else message, headers)

        if name == "late":
            time.sleep(float(arg or self.delay_s))
        elif self.delay_s:
            time.sleep(self.delay_s)
        if name == "hang":
            time.sleep(3600)
        elif name == "drop":
            exchange.drop()
        elif name in ("401", "500", "413", "400", "429"):
            message = {"401": "invalid api key", "500": "internal error", "413": "payload too large",
                       "400": "Invalid image: the image could not be processed", "429": "rate limited"}[name]
            fail(int(name), message, {"Retry-After": arg or "0"} if name == "429" else None)
        elif name == "413big" and sum(map(len, exchange.images)) > self.max_image_chars:
            fail(413, "payload too large")
        elif name == "reject_schema" and fmt == "json_schema":
            fail(400, "response_format json_schema is not supported")
        elif name == "reject_temperature" and "temperature" in exchange.body:
            fail(400, "Unsupported value: 'temperature' does not support 0")
        elif name == "empty":
            exchange.send(200, {"id": "x", "object": "chat.completion", "model": exchange.body.get("model", "fake"),
                                "choices": []})
        elif name == "malformed":
            exchange.reply("the scores are one, zero and one", usage=USAGE)
        else:
            scores = expected_scores(exchange.prompt)
            scores = scores + [1] if name == "wrong_count" else [2] + scores[1:] if name == "bad_values" else scores
            if name == "echo_key":
                exchange.reply(f"I saw {key}. {json.dumps({'scores': scores, 'reasoning': key})}", usage=USAGE)
                return
            answer = json.dumps({"scores": scores, "reasoning": f"judged {len(exchange.images)} frames"})
            exchange.reply(answer if fmt else f"Here you go:\n```json\n{answer}\n```", usage=USAGE)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m microverse.testing.fake_judge",
                                     description="Serve a deterministic OpenAI-compatible judge on 127.0.0.1.")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--default", default="ok", help="action for every request (see the module docstring)")
    args = parser.parse_args(argv)
    serve_until_interrupted(FakeJudge(delay_s=args.delay, default=args.default))


if __name__ == "__main__":
    main()
