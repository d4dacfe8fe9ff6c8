"""A real OpenAI-compatible chat server on 127.0.0.1 that misbehaves on request.

Used by the tests and by benchmarks/eval_throughput.py (run as a script it serves until
killed and prints its base URL). Each request takes the next *action* from ``actions``
(then ``default``): ``ok``, ``late`` (answer after ``delay_s``), ``429`` / ``429:SECONDS``
(with Retry-After), ``500``, ``413``, ``413big`` (413 while images exceed ``max_image_chars``),
``hang`` (never answer), ``drop`` (close the socket without a response), ``malformed``
(200 with non-JSON text), ``wrong_count`` (one score too many), ``bad_values`` (a 2),
``echo_key`` (put the Authorization header in the answer; ``echo_key_in_errors`` puts it in
every error body too), ``401``,
``reject_schema`` (400 for response_format json_schema, else ok), ``reject_temperature``,
``empty`` (no choices), ``400`` (a 400 unrelated to the request's options).

Answers are deterministic: score *i* of a prompt is a hash of the prompt and *i*, so two
runs over the same inputs give the same store.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CRITERION_LINE = re.compile(r"^\s*(\d+)\. \[(positive|penalty)", re.IGNORECASE | re.MULTILINE)


def expected_scores(prompt: str) -> list[int]:
    n = len(CRITERION_LINE.findall(prompt))
    return [hashlib.sha256(f"{prompt}|{i}".encode()).digest()[0] & 1 for i in range(n)]


class _Server(ThreadingHTTPServer):
    request_queue_size = 512  # the default backlog of 5 drops SYNs when 100 clients connect at once

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):  # a client that left
            super().handle_error(request, client_address)


class FakeJudge:
    def __init__(self, *, delay_s: float = 0.0, default: str = "ok", max_image_chars: int = 10**12) -> None:
        self.delay_s = delay_s
        self.default = default
        self.max_image_chars = max_image_chars
        self.echo_key_in_errors = False
        self.in_flight = 0
        self.max_in_flight = 0
        self.actions: deque[str] = deque()
        self.rule = None  # optional callable(prompt) -> action or None, consulted before the queue
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> "FakeJudge":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def next_action(self, body: dict) -> str:
        with self.lock:
            self.requests.append(body)
            ruled = self.rule(body["messages"][-1]["content"][0]["text"]) if self.rule else None
            if ruled:
                return ruled
            return self.actions.popleft() if self.actions else self.default

    def _handler(self):
        judge = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with judge.lock:
                    judge.headers.append({k.lower(): v for k, v in self.headers.items()})
                    judge.in_flight += 1
                    judge.max_in_flight = max(judge.max_in_flight, judge.in_flight)
                try:
                    self._answer(body)
                finally:
                    with judge.lock:
                        judge.in_flight -= 1

            def _answer(self, body: dict) -> None:
                action = judge.next_action(body)
                name, _, arg = action.partition(":")
                prompt = body["messages"][-1]["content"][0]["text"]
                images = [p for p in body["messages"][-1]["content"] if p.get("type") == "image_url"]
                fmt = (body.get("response_format") or {}).get("type")
                if name == "late":
                    time.sleep(float(arg or judge.delay_s))
                elif judge.delay_s:
                    time.sleep(judge.delay_s)
                if name == "hang":
                    time.sleep(3600)
                    return
                if name == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if name == "401":
                    return self._error(401, "invalid api key")
                if name == "429":
                    return self._error(429, "rate limited", {"Retry-After": arg or "0"})
                if name == "500":
                    return self._error(500, "internal error")
                if name == "413":
                    return self._error(413, "payload too large")
                if name == "413big" and sum(len(p["image_url"]["url"]) for p in images) > judge.max_image_chars:
                    return self._error(413, "payload too large")
                if name == "400":
                    return self._error(400, "Invalid image: the image could not be processed")
                if name == "reject_schema" and fmt == "json_schema":
                    return self._error(400, "response_format json_schema is not supported")
                if name == "reject_temperature" and "temperature" in body:
                    return self._error(400, "Unsupported value: 'temperature' does not support 0")
                key = self.headers.get("authorization", "")
                if name == "echo_key":
                    return self._reply(f"I saw {key}. {json.dumps({'scores': expected_scores(prompt), 'reasoning': key})}")
                if name == "empty":
                    return self._send(200, {"id": "x", "object": "chat.completion", "model": body["model"],
                                            "choices": []})
                scores = expected_scores(prompt)
                if name == "malformed":
                    return self._reply("the scores are one, zero and one")
                if name == "wrong_count":
                    scores = scores + [1]
                if name == "bad_values":
                    scores = [2] + scores[1:]
                answer = json.dumps({"scores": scores, "reasoning": f"judged {len(images)} frames"})
                self._reply(answer if fmt else f"Here you go:\n```json\n{answer}\n```")

            def _reply(self, text: str) -> None:
                body = self._last_body()
                self._send(200, {
                    "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}})

            def _last_body(self) -> dict:
                with judge.lock:
                    return judge.requests[-1]

            def _error(self, status: int, message: str, headers: dict | None = None) -> None:
                if judge.echo_key_in_errors:
                    message += " " + self.headers.get("authorization", "")
                self._send(status, {"error": {"message": message, "type": "fake", "code": status}}, headers)

            def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    with FakeJudge(delay_s=args.delay) as judge:
        print(judge.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    sys.exit(main())
