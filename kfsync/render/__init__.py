"""Renderers of plans and apply results: text (terminal), JSON (machines), Markdown (PRs).

`render_plan` and `render_apply` pick a renderer by the `--format` name; the
shared words, symbols and ordering live in `kfsync.render.common`.  Renderers
return whole documents ending with one newline (echo them with `nl=False`);
`progress_line` and `apply_summary` return one line without.  Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kfsync.apply import ApplyResult
from kfsync.errors import UsageError
from kfsync.plan import Output, Plan
from kfsync.render.jsondoc import (
    FORMAT_VERSION,
    apply_document,
    render_apply_json,
    render_plan_json,
)
from kfsync.render.markdown import render_plan_markdown
from kfsync.render.text import apply_summary, progress_line, render_apply_text, render_plan_text
from kfsync.render.thumbnails import PictureUrl

PLAN_FORMATS = ("text", "json", "markdown")
APPLY_FORMATS = ("text", "json")

__all__ = [
    "APPLY_FORMATS",
    "FORMAT_VERSION",
    "PLAN_FORMATS",
    "apply_document",
    "apply_summary",
    "progress_line",
    "render_apply",
    "render_apply_json",
    "render_apply_text",
    "render_plan",
    "render_plan_json",
    "render_plan_markdown",
    "render_plan_text",
]


def render_plan(
    plan: Plan, fmt: str, *, color: bool, saved: Mapping[str, Any] | None = None,
    pictures: PictureUrl | None = None,
) -> str:
    """The plan in `fmt` (one of `PLAN_FORMATS`); `saved` goes into JSON, `pictures` into Markdown."""
    if fmt == "text":
        return render_plan_text(plan, color=color)
    if fmt == "json":
        return render_plan_json(plan, saved=saved)
    if fmt == "markdown":
        return render_plan_markdown(plan, pictures=pictures)
    raise UsageError(f"unknown plan format {fmt!r}: use one of {', '.join(PLAN_FORMATS)}")


def render_apply(
    result: ApplyResult,
    fmt: str,
    *,
    verify: Plan | None,
    color: bool = False,
    outputs: Sequence[Output] = (),
    outputs_error: str | None = None,
) -> str:
    """The apply result in `fmt` (one of `APPLY_FORMATS`), with the verification plan if any.

    `outputs` are the values apply reports (e.g. contact links), `outputs_error`
    why they could not be had.
    """
    if fmt == "text":
        return render_apply_text(result, verify=verify, color=color, outputs=outputs,
                                 outputs_error=outputs_error)
    if fmt == "json":
        return render_apply_json(result, verify=verify, outputs=outputs,
                                 outputs_error=outputs_error)
    raise UsageError(f"unknown apply format {fmt!r}: use one of {', '.join(APPLY_FORMATS)}")
