"""Retries owned by the facade, the same for every backend.

Only errors marked ``retryable`` are retried: rate limits, a busy or failing
console, and transport failures. Pauses grow exponentially with jitter up to a
cap, a ``Retry-After`` the console sent is honoured, and no pause runs past the
overall deadline. Each attempt goes back through the backend, so it is signed
afresh. The official SDK's own retries are never switched on.

A call that may change the console (creating an export, or any
``call_action`` that is not known to only read) is retried only when the
console cannot have executed it: it refused the call as rate limited, or the
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

__all__ = [
    "DeadlineReached",
    "Retrier",
    "RetryPolicy",
    "is_read_only",
    "not_executed",
]

# Console calls are all POSTs; these name the ones that only read.
_READ_ONLY_ACTIONS = ("Describe", "Get", "List", "Query")
_READ_ONLY_ROUTE_ENDS = ("/info", "/detail", "/report", "/list")

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


def is_read_only(route: str, action: str | None) -> bool:
    """True when a console call only reads, so repeating it is harmless.

    V2 actions named ``Describe*``, ``Get*``, ``List*`` or ``Query*`` and V1
    routes ending in ``/info``, ``/detail``, ``/report`` or ``/list`` read;
    anything else may change the console and is treated as a write.
    """
    if action:
        return action.startswith(_READ_ONLY_ACTIONS)
    return route.endswith(_READ_ONLY_ROUTE_ENDS)


def not_executed(error: FacadeError) -> bool:
    """True when the console cannot have acted on the failed request."""
    if isinstance(error, RateLimitedError):
        return True
    return isinstance(error, TransportError) and error.request_sent is False


class DeadlineReached(Exception):
    """Internal: a call's caller-given deadline ended its retries.

    Raised by the clients' send loops only when the caller passed ``until``,
    so that a wait can report its own timeout; ``error`` is the last failure.
    """

    def __init__(self, error: FacadeError) -> None:
        super().__init__(str(error))
        self.error = error


class Retrier:
    """The decisions of one call's retries, shared by the sync and async clients."""

    def __init__(
        self,
        policy: RetryPolicy,
        clock: Callable[[], float],
        *,
        idempotent: bool,
        describe: str,
        until: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._started = clock()
        # No retry starts past the policy's deadline or past ``until`` (a
        # caller's own deadline on the same clock, such as a wait's).
        self._until = self._started + policy.deadline
        if until is not None:
            self._until = min(self._until, until)
        self._idempotent = idempotent
        self._describe = describe
        # The module's shared generator serves unless a test pins one; making
        # a generator per call cost a third of the facade's per-call time.
        self._rng = rng
        self.attempt = 1
        self.stopped_by_deadline = False

    def pause_after(self, error: FacadeError) -> float | None:
        """The seconds to wait before the next attempt, or ``None`` to give up."""
        if not error.retryable or self.attempt >= self._policy.max_attempts:
            return None
        if not self._idempotent and not not_executed(error):
            return None
        base = min(
            self._policy.max_backoff, self._policy.backoff * 2.0 ** (self.attempt - 1)
        )
        draw = (self._rng or random).random()
        pause = base * (1 - self._policy.jitter * draw)
        retry_after: float | None = getattr(error, "retry_after", None)
        if retry_after is not None:
            pause = max(pause, retry_after)
        remaining = self._until - self._clock()
        if pause >= remaining:
            self.stopped_by_deadline = True
            logger.debug(
                "not retrying %s: a %.2fs pause would pass the deadline",
                self._describe,
                pause,
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
