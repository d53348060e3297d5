"""The configurations sweeps ran under, kept by version in .esc-cache/configs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from esc.store import config_versions

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def test_texts_are_kept_once_and_read_back(tmp_path: Path) -> None:
    config_versions.remember(tmp_path, "0123abcd", ("teams: x\n", "rules: é\n"), NOW)
    path = tmp_path / ".esc-cache" / "configs" / "0123abcd.json"
    written = path.read_bytes()
    later = NOW + dt.timedelta(hours=1)
    config_versions.remember(tmp_path, "0123abcd", ("other\n", "other\n"), later)  # (kept)
    assert path.read_bytes() == written
    assert config_versions.recall(tmp_path, "0123abcd") == ("teams: x\n", "rules: é\n")
    assert config_versions.recall(tmp_path, "99999999") is None
    # (the sweeps' own since the first sweep under it; another version, from its own)
    assert config_versions.current(tmp_path) == ("0123abcd", NOW, None)
    config_versions.remember(tmp_path, "0123abce", ("t", "r"), later)
    assert config_versions.current(tmp_path) == ("0123abce", later, "0123abcd")


def test_a_version_read_from_a_ticket_never_names_a_path_of_its_own(tmp_path: Path) -> None:
    """`sla.rules` is a value from a file: only eight hex digits name a file here."""
    for version in ("../../x", "/etc/passwd", "0123ABCD", "0123abcd0", ""):
        config_versions.remember(tmp_path, version, ("a", "b"), NOW)
        assert config_versions.recall(tmp_path, version) is None
    assert not (tmp_path / ".esc-cache").exists()


def test_a_kept_file_that_is_not_what_esc_wrote_is_not_used(tmp_path: Path) -> None:
    folder = tmp_path / ".esc-cache" / "configs"
    folder.mkdir(parents=True)
    for text in ("{", "[]", '{"version": "0123abcd", "teams.yaml": 1, "rules.yaml": ""}',
                 '{"version": "ffffffff", "teams.yaml": "", "rules.yaml": ""}'):  # fmt: skip
        (folder / "0123abcd.json").write_text(text)
        assert config_versions.recall(tmp_path, "0123abcd") is None


def test_cache_files_that_are_not_what_esc_wrote_are_unknown_not_a_crash(
    tmp_path: Path,
) -> None:
    """Random bytes in blocks-since, `[[[…` deep or `null` in current.json: every sweep
    ended in exit 3 (UnicodeDecodeError, RecursionError) until someone deleted the file."""
    folder = tmp_path / ".esc-cache" / "configs"
    folder.mkdir(parents=True)
    (folder / "blocks-since").write_bytes(b"\xff\xfe\x80 not text")
    assert config_versions.blocks_since(tmp_path) is None
    for text in ("[" * 100_000, "null", "1e999999", "\udcff"):
        (folder / "current.json").write_text(text, errors="surrogateescape")
        assert config_versions.current(tmp_path) == (None, None, None)
        (folder / "0123abcd.json").write_text(text, errors="surrogateescape")
        assert config_versions.recall(tmp_path, "0123abcd") is None


def test_a_blockless_ticket_may_have_been_swept_if_made_before_blocks_were_written(
    tmp_path: Path,
) -> None:
    """Since when this esc's sweeps write every active ticket a block is kept once (the
    first sweep's --now; `esc init` of an empty workspace: from the start), so that every
    attempt of a sweep, and every later one, judges a ticket alike: one created before
    then may have been swept by an older esc (no block written), one created since not."""
    from esc.config.loading import build_config
    from esc.config.starter import RULES_YAML, TEAMS_YAML
    from esc.domain.model import Ticket

    config, _ = build_config(TEAMS_YAML, RULES_YAML)
    assert config is not None

    def made(at: dt.datetime) -> Ticket:
        return Ticket(id="T-1", title="t", status="new", priority="normal", team="support",
                      created=at, updated=at)  # fmt: skip

    assert config_versions.Known(tmp_path, config, NOW).past(made(NOW)).blockless_swept
    config_versions.mark_blocks_since(tmp_path, NOW)
    config_versions.mark_blocks_since(tmp_path, NOW + dt.timedelta(days=1))  # (kept once)
    assert config_versions.blocks_since(tmp_path) == NOW
    known = config_versions.Known(tmp_path, config, NOW + dt.timedelta(days=2))
    assert known.past(made(NOW - dt.timedelta(minutes=1))).blockless_swept
    assert not known.past(made(NOW)).blockless_swept
