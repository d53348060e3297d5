"""esc's cache in the user's home (esc.store.user_cache): where it is, and each workspace's
parsed teams.yaml and rules.yaml kept there.  Every test has its own HOME (conftest)."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest

from esc.config.loading import build_config
from esc.config.starter import RULES_YAML, TEAMS_YAML
from esc.domain.config import Finding
from esc.store.user_cache import (
    compiled_templates_dir,
    keep_configuration,
    kept_configuration,
    user_cache_dir,
)
from tests.conftest import Esc

TEXTS = (TEAMS_YAML, RULES_YAML)


def home() -> Path:
    return Path(os.environ["HOME"])


def kept_files() -> list[Path]:
    folder = home() / ".cache" / "esc" / "config"
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "ws"


# ---------------------------------------------------------------- where


def test_the_cache_is_in_the_homes_cache_folder() -> None:
    assert user_cache_dir() == home() / ".cache" / "esc"
    assert compiled_templates_dir() == home() / ".cache" / "esc" / "templates"


def test_xdg_cache_home_moves_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir() == tmp_path / "xdg" / "esc"
    assert compiled_templates_dir() == tmp_path / "xdg" / "esc" / "templates"


def test_an_empty_xdg_cache_home_is_as_if_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    assert user_cache_dir() == home() / ".cache" / "esc"


def test_a_relative_xdg_cache_home_is_as_if_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """The XDG spec: a relative path is ignored. `XDG_CACHE_HOME=relcache` named a folder
    of whatever folder esc ran in (`tickets/relcache/`), which a clone could ship with a
    parsed configuration in it, read back as esc's own (issue 20's audit)."""
    monkeypatch.setenv("XDG_CACHE_HOME", "relcache")
    assert user_cache_dir() == home() / ".cache" / "esc"


def test_without_a_home_there_is_no_cache(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)  # (as when no home is known)
    assert user_cache_dir() is None
    assert compiled_templates_dir() is None
    found = build_config(*TEXTS)
    keep_configuration(root, TEXTS, found)  # nowhere to keep it: nothing happens
    assert kept_configuration(root, TEXTS) is None


# ---------------------------------------------------------------- the kept configuration


def test_nothing_is_kept_at_first(root: Path) -> None:
    assert kept_configuration(root, TEXTS) is None


def test_a_kept_configuration_is_read_back_equal(root: Path) -> None:
    config, findings = build_config(*TEXTS)
    assert config is not None
    keep_configuration(root, TEXTS, (config, findings))
    assert len(kept_files()) == 1
    kept = kept_configuration(root, TEXTS)
    assert kept is not None
    assert kept == (config, [])
    assert kept[0] is not config  # (read back, not the same object)


def test_a_configuration_with_problems_is_kept_with_them(root: Path) -> None:
    texts = (TEAMS_YAML, RULES_YAML + "\nbogus: 1\n")
    found = build_config(*texts)
    problem = Finding("rules.yaml", len(texts[1].splitlines()), "unknown key 'bogus'")
    assert found[1] == [problem]
    keep_configuration(root, texts, found)
    assert kept_configuration(root, texts) == found
    unusable = (None, [problem])  # (a configuration esc cannot use: kept as such)
    keep_configuration(root, texts, unusable)
    assert kept_configuration(root, texts) == unusable


def test_the_kept_file_needs_no_ruamel_to_be_read(root: Path) -> None:
    """ruamel.yaml's subclasses of str, dict, list... are kept as the plain types."""
    keep_configuration(root, TEXTS, build_config(*TEXTS))
    (path,) = kept_files()
    data = path.read_bytes()
    assert b"ruamel" not in data
    _key, (config, _findings) = pickle.loads(data[32:])  # (after its sha256)
    assert config == build_config(*TEXTS)[0]


def test_changed_texts_are_parsed_afresh(root: Path) -> None:
    keep_configuration(root, TEXTS, build_config(*TEXTS))
    edited = (TEAMS_YAML, RULES_YAML.replace("first_response: 4h", "first_response: 2h"))
    assert kept_configuration(root, edited) is None
    assert kept_configuration(root, (TEAMS_YAML + " ", RULES_YAML)) is None
    assert kept_configuration(root, TEXTS) is not None


