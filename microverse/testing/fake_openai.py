"""A real OpenAI-compatible chat-completions server on 127.0.0.1 whose answers Python code decides.

Test doubles for everything in MicroVerse that talks to an LLM (the judge, captions, task
building): the code under test uses the real ``openai`` client over a real socket, so
retries, timeouts, dropped connections and HTTP errors are exercised as in production.
Written by hand on the standard library's ``http.server`` because a fake must also misbehave
at the HTTP level (hang, drop the socket, 413, Retry-After), which mocks of the client cannot.

    with FakeChatServer(lambda prompt: "a caption") as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="x")

Subclasses override :meth:`FakeChatServer.handle` to answer each :class:`Exchange` their way.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # the default backlog of 5 drops SYNs when 100 clients connect at once

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):  # a client that left
            super().handle_error(request, client_address)


class Exchange:
    """One chat-completions request as the server received it, and the ways to answer it."""

    def __init__(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        self._handler = handler
        self.body = body
        self.headers = {k.lower(): v for k, v in handler.headers.items()}
        content = body["messages"][-1]["content"] if body.get("messages") else ""
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        self.prompt = " ".join(p["text"] for p in parts if p.get("type") == "text")  # the last message's text
        self.images = [p["image_url"]["url"] for p in parts if p.get("type") == "image_url"]

    def reply(self, text: str, *, usage: tuple[int, int] | None = None, model: str | None = None) -> None:
        """A 200 completion with ``text``; ``usage`` = (prompt, completion) tokens, else ~4 characters a token.

        ``model`` is the model the answer claims to come from (default: the one asked for); real
        servers often name a dated version, which is what callers should record.
        """
        prompt_tokens, completion_tokens = usage or (len(self.prompt) // 4, len(text) // 4)
        self.send(200, {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": model or self.body.get("model", "fake"),
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}})

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self.send(status, {"error": {"message": message, "type": "fake", "code": status}}, headers)

    def send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self._handler.send_response(status)
        self._handler.send_header("content-type", "application/json")
        self._handler.send_header("content-length", str(len(data)))
        for key, value in (headers or {}).items():
            self._handler.send_header(key, value)
        self._handler.end_headers()
        self._handler.wfile.write(data)

    def drop(self) -> None:
        """Close the socket without any response (a crashed or restarted server)."""
        self._handler.close_connection = True
        self._handler.connection.shutdown(2)


class FakeChatServer:
    """Serves ``POST /v1/chat/completions`` on a free port of 127.0.0.1 while used as a context manager.

    ``respond(prompt)`` returns the answer text, or an int HTTP status to fail with. Every request
    body is kept in ``requests`` (headers in ``headers``); ``max_in_flight`` is the most requests
    served at once.
    """

    def __init__(self, respond: Callable[[str], str | int] | None = None) -> None:
        self.respond = respond
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, exchange: Exchange) -> None:
        """Answer one request (called on the request's own thread, after it was recorded)."""
        answer = self.respond(exchange.prompt) if self.respond else "ok"
        if isinstance(answer, int):
            exchange.error(answer, f"status {answer}")
        else:
            exchange.reply(answer)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", 0))
                exchange = Exchange(self, json.loads(self.rfile.read(length) or b"{}"))
                with fake.lock:
                    fake.requests.append(exchange.body)
                    fake.headers.append(exchange.headers)
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    fake.handle(exchange)
                finally:
                    with fake.lock:
                        fake.in_flight -= 1

        return Handler


def main(argv: list[str] | None = None) -> None:
    """Serve one fixed answer (e.g. a caption of ``--words`` words) until Ctrl-C; prints the base URL."""
    import argparse
    from itertools import cycle, islice

    parser = argparse.ArgumentParser(prog="python -m microverse.testing.fake_openai",
                                     description="Serve an OpenAI-compatible chat endpoint on 127.0.0.1 that "
                                                 "answers every request with the same text.")
    parser.add_argument("--reply", default="A synthetic clip: cells drift across a textured field.",
                        help="the answer text")
    parser.add_argument("--words", type=int, default=0, help="repeat the reply's words up to this many (0: as is)")
    args = parser.parse_args(argv)
    text = " ".join(islice(cycle(args.reply.split()), args.words)) if args.words else args.reply
    serve_until_interrupted(FakeChatServer(lambda prompt: text))


def serve_until_interrupted(server: FakeChatServer) -> None:
    """Print the server's base URL (for ``--base-url``) and serve until Ctrl-C."""
    with server:
        print(server.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
