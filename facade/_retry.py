"""Retries owned by the facade, the same for every backend.

Only errors marked ``retryable`` are retried: rate limits, a busy or failing
console, and transport failures. Pauses grow exponentially with jitter up to a
cap, a ``Retry-After`` the console sent is honoured, and no pause runs past the
overall deadline. Each attempt goes back through the backend, so it is signed
afresh. The official SDK's own retries are never switched on.

Creating an export is not idempotent, so it is retried only when the console
cannot have executed it: the console refused it as rate limited, or the
connection failed before the request was sent.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from facade._errors import (
    FacadeError,
    InvalidInputError,
    RateLimitedError,
    TransportError,
)

__all__ = ["Retrier", "RetryPolicy", "not_executed"]

logger = logging.getLogger("facade.retry")


@dataclass(frozen=True)
class RetryPolicy:
    """How a client retries a failed console call.

    ``max_attempts`` counts the first try (1 turns retries off); the pause
    before retry *n* is ``backoff * 2**(n-1)`` capped at ``max_backoff``, of
    which a random ``jitter`` fraction is taken off; ``deadline`` bounds the
    seconds from the first attempt after which no retry starts.
    """

    max_attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    jitter: float = 0.5
    deadline: float = 60.0

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_attempts, bool)
            or not isinstance(self.max_attempts, int)
            or not 1 <= self.max_attempts <= 100
        ):
            raise InvalidInputError(
                f"max_attempts must be an int from 1 to 100, got {self.max_attempts!r}",
                parameter="max_attempts",
            )
        for name in ("backoff", "max_backoff", "deadline"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (math.isfinite(value) and value >= 0)
            ):
                raise InvalidInputError(
                    f"{name} must be a finite number of seconds >= 0, got {value!r}",
                    parameter=name,
                )
        if (
            isinstance(self.jitter, bool)
            or not isinstance(self.jitter, int | float)
            or not 0 <= self.jitter <= 1
        ):
            raise InvalidInputError(
                f"jitter must be a fraction from 0 to 1, got {self.jitter!r}",
                parameter="jitter",
            )

    @classmethod
    def off(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)


def not_executed(error: FacadeError) -> bool:
    """True when the console cannot have acted on the failed request."""
    if isinstance(error, RateLimitedError):
        return True
    return isinstance(error, TransportError) and error.request_sent is False


class Retrier:
    """The decisions of one call's retries, shared by the sync and async clients."""

    def __init__(
        self,
        policy: RetryPolicy,
        clock: Callable[[], float],
        *,
        idempotent: bool,
        describe: str,
        rng: random.Random | None = None,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._started = clock()
        self._idempotent = idempotent
        self._describe = describe
        self._rng = rng or random.Random()
        self.attempt = 1

    def pause_after(self, error: FacadeError) -> float | None:
        """The seconds to wait before the next attempt, or ``None`` to give up."""
        if not error.retryable or self.attempt >= self._policy.max_attempts:
            return None
        if not self._idempotent and not not_executed(error):
            return None
        base = min(
            self._policy.max_backoff, self._policy.backoff * 2.0 ** (self.attempt - 1)
        )
        pause = base * (1 - self._policy.jitter * self._rng.random())
        retry_after: float | None = getattr(error, "retry_after", None)
        if retry_after is not None:
            pause = max(pause, retry_after)
        remaining = self._policy.deadline - (self._clock() - self._started)
        if pause >= remaining:
            logger.debug(
                "not retrying %s: a %.2fs pause would pass the %.1fs deadline",
                self._describe,
                pause,
                self._policy.deadline,
            )
            return None
        self.attempt += 1
        logger.debug(
            "retrying %s after %s (attempt %d of %d) in %.2fs",
            self._describe,
            type(error).__name__,
            self.attempt,
            self._policy.max_attempts,
            pause,
        )
        return pause
