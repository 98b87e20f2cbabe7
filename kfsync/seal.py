"""The seal of a saved plan: an HMAC that shows a job holding the key wrote the file as it is.

A saved plan repeats what `plan()` gives for its pinned inputs, which `apply`
computes again; the one thing in it that no input gives is the consent
recorded with `plan --out --allow-delete`.  The seal is what makes that
consent (and the rest of the file) unforgeable by whoever can only edit the
file: HMAC-SHA256 over the whole document but the seal, in one canonical JSON
form, keyed by a key derived from the AppSecret (or from `KFSYNC_PLAN_KEY`,
for static token mode, which has no AppSecret) with a fixed context string.
The key is never the secret itself, and neither appears in the file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kfsync.redact import register_secret

#: the context the key is derived for: a seal key opens nothing else
CONTEXT = b"kfsync plan seal v1"
ALGORITHM = "hmac-sha256"
#: where a seal key comes from, in the order looked for
KEY_VARIABLES = ("KFSYNC_PLAN_KEY", "KFSYNC_APPSECRET")


@dataclass(frozen=True)
class SealKey:
    variable: str  #: the environment variable it was derived from, named in messages
    key: bytes = b""

    def __repr__(self) -> str:  # the key stays out of logs and tracebacks
        return f"SealKey(variable={self.variable!r})"


def seal_key(environ: Mapping[str, str] | None = None) -> SealKey | None:
    """The seal key of this job: from `KFSYNC_PLAN_KEY` if set, else from the AppSecret; None without."""
    env = os.environ if environ is None else environ
    for variable in KEY_VARIABLES:
        secret = env.get(variable)
        if secret:
            register_secret(secret)
            derived = hmac.new(secret.encode("utf-8", "surrogatepass"), CONTEXT, hashlib.sha256)
            return SealKey(variable, derived.digest())
    return None


def canonical(document: Mapping[str, Any]) -> bytes:
    """The bytes a seal covers: the document without `saved.seal`, in one JSON form."""
    unsealed = dict(document)
    saved = unsealed.get("saved")
    if isinstance(saved, Mapping):
        unsealed["saved"] = {k: v for k, v in saved.items() if k != "seal"}
    text = json.dumps(unsealed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass")


def seal(document: Mapping[str, Any], key: SealKey) -> str:
    """`hmac-sha256:<hex>` over `canonical(document)`."""
    return f"{ALGORITHM}:" + hmac.new(key.key, canonical(document), hashlib.sha256).hexdigest()


def sealed_by(document: Mapping[str, Any], key: SealKey, given: str) -> bool:
    """Whether `given` is the seal `key` makes of `document` (compared in constant time)."""
    return hmac.compare_digest(seal(document, key).encode(), given.encode("utf-8", "replace"))
