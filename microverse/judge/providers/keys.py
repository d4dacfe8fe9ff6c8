"""The API key: read from the environment only, and scrubbed from any text we keep or show."""

from __future__ import annotations

import os

from microverse.errors import MicroverseError

API_KEY_ENV = "OPENAI_API_KEY"


def api_key_from_env() -> str:
    key = os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise MicroverseError(f"{API_KEY_ENV} is not set",
                              fix=f"export {API_KEY_ENV}=...; a local server without authentication "
                                  f"accepts any value, e.g. {API_KEY_ENV}=local")
    return key


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of the secret replaced, for anything stored, logged or raised."""
    if not secret or not text:
        return text
    return text.replace(secret, "***")
