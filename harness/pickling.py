"""Pickling for the model's most numerous records, used by the workspace cache.

A frozen slotted dataclass unpickles through dataclasses' `__setstate__`, a
Python loop over its fields with one `object.__setattr__` each. Rebuilding it
through its constructor instead is about a third faster for the whole
workspace, and a large workspace holds one Step and one Location per recorded
call.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def pickled_by_fields(cls: type[T]) -> type[T]:
    """Class decorator (above @dataclass): pickle instances as their constructor's arguments."""
    names = tuple(field.name for field in fields(cls))  # type: ignore[arg-type]  # a dataclass

    def __reduce__(self: Any) -> tuple[type[Any], tuple[Any, ...]]:
        return type(self), tuple([getattr(self, name) for name in names])

    cls.__reduce__ = __reduce__  # type: ignore[method-assign]
    return cls
