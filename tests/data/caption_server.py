"""A loopback OpenAI-compatible captioner for the caption tests.

The caption names the number of images and repeats the title it was given, padded to
``words`` words; a title containing "terse" always gets a 5-word answer (to exercise the
length check); the first ``fail_first`` requests get HTTP 500 (to exercise retries).
Answers claim model ``fake-vlm-1``, a dated version of the ``fake-vlm`` asked for, as real
servers do.
"""

from __future__ import annotations

import re

from microverse.testing.fake_openai import Exchange, FakeChatServer


class CaptionServer(FakeChatServer):
    def __init__(self, *, words: int = 150, fail_first: int = 0) -> None:
        super().__init__()
        self.words = words
        self.fail_first = fail_first

    def handle(self, exchange: Exchange) -> None:
        with self.lock:
            fail = self.fail_first > 0
            self.fail_first -= fail
        if fail:
            return exchange.error(500, "try again")
        title = re.search(r"Video Title: (.*?);", exchange.prompt).group(1)
        if "terse" in title:
            text = "A cell divides in two."
        else:
            head = f"{len(exchange.images)} frames show {title}."
            text = " ".join([head, *["detail"] * max(0, self.words - len(head.split()))])
        exchange.reply(text, usage=(1000, len(text.split())), model="fake-vlm-1")
