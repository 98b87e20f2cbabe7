"""The `plan --comment` fixtures, defined in comment_fixtures so that mypy checks them under a unique name."""

from __future__ import annotations

from comment_fixtures import github, github_api, gitlab, gitlab_api

__all__ = ["github", "github_api", "gitlab", "gitlab_api"]
