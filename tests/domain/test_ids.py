"""Ticket IDs: fresh IDs from a given source of randomness, and resolving what users type."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from esc.domain.errors import AmbiguousTicket, BadInput, TicketNotFound
from esc.domain.ids import ALPHABET, new_id, normalise_ref, resolve

IDS = ["T-4k8q2m7x", "T-4k9abcde", "T-zzzzzzzz"]


def draws(*values: int) -> Callable[[int], int]:
    """A token that returns ``values`` in turn (each repeated for a whole ID of 8 draws)."""
    stream: Iterator[int] = iter(v for v in values for _ in range(8))

    def token(n: int) -> int:
        assert n == len(ALPHABET)
        return next(stream)

    return token


# ---------------------------------------------------------------- new_id


def test_new_id_is_the_prefix_and_eight_characters_drawn_from_the_alphabet() -> None:
    assert new_id("T", [], draws(0)) == "T-00000000"
    assert new_id("OPS", [], draws(31)) == "OPS-zzzzzzzz"


def test_new_id_without_a_prefix_has_no_dash() -> None:
    assert new_id("", [], draws(10)) == "aaaaaaaa"


def test_new_id_draws_again_when_the_id_exists() -> None:
    assert new_id("T", {"T-00000000"}, draws(0, 1)) == "T-11111111"


def test_new_id_maps_each_draw_to_crockford_base32_without_misreadable_letters() -> None:
    sequence = iter(range(8, 16))
    assert new_id("T", [], lambda n: next(sequence)) == "T-89abcdef"
    assert ALPHABET == "0123456789abcdefghjkmnpqrstvwxyz"


# ---------------------------------------------------------------- normalise_ref


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("T-4K8Q", "T-4k8q"),
        ("t-4k8q", "T-4k8q"),
        ("4k8q", "T-4k8q"),
        ("  T-4k8q \n", "T-4k8q"),
        ("tickets/T-4k8q2m7x.md", "T-4k8q2m7x"),
        ("T", "T-"),
    ],
)
def test_normalise_ref_adds_the_prefix_and_lowers_the_suffix(typed: str, stored: str) -> None:
    assert normalise_ref(typed, "T") == stored


def test_normalise_ref_with_a_longer_prefix_and_with_none() -> None:
    assert normalise_ref("ops-AB12", "OPS") == "OPS-ab12"
    assert normalise_ref("AB12", "") == "ab12"


@pytest.mark.parametrize("typed", ["", "   ", ".md"])
def test_normalise_ref_refuses_an_empty_id(typed: str) -> None:
    with pytest.raises(BadInput, match=r"^empty ticket ID$"):
        normalise_ref(typed, "T")


# ---------------------------------------------------------------- resolve


def test_resolve_exact_id_in_any_case() -> None:
    assert resolve("T-4K8Q2M7X", IDS, "T") == "T-4k8q2m7x"


def test_resolve_unique_prefix_with_or_without_the_id_prefix() -> None:
    assert resolve("4k8", IDS, "T") == "T-4k8q2m7x"
    assert resolve("t-ZZ", IDS, "T") == "T-zzzzzzzz"
    assert resolve("tickets/T-zzzzzzzz.md", IDS, "T") == "T-zzzzzzzz"


def test_resolve_keeps_an_exact_id_that_is_an_extension_of_another() -> None:
    assert resolve("T-4k", [*IDS, "T-4k"], "T") == "T-4k"


def test_resolve_names_the_candidates_of_an_ambiguous_prefix() -> None:
    with pytest.raises(AmbiguousTicket) as caught:
        resolve("T-4k", IDS, "T")
    assert str(caught.value) == "ticket ID 'T-4k' is ambiguous: T-4k8q2m7x, T-4k9abcde"


def test_one_id_in_two_files_differing_in_case_is_ambiguous_however_typed() -> None:
    """T-aaaa0001.md beside t-AAAA0001.md (validate's duplicate ID): no command picks one."""
    both = [*IDS, "T-aaaa0001", "t-AAAA0001"]
    for typed in ("T-aaaa0001", "t-AAAA0001", "aaaa0001", "T-AAAA"):
        with pytest.raises(AmbiguousTicket) as caught:
            resolve(typed, both, "T")
        assert str(caught.value).endswith("is ambiguous: T-aaaa0001, t-AAAA0001")


def test_resolve_shows_at_most_ten_candidates() -> None:
    many = [f"T-a{n:02d}" for n in range(12)]
    with pytest.raises(AmbiguousTicket) as caught:
        resolve("a", many, "T")
    message = str(caught.value)
    assert message.startswith("ticket ID 'a' is ambiguous: T-a00, T-a01,")
    assert message.endswith("T-a09, ...")
    assert "T-a10" not in message


def test_resolve_the_bare_prefix_matches_every_ticket() -> None:
    assert resolve("T", ["T-4k8q2m7x"], "T") == "T-4k8q2m7x"
    with pytest.raises(AmbiguousTicket):
        resolve("T", IDS, "T")


def test_resolve_unknown_id_is_not_found() -> None:
    with pytest.raises(TicketNotFound, match=r"^no ticket 'T-q'$"):
        resolve("T-q", IDS, "T")
    with pytest.raises(TicketNotFound, match=r"^no ticket '4k8'$"):
        resolve("4k8", [], "T")


def test_resolve_an_id_made_under_another_prefix_by_its_exact_name() -> None:
    assert resolve("OPS-4k8q2m7x", [*IDS, "OPS-4k8q2m7x"], "T") == "OPS-4k8q2m7x"


def test_resolve_a_prefix_of_an_id_made_under_another_prefix() -> None:
    assert resolve("ops-4k8", [*IDS, "OPS-4k8q2m7x"], "T") == "OPS-4k8q2m7x"


def test_resolve_a_bare_suffix_of_an_id_made_under_another_prefix() -> None:
    """`zpey` for T-zpey… once rules.yaml says `id_prefix: HD`: found as it was before the
    change (an ID under the current prefix that starts so comes first)."""
    ids = ["T-zpey2k4m", "HD-4k8q2m7x"]
    assert resolve("zpey", ids, "HD") == "T-zpey2k4m"
    assert resolve("4k8", ids, "HD") == "HD-4k8q2m7x"
    assert resolve("ZPEY2K4M", ids, "HD") == "T-zpey2k4m"
    with pytest.raises(AmbiguousTicket):
        resolve("zp", ["T-zpey2k4m", "OPS-zpqq0000"], "HD")
    with pytest.raises(TicketNotFound):
        resolve("qqq", ids, "HD")


def test_an_unknown_id_names_the_ids_one_typo_away() -> None:
    """"an ambiguous or unknown one is an error naming the candidates": an unknown ID said
    only "no ticket"; now the IDs it is one typo from (a character wrong, left out, added,
    two swapped), when enough of it is typed to tell."""
    ids = ["T-ypg4a7e4", "T-ymjywb3b", "T-0nx7g2jk"]
    for typed in ("T-ypg4a7e5", "T-ypq4", "ypg4a7f", "T-pyg4a", "T-ypg4aa7e4", "T-yp4a7e4"):
        with pytest.raises(TicketNotFound) as caught:
            resolve(typed, ids, "T")
        assert str(caught.value) == f"no ticket {typed!r} (did you mean T-ypg4a7e4?)"
    with pytest.raises(TicketNotFound, match=r"^no ticket 'T-zzzz'$"):  # (nothing near)
        resolve("T-zzzz", ids, "T")
    with pytest.raises(TicketNotFound, match=r"^no ticket 'T-yq'$"):  # (too short to tell)
        resolve("T-yq", ids, "T")


def test_letters_crockford_reads_as_digits_find_the_id() -> None:
    """Crockford's base32 has no o, i or l: typed for 0 and 1 (an ID read aloud, or from a
    printout), they name the ID; an ID written by hand with those letters is found as is."""
    ids = ["T-0nx7g2jk", "T-1b2c3d4e", "T-hello123"]
    assert resolve("T-Onx7", ids, "T") == "T-0nx7g2jk"
    assert resolve("onx7g2jk", ids, "T") == "T-0nx7g2jk"
    assert resolve("T-lb2c", ids, "T") == "T-1b2c3d4e"
    assert resolve("t-IB2C3D4E", ids, "T") == "T-1b2c3d4e"
    assert resolve("T-hello", ids, "T") == "T-hello123"


def test_a_long_reference_is_cut_in_the_one_line_that_names_it() -> None:
    """A 5,000-character value made the error line 5,000 characters long."""
    ref = "T-" + "q" * 5000
    with pytest.raises(TicketNotFound) as caught:
        resolve(ref, ["T-4k8q2m7x"], "T")
    said = str(caught.value)
    assert said == f"no ticket {'T-' + 'q' * 58!r}… (5,002 characters)"
    with pytest.raises(TicketNotFound, match=r"^no ticket 'T-zzzz'$"):
        resolve("T-zzzz", ["T-4k8q2m7x"], "T")
