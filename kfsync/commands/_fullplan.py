"""Where CI keeps the full plan, for the pointer a cut pull-request comment ends with.

The Markdown renderer never reads the environment; `plan` works the place out
here and passes it on.  GitHub Actions shows the step summary (the whole plan,
see `STEP_SUMMARY_CHARS`) and the artifacts on the run's page; GitLab keeps
them with the job.
"""

from __future__ import annotations

from collections.abc import Mapping

from kfsync.render.markdown import FullPlan

#: GitHub shows up to 1 MiB of step summary per step: room for the plan a comment cannot hold.
STEP_SUMMARY_CHARS = 250_000


def full_plan_location(environ: Mapping[str, str]) -> FullPlan | None:
    """The run or job page holding the full plan; None outside GitHub Actions and GitLab CI."""
    if environ.get("GITHUB_ACTIONS") == "true":
        where = "the step summary and artifacts of this workflow run"
        parts = [environ.get(name, "") for name in
                 ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
        return FullPlan(where, "/".join((parts[0].rstrip("/"), parts[1], "actions/runs", parts[2]))
                        if all(parts) else "")
    if environ.get("GITLAB_CI") == "true":
        job = environ.get("CI_JOB_URL", "").rstrip("/")
        return FullPlan("the artifacts of this job", f"{job}/artifacts/browse" if job else "")
    return None
