"""The JSON renderers: a plan (the plan document) and an apply result.

The plan document itself, writing and reading, is `kfsync.planfile.document`;
the apply document embeds the verification plan as a plan document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from kfsync.apply import ApplyResult
from kfsync.plan import Output, Plan
from kfsync.planfile.document import FORMAT_VERSION, plan_document
from kfsync.textsafe import json_escapes

__all__ = ["FORMAT_VERSION", "apply_document", "dumps", "render_apply_json", "render_plan_json"]


def apply_document(
    result: ApplyResult,
    *,
    verify: Plan | None,
    outputs: Sequence[Output] = (),
    outputs_error: str | None = None,
) -> dict[str, Any]:
    """The apply document: every outcome, the counts, and the verification plan if any.

    The outputs with their values, and why they could not be had, are there
    when there are some (as in the plan document).
    """
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "outcomes": [o.to_dict() for o in result.outcomes],
        "counts": result.counts(),
        "complete": result.complete,
        "stopped": result.stopped,
        "interrupted": result.interrupted,
        "verify": plan_document(verify) if verify is not None else None,
    }
    if outputs:
        doc["outputs"] = [o.to_dict() for o in outputs]
    if outputs_error is not None:
        doc["outputs_error"] = outputs_error
    return doc


def dumps(doc: Mapping[str, Any]) -> str:
    """Indented UTF-8 JSON (no `\\u` escapes for CJK nicknames), ending with a newline.

    A lone surrogate (in a file name, say) stays the JSON escape it was, so that the
    document can always be written.
    """
    return json_escapes(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"


def render_plan_json(plan: Plan, *, saved: Mapping[str, Any] | None = None) -> str:
    return dumps(plan_document(plan, saved=saved))


def render_apply_json(
    result: ApplyResult,
    *,
    verify: Plan | None,
    outputs: Sequence[Output] = (),
    outputs_error: str | None = None,
) -> str:
    return dumps(apply_document(result, verify=verify, outputs=outputs,
                                outputs_error=outputs_error))
