"""Where a cut comment sends the reader: worked out from the CI environment, per platform."""

from __future__ import annotations

import pytest

from kfsync.commands._fullplan import full_plan_location
from kfsync.render.markdown import FullPlan

GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com/",
          "GITHUB_REPOSITORY": "shop/kf", "GITHUB_RUN_ID": "1234"}


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"CI": "true"}, None),
        (GITHUB, FullPlan("the step summary and artifacts of this workflow run",
                          "https://github.com/shop/kf/actions/runs/1234")),
        ({**GITHUB, "GITHUB_RUN_ID": ""},
         FullPlan("the step summary and artifacts of this workflow run")),
        ({"GITLAB_CI": "true", "CI_JOB_URL": "https://gitlab.example/shop/kf/-/jobs/9"},
         FullPlan("the artifacts of this job",
                  "https://gitlab.example/shop/kf/-/jobs/9/artifacts/browse")),
        ({"GITLAB_CI": "true"}, FullPlan("the artifacts of this job")),
    ],
)
def test_full_plan_location(environ: dict[str, str], expected: FullPlan | None) -> None:
    assert full_plan_location(environ) == expected
