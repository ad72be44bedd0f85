"""Which failures are worth retrying (rate limits, timeouts, 5xx, lost connections) and when."""

from __future__ import annotations

import email.utils
import random
import time
from typing import Any

__all__ = ("is_transient", "retry_after", "backoff_delay", "TRANSIENT_STATUS_CODES")

TRANSIENT_STATUS_CODES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
# Class names (anywhere in the MRO) that SDKs use for transient failures: openai, anthropic,
# httpx, requests, litellm, google-api-core, botocore.
_TRANSIENT_NAMES = frozenset(
    {
        "RateLimitError",
        "APITimeoutError",
        "APIConnectionError",
        "InternalServerError",
        "ServiceUnavailableError",
        "OverloadedError",
        "TooManyRequests",
        "ThrottlingException",
        "TimeoutException",
        "ConnectTimeout",
        "ReadTimeout",
        "ConnectError",
        "ReadError",
        "RemoteProtocolError",
        "Timeout",
        "ConnectionError",
        "TimeoutError",
    }
)


def _status(exc: BaseException) -> int | None:
    for holder in (exc, getattr(exc, "response", None)):
        for attr in ("status_code", "status"):
            value = getattr(holder, attr, None)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    return None


def is_transient(exc: BaseException) -> bool:
    """A rate limit, a timeout, a 5xx or a lost connection: the same call may well succeed later."""
    if any(cls.__name__ in _TRANSIENT_NAMES for cls in type(exc).__mro__):
        return True
    status = _status(exc)
    return status in TRANSIENT_STATUS_CODES


def _headers(exc: BaseException) -> Any:
    response = getattr(exc, "response", None)
    return getattr(response, "headers", None) or getattr(exc, "headers", None)


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked to wait (``Retry-After``/``retry-after-ms``), if it said."""
    headers = _headers(exc)
    if headers is None or not hasattr(headers, "get"):
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return None if parsed is None else max(0.0, parsed.timestamp() - time.time())


def backoff_delay(
    exc: BaseException, attempt: int, *, base: float = 0.5, cap: float = 20.0
) -> float:
    """The server's ``Retry-After`` when given (up to ``cap``), else jittered exponential backoff."""
    asked = retry_after(exc)
    if asked is not None:
        return min(cap, asked)
    return min(cap, base * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5)
