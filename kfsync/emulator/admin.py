"""`EmulatorAdmin`: a thin HTTP client of an emulator's generic admin API (tests, demo, scripts).

A provider's emulator adds its own calls (seeding, invitations) in a subclass.

Each call is one short `requests` exchange on its own connection, so an
`EmulatorAdmin` holds no resources and needs no closing.
"""

from __future__ import annotations

from typing import Any

from kfsync.emulator.exceptions import EmulatorAdminError

ADMIN_PREFIX = "/_emulator/"


class EmulatorAdmin:
    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        import requests

        url = f"{self.base_url}{ADMIN_PREFIX}{path}"
        try:
            response = requests.request(method, url, json=payload, timeout=self.timeout)
            body = response.json()
        except requests.RequestException as exc:
            raise EmulatorAdminError(f"emulator admin API at {url}: {exc}") from exc
        except ValueError as exc:
            raise EmulatorAdminError(f"emulator admin API at {url}: not a JSON answer") from exc
        if response.status_code != 200:
            error = body.get("error") if isinstance(body, dict) else body
            raise EmulatorAdminError(f"emulator admin {path} refused "
                                     f"(HTTP {response.status_code}): {error}")
        return body

    def reset(self) -> None:
        """Empty the state (the API's, the faults and the log); the clock stays."""
        self._call("POST", "reset")

    def advance_clock(self, seconds: int) -> int:
        """Move the emulator clock forward; returns the new emulator time."""
        now: int = self._call("POST", "clock", {"advance": seconds})["now"]
        return now

    def freeze_clock(self, frozen: bool = True) -> int:
        """Stop the emulator clock (it then moves only when advanced), or restart it."""
        now: int = self._call("POST", "clock", {"freeze": frozen})["now"]
        return now

    def fault(self, path: str, count: int = 1, *, errcode: int | None = None,
              http_status: int | None = None, drop: str | None = None,
              latency_ms: int | None = None) -> None:
        """Queue a fault for the next `count` requests to `path` ("*" = any API route)."""
        kinds = {"errcode": errcode, "http_status": http_status, "drop": drop,
                 "latency_ms": latency_ms}
        payload: dict[str, Any] = {"path": path, "count": count}
        payload.update((k, v) for k, v in kinds.items() if v is not None)
        self._call("POST", "faults", payload)

    def random_faults(self, path: str = "*", *, rate: float, seed: int = 0,
                      kinds: list[str] | None = None) -> None:
        """Fault a share `rate` of the requests to `path`, reproducibly from `seed`; rate 0 stops.

        `kinds` are labels such as `errcode:-1`, `http_status:502`, `drop:after`
        (default: -1, 45011, 502, drop before and drop after).
        """
        payload: dict[str, Any] = {"path": path, "rate": rate, "seed": seed}
        if kinds is not None:
            payload["kinds"] = kinds
        self._call("POST", "faults", payload)

    def requests(self) -> list[dict[str, Any]]:
        """The API-side request log, oldest first, with the token and secret masked."""
        entries: list[dict[str, Any]] = self._call("GET", "requests")["requests"]
        return entries

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self._call("GET", "state")
        return state

    def now(self) -> int:
        """The emulator clock."""
        now: int = self.state()["now"]
        return now
