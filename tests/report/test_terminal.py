"""printable: what esc prints for a person carries no control character from a file."""

from __future__ import annotations

import pytest

from esc.report.terminal import columns, cut_to, printable, style

CONTROLS = "".join(map(chr, [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)]))
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b]0;pwned\x07Title", "\\x1b]0;pwned\\x07Title"),  # OSC: a window title
        ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),  # CSI: clear the screen
        ("\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\", (
            "\\x1b]8;;http://evil.example\\x1b\\click\\x1b]8;;\\x1b\\"  # a hyperlink
        )),
        ("\x9b31mred", "\\x9b31mred"),  # a C1 CSI on its own
        ("a\x7fb\x00c\rd\x08", "a\\x7fb\\x00c\\rd\\x08"),
        ("invoice\u202egpj.exe", "invoice\\u202egpj.exe"),  # bidi override
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),  # line/paragraph separators
        ("at \ud800 and \udcff", "at \\ud800 and \\udcff"),  # a lone surrogate: no character
        ("line one\nline two\tcolumn", "line one\nline two\tcolumn"),  # layout stays
        ("Zahlung – 39 € • 東京 \u200f", "Zahlung – 39 € • 東京 \u200f"),  # RLM is kept
    ],
)
def test_printable_escapes_each_control_character_visibly(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_no_control_character_survives() -> None:
    shown = printable(CONTROLS + BIDI, one_line=True)
    assert all(c.isprintable() for c in shown), shown
    assert printable(CONTROLS + BIDI).replace("\t", "").isprintable()
    assert printable(shown) == shown  # escaping twice changes nothing more


def test_one_line_escapes_line_breaks_and_tabs_too() -> None:
    assert printable("a\nb\tc\r", one_line=True) == "a\\nb\\tc\\r"


def test_esc_s_own_colours_are_kept_and_a_file_cannot_forge_them() -> None:
    red = f"{style('31')}urgent{style('0')}"
    assert printable(red) == "\x1b[31murgent\x1b[0m"
    assert printable(printable(red, one_line=True)) == "\x1b[31murgent\x1b[0m"
    forged = "\x00deadbeefdeadbeef:2J\x00"  # a marker without this run's token
    assert printable(forged) == "\\x00deadbeefdeadbeef:2J\\x00"


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("plain", 5),
        ("日本語", 6),  # wide: two columns each
        ("🔥 fire", 7),
        ("e\u0301t\u00e9", 3),  # a combining accent takes none
        ("a\u200db", 2),  # a zero-width joiner takes none
        ("", 0),
    ],
)
def test_columns_counts_what_a_terminal_shows(text: str, width: int) -> None:
    assert columns(text) == width


@pytest.mark.parametrize(
    ("text", "most", "cut"),
    [
        ("Password reset", 10, "Password …"),
        ("Password", 10, "Password"),
        ("日本語のタイトル", 7, "日本語…"),  # 3 wide characters and the … in 7 columns
        ("日本語のタイトル", 8, "日本語…"),  # a fourth would not fit before the …
        ("日本語", 6, "日本語"),
    ],
)
def test_cut_to_keeps_within_the_columns(text: str, most: int, cut: str) -> None:
    assert cut_to(text, most) == cut
    assert columns(cut_to(text, most)) <= most