def test_keeping_new_texts_replaces_what_was_kept(root: Path) -> None:
    edited = (TEAMS_YAML, RULES_YAML.replace("first_response: 4h", "first_response: 2h"))
    keep_configuration(root, TEXTS, build_config(*TEXTS))
    keep_configuration(root, edited, build_config(*edited))
    assert len(kept_files()) == 1  # one file per workspace
    assert kept_configuration(root, TEXTS) is None
    kept = kept_configuration(root, edited)
    assert kept is not None and kept[0] is not None
    standard = next(p for p in kept[0].policies if p.name == "standard")
    assert standard.targets["first_response"].total_seconds() == 2 * 3600


def test_each_workspace_keeps_its_own(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    edited = (TEAMS_YAML, RULES_YAML + "\nbogus: 1\n")
    keep_configuration(first, TEXTS, build_config(*TEXTS))
    keep_configuration(second, edited, build_config(*edited))
    assert len(kept_files()) == 2
    assert kept_configuration(first, TEXTS) is not None
    assert kept_configuration(second, edited) is not None
    assert kept_configuration(first, edited) is None
    assert kept_configuration(tmp_path / "three", TEXTS) is None


def test_a_byte_changed_that_still_unpickles_is_not_used(root: Path) -> None:
    """A rule's name with one byte flipped still unpickles: kept, every later sweep would
    take its rules for never fired; the checksum kept with it says the file is not what
    was written."""
    keep_configuration(root, TEXTS, build_config(*TEXTS))
    (path,) = kept_files()
    data = path.read_bytes()
    assert b"breached-goes-up" in data
    path.write_bytes(data.replace(b"breached-goes-up", b"breached-goes-uq"))
    assert kept_configuration(root, TEXTS) is None


@pytest.mark.parametrize(
    "damage",
    [b"", b"not a pickle", pickle.dumps("just a string"), pickle.dumps((b"key", None, 3))],
    ids=["empty", "not-pickle", "not-a-pair", "three-items"],
)
def test_a_damaged_file_is_not_used_and_is_replaced(
    root: Path,
    damage: bytes,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    keep_configuration(root, TEXTS, build_config(*TEXTS))
    (path,) = kept_files()
    path.write_bytes(damage)
    assert kept_configuration(root, TEXTS) is None
    assert capsys.readouterr().err == ""  # quietly
    monkeypatch.setenv("ESC_DEBUG", "1")
    assert kept_configuration(root, TEXTS) is None
    err = capsys.readouterr().err
    assert err.startswith(f"esc: debug: {path}: kept configuration not used (")
    keep_configuration(root, TEXTS, build_config(*TEXTS))
    assert kept_configuration(root, TEXTS) is not None


def test_a_cache_that_cannot_be_written_is_not_kept(
    tmp_path: Path,
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # its esc/ cannot be made
    keep_configuration(root, TEXTS, build_config(*TEXTS))  # no error
    assert kept_configuration(root, TEXTS) is None
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("ESC_DEBUG", "1")
    keep_configuration(root, TEXTS, build_config(*TEXTS))
    err = capsys.readouterr().err
    assert err.startswith(f"esc: debug: {blocker}/esc/config/")
    assert ": configuration not kept (" in err


def test_the_cache_follows_xdg_cache_home(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep_configuration(root, TEXTS, build_config(*TEXTS))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert kept_configuration(root, TEXTS) is None  # another cache: nothing kept there yet
    keep_configuration(root, TEXTS, build_config(*TEXTS))
    assert len(list((tmp_path / "xdg" / "esc" / "config").iterdir())) == 1
    assert kept_configuration(root, TEXTS) is not None


BUILD = """
import sys
sys.path.insert(0, sys.argv[1])
from esc.store.user_cache import esc_build
print(esc_build().hex())
"""


def _build_of(site: Path) -> str:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-P", "-c", BUILD, str(site)], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return done.stdout.strip()


def _install(site: Path, record: bool) -> None:
    """esc's package copied to ``site`` as pip installs it (with a RECORD of each file's
    sha256 and size), or as a checkout has it (no RECORD)."""
    import base64
    import hashlib
    import shutil

    source = Path(__file__).resolve().parents[2] / "esc"
    shutil.copytree(source, site / "esc", ignore=shutil.ignore_patterns("__pycache__"))
    if not record:
        return
    lines = []
    for path in sorted((site / "esc").rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            lines.append(f"{path.relative_to(site)},sha256={digest.decode()},{len(data)}")
    info = site / "esc_helpdesk-0.1.0.dist-info"
    info.mkdir()
    (info / "RECORD").write_text("\n".join(lines) + "\n")


def _touch_all(site: Path) -> None:
    for path in (site / "esc").rglob("*.py"):
        os.utime(path, (1_800_000_000, 1_800_000_000))


def test_a_reinstall_of_the_same_esc_keeps_its_caches_an_edit_does_not(tmp_path: Path) -> None:
    """pip gives every file it installs a new time: a CI runner's fresh install, run after
    run, took each cache `actions/cache` brought back for another esc's and rebuilt it.
    An installed esc is known by what pip recorded of its files; a checkout by their times,
    so an edit there is never served another build's caches."""
    installed = tmp_path / "site"
    _install(installed, record=True)
    before = _build_of(installed)
    _touch_all(installed)
    assert _build_of(installed) == before
    with (installed / "esc" / "domain" / "plan.py").open("a") as edited:
        edited.write("\n# edited\n")
    assert _build_of(installed) != before  # (its size changed)
    checkout = tmp_path / "checkout"
    _install(checkout, record=False)
    before = _build_of(checkout)
    _touch_all(checkout)
    assert _build_of(checkout) != before


def test_an_update_of_the_time_zone_database_is_no_cached_deadline_served(
    workspace: Path, tmp_path: Path
) -> None:
    """The ticket cache kept deadlines computed under the time-zone database of its day:
    after a tzdata update (a country dropping summer time), `check` and `list` served the
    old deadlines until the cache was deleted (audit helper-416).  Simulated with
    PYTHONTZPATH, whose Europe/Berlin is Tokyo's: the cached answer is the cacheless one."""
    esc = Esc(workspace, process=True)
    esc.ok("create", "--title", "Invoice missing", "--category", "billing",
           now="2026-11-23T09:00:00+01:00")  # fmt: skip
    now = "2026-11-23T12:30:00+01:00"
    esc("check", "--format", "json", now=now)  # (the cache made under the system's zones)
    zones = tmp_path / "zones"  # (the starter's calendars' zones alone)
    (zones / "Europe").mkdir(parents=True)
    (zones / "Europe" / "Berlin").write_bytes(_zone_file("Asia/Tokyo"))
    (zones / "UTC").write_bytes(_zone_file("UTC"))
    (zones / "tzdata.zi").write_text("# version 2099z\n")  # (every release rewrites it)
    env = {"PYTHONTZPATH": str(zones)}
    cached = esc("check", "--format", "json", now=now, env=env)
    shutil.rmtree(workspace / ".esc-cache")
    fresh = esc("check", "--format", "json", now=now, env=env)
    assert (cached.code, cached.out) == (fresh.code, fresh.out)
    unmoved = esc("check", "--format", "json", now=now)  # (Berlin's own: another answer)
    assert unmoved.out != fresh.out


def test_a_zone_a_time_zone_database_update_adds_is_known_at_once(
    workspace: Path, tmp_path: Path
) -> None:
    """The kept configuration was keyed by the files' text alone: a zone rules.yaml named
    before a tzdata update added it stayed "unknown time zone" on every command after the
    update, until the cache was deleted (audit helper-451)."""
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text().replace("timezone: UTC", "timezone: Antarctica/Base", 1))
    old, new = tmp_path / "old", tmp_path / "new"
    for zones, extra in ((old, False), (new, True)):
        (zones / "Europe").mkdir(parents=True)
        (zones / "Europe" / "Berlin").write_bytes(_zone_file("Europe/Berlin"))
        (zones / "UTC").write_bytes(_zone_file("UTC"))
        (zones / "tzdata.zi").write_text(f"# version {'2099b' if extra else '2099a'}\n")
        if extra:
            (zones / "Antarctica").mkdir()
            (zones / "Antarctica" / "Base").write_bytes(_zone_file("UTC"))
    esc = Esc(workspace, process=True)
    before = esc("list", env={"PYTHONTZPATH": str(old)})
    assert before.code == 1 and 'unknown time zone "Antarctica/Base"' in before.err
    after = esc("list", env={"PYTHONTZPATH": str(new)})
    assert after.code == 0, after.err


def _zone_file(name: str) -> bytes:
    """The TZif data of zone ``name``, where Python's zoneinfo finds it."""
    import zoneinfo
    from importlib import resources

    for folder in zoneinfo.TZPATH:
        path = Path(folder, name)
        if path.is_file():
            return path.read_bytes()
    return resources.files("tzdata.zoneinfo").joinpath(name).read_bytes()
