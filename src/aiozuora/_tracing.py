"""Spans and the Zuora-Track-Id derived from them.

Each SDK operation is an INTERNAL span; each HTTP attempt under it is a CLIENT
span with OpenTelemetry's HTTP client attributes. The track id sent to Zuora is
``{trace_id}-{span_id}`` of the operation span, so that a search for the trace
id in Zuora's logs finds every call of a traced workflow. Without a configured
tracer the same shape is made from random ids.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue
from yarl import URL

from ._track_id import current_override
from ._version import __version__

__all__ = [
    "Attempt",
    "Tracing",
    "current_track_id",
    "error_type",
    "in_operation",
    "mark_failed",
]

TRACK_ID = "zuora.track_id"
REQUEST_ID = "zuora.request_id"


@dataclass(frozen=True)
class _Operation:
    trace_part: str
    track_id: str


_operation: ContextVar[_Operation | None] = ContextVar(
    "aiozuora_operation", default=None
)


# Track ids need to be unique, not secret: like OpenTelemetry's own id
# generator, use the fast pseudo-random generator, not a system call per id.
_random_bits = random.getrandbits


def current_track_id() -> str | None:
    """The track id for a call made now: the caller's override, else the
    innermost operation's, else None (no operation is open)."""
    override = current_override()
    if override is not None:
        return override
    operation = _operation.get()
    return operation.track_id if operation is not None else None


def in_operation() -> bool:
    return _operation.get() is not None


def error_type(error: BaseException) -> str:
    """``error.type`` for an exception: its qualified class name."""
    cls = type(error)
    module = cls.__module__
    if module.startswith("aiozuora"):
        module = "aiozuora"
    return f"{module}.{cls.__qualname__}"


def _ids(span: Span, parent: Span) -> tuple[str, str] | None:
    """The span's own trace and span ids in hex, if it has its own."""
    context = span.get_span_context()
    if not context.is_valid:
        return None
    # A no-op tracer hands back the parent's context; its span id is then not
    # this operation's own, and two operations would share a track id.
    if context.span_id == parent.get_span_context().span_id:
        return None
    return (
        trace.format_trace_id(context.trace_id),
        trace.format_span_id(context.span_id),
    )


def _new_operation(span: Span, parent: Span) -> _Operation:
    ids = _ids(span, parent)
    if ids is not None:
        trace_part, span_part = ids
    else:
        outer = _operation.get()
        context = span.get_span_context()
        if context.is_valid:
            trace_part = trace.format_trace_id(context.trace_id)
        elif outer is not None:
            trace_part = outer.trace_part
        else:
            trace_part = f"{_random_bits(128):032x}"
        span_part = f"{_random_bits(64):016x}"
    return _Operation(trace_part, f"{trace_part}-{span_part}")


def _enter(span: Span, parent: Span) -> Token[Context] | None:
    """Make ``span`` the current span; returns the token to restore the context.

    A no-op tracer hands back a span that carries the parent's context: making
    it current would change nothing, so that costly switch is skipped (None).
    """
    if not span.is_recording() and (
        span.get_span_context() == parent.get_span_context()
    ):
        return None
    return otel_context.attach(trace.set_span_in_context(span))


def _leave(span: Span, entered: Token[Context] | None) -> None:
    if entered is not None:
        otel_context.detach(entered)
    span.end()


class Tracing:
    """The tracer of one client and the spans it opens."""

    def __init__(self, provider: trace.TracerProvider | None) -> None:
        # With no provider given, the global one is looked up on every span
        # through the proxy, so that one configured later is still used.
        self._tracer = trace.get_tracer(
            "aiozuora", __version__, tracer_provider=provider
        )

    @asynccontextmanager
    async def operation(
        self, name: str, attributes: Mapping[str, AttributeValue] | None = None
    ) -> AsyncIterator[Span]:
        parent = trace.get_current_span()
        span = self._tracer.start_span(
            name,
            kind=SpanKind.INTERNAL,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        )
        entered = _enter(span, parent)
        operation = _new_operation(span, parent)
        token = _operation.set(operation)
        try:
            span.set_attribute(TRACK_ID, current_override() or operation.track_id)
            yield span
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            mark_failed(span, exc)
            raise
        finally:
            _operation.reset(token)
            _leave(span, entered)

    @contextmanager
    def attempt(
        self,
        method: str,
        url: URL,
        *,
        track_id: str | None,
        attempt: int,
        name: str | None = None,
    ) -> Iterator[Attempt]:
        attributes: dict[str, AttributeValue] = {
            "http.request.method": method,
            "url.full": str(url),
            "server.address": url.host or "",
            "server.port": url.port or (443 if url.scheme == "https" else 80),
        }
        if track_id is not None:
            attributes[TRACK_ID] = track_id
        if attempt > 1:
            attributes["http.request.resend_count"] = attempt - 1
        parent = trace.get_current_span()
        span = self._tracer.start_span(
            name or method,
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        )
        entered = _enter(span, parent)
        current = Attempt(span)
        try:
            yield current
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not current.failed:
                current.fail(exc)
            raise
        finally:
            _leave(span, entered)


class Attempt:
    """The CLIENT span of one HTTP attempt."""

    def __init__(self, span: Span) -> None:
        self.span = span
        self.failed = False

    def answered(self, status: int, request_id: str | None) -> None:
        self.span.set_attribute("http.response.status_code", status)
        if request_id is not None:
            self.span.set_attribute(REQUEST_ID, request_id)

    def fail(self, error: BaseException, kind: str | None = None) -> None:
        self.failed = True
        mark_failed(self.span, error, kind)


def mark_failed(span: Span, error: BaseException, kind: str | None = None) -> None:
    """Record a failure on a span: error.type, ERROR status, the exception."""
    if not span.is_recording():
        return
    span.set_attribute("error.type", kind or error_type(error))
    span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    span.record_exception(error)
