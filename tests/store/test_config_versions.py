"""The configurations sweeps ran under, kept by version in .esc-cache/configs."""

from __future__ import annotations

from pathlib import Path

from esc.store import config_versions


def test_texts_are_kept_once_and_read_back(tmp_path: Path) -> None:
    config_versions.remember(tmp_path, "0123abcd", ("teams: x\n", "rules: é\n"))
    path = tmp_path / ".esc-cache" / "configs" / "0123abcd.json"
    written = path.read_bytes()
    config_versions.remember(tmp_path, "0123abcd", ("other\n", "other\n"))  # (kept already)
    assert path.read_bytes() == written
    assert config_versions.recall(tmp_path, "0123abcd") == ("teams: x\n", "rules: é\n")
    assert config_versions.recall(tmp_path, "99999999") is None


def test_a_version_read_from_a_ticket_never_names_a_path_of_its_own(tmp_path: Path) -> None:
    """`sla.rules` is a value from a file: only eight hex digits name a file here."""
    for version in ("../../x", "/etc/passwd", "0123ABCD", "0123abcd0", ""):
        config_versions.remember(tmp_path, version, ("a", "b"))
        assert config_versions.recall(tmp_path, version) is None
    assert not (tmp_path / ".esc-cache").exists()


def test_a_kept_file_that_is_not_what_esc_wrote_is_not_used(tmp_path: Path) -> None:
    folder = tmp_path / ".esc-cache" / "configs"
    folder.mkdir(parents=True)
    for text in ("{", "[]", '{"version": "0123abcd", "teams.yaml": 1, "rules.yaml": ""}',
                 '{"version": "ffffffff", "teams.yaml": "", "rules.yaml": ""}'):  # fmt: skip
        (folder / "0123abcd.json").write_text(text)
        assert config_versions.recall(tmp_path, "0123abcd") is None
