"""Immutable records that are cheap to make: frozen for the type checker, plain at runtime.

A frozen dataclass sets each field through ``object.__setattr__`` in ``__init__``, about
four times the cost of a plain one; a cold sweep makes dozens of tickets, entries, log
lines and clocks per ticket file.  ``@immutable`` classes are dataclasses that mypy treats as
frozen (assigning to a field is a type error, so none does) and that hash by their fields
as frozen ones do, without paying for the frozen ``__init__``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

T = TypeVar("T")

# The metadata of a field a later esc added with a default that keeps what configurations
# meant before: a sweep's version of the configuration (plan.sweep_version) leaves it out
# while it holds that default, so an upgrade does not re-evaluate (and rewrite) every ticket
ADDED_WITH_DEFAULT = {"added_with_default": True}

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform

    @dataclass_transform(frozen_default=True, field_specifiers=(field,))
    def immutable(cls: type[T]) -> type[T]: ...

    @dataclass_transform(frozen_default=True, field_specifiers=(field,))
    def lean(cls: type[T]) -> type[T]: ...

else:

    def immutable(cls):
        return dataclass(cls, unsafe_hash=True)

    def lean(cls):
        """``immutable`` without a ``__dict__`` per instance (``__slots__``): for records
        a sweep keeps one or more of per ticket it rewrites until it prints them."""
        return dataclass(cls, unsafe_hash=True, slots=True)
