"""A fixture body for client factories: clients made with defaults, all closed afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar


class _Closable(Protocol):
    def close(self) -> None: ...


_C = TypeVar("_C", bound=_Closable)


def closing_factory(make: Callable[..., _C], **defaults: Any) -> Iterator[Callable[..., _C]]:
    """Yield `factory(**overrides)`, which makes clients; close every one when resumed."""
    made: list[_C] = []

    def factory(**overrides: Any) -> _C:
        made.append(make(**{**defaults, **overrides}))
        return made[-1]

    yield factory
    for client in made:
        client.close()
