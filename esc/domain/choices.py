"""A value outside its choices: the one way esc says so, with "did you mean" (difflib)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from esc.domain.model import one_form

__all__ = ["as_text", "did_you_mean", "folded", "shown", "swapped", "unknown_choice"]


def folded(name: str) -> str:
    """``name`` as esc compares names given with those of teams.yaml and rules.yaml: in
    any case, and in one Unicode form (NFC): `josé` typed or pasted with its accent as a
    letter of its own (NFD, as macOS writes file names) was refused, "josé is not in team
    support (…, josé)"."""
    return one_form(name).casefold()


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or nothing: the same word in
    other case, else a choice difflib finds close, else one two swapped letters away
    (``vpi`` for ``vip``, which difflib finds too far in a word of three)."""
    import difflib  # (only for a wrong value: not on every run)

    same = folded(word)  # (`SRE` for `sre`: difflib compares case too)
    close = [choice for choice in choices if folded(choice) == same][:1]
    close = close or difflib.get_close_matches(word, choices, n=1, cutoff=0.7)
    close = close or [choice for choice in choices if swapped(word, choice)][:1]
    return f" (did you mean {close[0]!r}?)" if close else ""


def letter_left_out(word: str, choice: str) -> bool:
    """Whether ``word`` is ``choice`` with one letter left out (``priorty``)."""
    if len(word) != len(choice) - 1:
        return False
    return any(choice[:i] + choice[i + 1 :] == word for i in range(len(choice)))


def swapped(word: str, choice: str) -> bool:
    """Whether ``word`` is ``choice`` with two neighbouring letters swapped."""
    if len(word) != len(choice) or word == choice:
        return False
    differ = [i for i, (a, b) in enumerate(zip(word, choice, strict=True)) if a != b]
    return (
        len(differ) == 2
        and differ[1] == differ[0] + 1
        and word[differ[0]] == choice[differ[1]]
        and word[differ[1]] == choice[differ[0]]
    )


def unknown_choice(what: str, value: object, choices: Sequence[object]) -> str:
    """``unknown priority 'urgnet' (did you mean 'urgent'?); choose from low, normal, ...``"""
    texts = [str(choice) for choice in choices]
    hint = did_you_mean(str(value), texts) if isinstance(value, (str, int)) else ""
    if not texts:  # ("choose from none": there is nothing to choose)
        return f"unknown {what} {shown(value)}; none is defined"
    return f"unknown {what} {shown(value)}{hint}; choose from {', '.join(texts)}"


def shown(value: object) -> str:
    """A value from a file as a message shows it: text quoted, a number or word as written,
    a mapping or list by its kind (never Python's own notation of it, ``{'a': 1}``)."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple, set)):
        return "a list"
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def as_text(value: object) -> str:
    """A scalar a file gives where text is wanted (a title, a customer, a tag), as the file
    spells it: ``true`` for YAML's true (not Python's ``True``), a time in ISO 8601."""
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)
