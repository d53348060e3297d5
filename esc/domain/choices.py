"""A value outside its choices: the one way esc says so, with "did you mean" (difflib)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["did_you_mean", "unknown_choice"]


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or nothing."""
    import difflib  # (only for a wrong value: not on every run)

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_choice(what: str, value: object, choices: Sequence[object]) -> str:
    """``unknown priority 'urgnet' (did you mean 'urgent'?); choose from low, normal, ...``"""
    texts = [str(choice) for choice in choices]
    shown = repr(value) if isinstance(value, str) else str(value)
    hint = did_you_mean(str(value), texts)
    return f"unknown {what} {shown}{hint}; choose from {', '.join(texts) or 'none'}"
