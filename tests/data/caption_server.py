"""A tiny OpenAI-compatible chat server on 127.0.0.1 for caption tests.

The caption names the number of images and repeats the title it was given, padded to
``words`` words; a title containing "terse" always gets a 5-word answer (to exercise the
length check); the first ``fail_first`` requests get HTTP 500 (to exercise retries).
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class CaptionServer:
    def __init__(self, *, words: int = 150, fail_first: int = 0) -> None:
        self.words = words
        self.fail_first = fail_first
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> "CaptionServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, body: dict) -> str:
        content = body["messages"][-1]["content"]
        text = " ".join(part["text"] for part in content if part["type"] == "text")
        images = sum(part["type"] == "image_url" for part in content)
        title = re.search(r"Video Title: (.*?);", text).group(1)
        if "terse" in title:
            return "A cell divides in two."
        head = f"{images} frames show {title}."
        filler = ["detail"] * max(0, self.words - len(head.split()))
        return " ".join([head, *filler])

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.requests.append(body)
                    fail = outer.fail_first > 0
                    outer.fail_first -= 1 if fail else 0
                if fail:
                    payload, status = {"error": {"message": "try again"}}, 500
                else:
                    text = outer.answer(body)
                    status = 200
                    payload = {"id": "c1", "object": "chat.completion", "created": 0, "model": "fake-vlm-1",
                               "choices": [{"index": 0, "finish_reason": "stop",
                                            "message": {"role": "assistant", "content": text}}],
                               "usage": {"prompt_tokens": 1000, "completion_tokens": len(text.split()),
                                         "total_tokens": 1000 + len(text.split())}}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
