"""A chat-completions client for neighbour generation: the ``openai`` client with our retry policy.

Works with the OpenAI API and any OpenAI-compatible server (vLLM, Ollama, LM Studio): the server is
``ServerConfig.base_url``, else ``OPENAI_BASE_URL``, else the OpenAI API; the key is read from
``OPENAI_API_KEY`` (a server without keys takes any non-empty value) and kept only inside the
``openai`` client. Retries: a 408, 409, 429 or 5xx answer, a timeout or a lost connection is retried
up to ``retries`` times, waiting ``backoff_s`` doubled per try (capped at ``max_backoff_s``) or the
server's ``Retry-After`` when it sends one. The client's own retry is off (``max_retries=0``): its
first wait is a fixed 0.5 s, ours is configurable (tests use milliseconds), and one retry layer keeps
the count of tries exact. Structured output: ``response_format="auto"`` asks for the answer's JSON
schema and, if the server refuses the request (HTTP 400/422), asks for plain JSON from then on.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from sept_ray.sept.neighbors.prompt import answer_schema

log = logging.getLogger(__name__)

RESPONSE_FORMATS = ("auto", "json_schema", "none")
RETRY_STATUS = (408, 409, 429)  # and every 5xx


class ServerError(RuntimeError):
    """The server did not answer usefully (after retries, or with a status not worth retrying)."""


@dataclass(frozen=True)
class ServerConfig:
    """Which model on which server, and how patiently to ask it (seconds)."""

    model: str
    base_url: str = ""  # empty: OPENAI_BASE_URL, else the OpenAI API
    timeout_s: float = 120.0
    retries: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    response_format: str = "auto"  # auto, json_schema or none (plain JSON asked in the prompt)

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("--model: name the model to ask")
        if self.response_format not in RESPONSE_FORMATS:
            raise ValueError(
                f"response_format = {self.response_format!r}: one of {', '.join(RESPONSE_FORMATS)}"
            )
        if self.timeout_s <= 0 or self.retries < 0 or self.backoff_s < 0:
            raise ValueError("timeout must be > 0, retries and backoff >= 0")


def public_url(url: str) -> str:
    """``url`` without user, password, query or fragment: safe to print and to store."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


class ChatClient:
    """Sends chat messages, returns the answer's text; see the module docstring for the policy."""

    def __init__(self, cfg: ServerConfig) -> None:
        from openai import OpenAI

        key = os.environ.get("OPENAI_API_KEY", "")
        if not key:
            raise ValueError(
                "OPENAI_API_KEY is not set (a local server without keys takes any value, e.g. 'none')"
            )
        self.cfg = cfg
        self._secret = key
        self._client = OpenAI(
            api_key=key, base_url=cfg.base_url or None, timeout=cfg.timeout_s, max_retries=0
        )
        self.response_format = (
            "json_schema" if cfg.response_format == "auto" else cfg.response_format
        )
        self.requests = 0  # HTTP requests sent, retries included

    @property
    def server(self) -> str:
        """The server's URL as stored in provenance (no credentials)."""
        return public_url(str(self._client.base_url))

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The text of the model's answer to ``messages``; raises :class:`ServerError`."""
        import openai

        attempt = 0
        while True:
            try:
                return self._create(messages)
            except (openai.APIConnectionError, openai.APIStatusError) as exc:
                status = getattr(exc, "status_code", None)
                retryable = status is None or status in RETRY_STATUS or status >= 500
                if not retryable or attempt == self.cfg.retries:
                    tries = f" after {attempt + 1} tries" if retryable else ""
                    raise ServerError(f"{self.server}: {self.describe(exc)}{tries}") from None
                wait = self.wait_s(attempt, exc)
                log.warning(
                    "%s: %s; retry %d of %d in %.2f s",
                    self.server,
                    self.describe(exc),
                    attempt + 1,
                    self.cfg.retries,
                    wait,
                )
                time.sleep(wait)
                attempt += 1

    def _create(self, messages: list[dict[str, str]]) -> str:
        import openai

        extra = {}
        if self.response_format == "json_schema":
            schema = {"name": "neighbours", "strict": True, "schema": answer_schema()}
            extra["response_format"] = {"type": "json_schema", "json_schema": schema}
        self.requests += 1
        try:
            response = self._client.chat.completions.create(
                model=self.cfg.model, messages=messages, **extra
            )
        except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
            if self.cfg.response_format != "auto" or self.response_format != "json_schema":
                raise
            log.warning(
                "%s refused structured output (%s); asking for plain JSON from now on",
                self.server,
                self.describe(exc),
            )
            self.response_format = "none"
            return self._create(messages)
        if not response.choices:
            return ""
        return response.choices[0].message.content or ""

    def wait_s(self, attempt: int, exc: Exception) -> float:
        """Seconds before retry ``attempt + 1``: the server's Retry-After, else the backoff."""
        response = getattr(exc, "response", None)
        header = response.headers.get("retry-after") if response is not None else None
        try:
            wait = float(header) if header is not None else None
        except ValueError:
            wait = None
        if wait is None or wait < 0:
            wait = self.cfg.backoff_s * 2**attempt
        return min(wait, self.cfg.max_backoff_s)

    def describe(self, exc: Exception) -> str:
        """A one-line account of a failed request, with the API key masked wherever it appears."""
        import openai

        if isinstance(exc, openai.APITimeoutError):
            text = f"no answer within {self.cfg.timeout_s:g} s"
        elif isinstance(exc, openai.APIStatusError):
            message = str(exc.message).removeprefix(f"Error code: {exc.status_code} - ")
            text = f"HTTP {exc.status_code}: {message[:300]}"
        else:
            text = f"connection failed ({exc})"
        return text.replace(self._secret, "***")
