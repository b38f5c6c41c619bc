"""The span tree of one operation, as the demo's --trace prints it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode
from rich.tree import Tree

__all__ = ["span_json", "span_tree"]


def _hex_ids(span: ReadableSpan) -> tuple[str, str]:
    context = span.get_span_context()
    assert context is not None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def _parent_id(span: ReadableSpan) -> str | None:
    return None if span.parent is None else f"{span.parent.span_id:016x}"


def _millis(span: ReadableSpan) -> float:
    if span.start_time is None or span.end_time is None:
        return 0.0
    return (span.end_time - span.start_time) / 1e6


def _label(span: ReadableSpan) -> str:
    _, span_id = _hex_ids(span)
    attributes = span.attributes or {}
    kind = "CLIENT" if span.kind == SpanKind.CLIENT else "INTERNAL"
    text = f"[bold]{span.name}[/] [dim]{kind} span {span_id}, {_millis(span):.0f} ms[/]"
    if span.status.status_code == StatusCode.ERROR:
        text += " [red]error[/]"
    if span.kind == SpanKind.CLIENT:
        method = attributes.get("http.request.method", "?")
        path = urlsplit(str(attributes.get("url.full", ""))).path
        status = attributes.get("http.response.status_code")
        error = attributes.get("error.type")
        if status is None:
            outcome = f"→ {error or 'no answer'}"
        elif error is not None and str(error) != str(status):
            outcome = f"→ {status} ({error})"
        else:
            outcome = f"→ {status}"
        resend = attributes.get("http.request.resend_count")
        retry = f" [yellow]retry {resend}[/]" if resend else ""
        text += f"\n{method} {path} {outcome}{retry}"
    track_id = attributes.get("zuora.track_id")
    if track_id:
        text += f"\nZuora-Track-Id [cyan]{track_id}[/]"
    return text


def span_tree(spans: Sequence[ReadableSpan]) -> Tree:
    """The spans as a tree, parents above children, siblings in start order."""
    ordered = sorted(spans, key=lambda span: span.start_time or 0)
    known = {_hex_ids(span)[1] for span in ordered}
    roots = [span for span in ordered if _parent_id(span) not in known]
    trace_id = _hex_ids(roots[0])[0] if roots else "-"
    tree = Tree(f"trace [cyan]{trace_id}[/]")

    def add(node: Tree, span: ReadableSpan) -> None:
        branch = node.add(_label(span))
        _, span_id = _hex_ids(span)
        for child in ordered:
            if _parent_id(child) == span_id:
                add(branch, child)

    for root in roots:
        add(tree, root)
    return tree


def span_json(span: ReadableSpan) -> dict[str, Any]:
    trace_id, span_id = _hex_ids(span)
    attributes = span.attributes or {}
    return {
        "name": span.name,
        "kind": "CLIENT" if span.kind == SpanKind.CLIENT else "INTERNAL",
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": _parent_id(span),
        "track_id": attributes.get("zuora.track_id"),
        "http_method": attributes.get("http.request.method"),
        "url": attributes.get("url.full"),
        "status_code": attributes.get("http.response.status_code"),
        "resend_count": attributes.get("http.request.resend_count"),
        "duration_ms": round(_millis(span), 1),
    }
