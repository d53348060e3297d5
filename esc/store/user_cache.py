"""esc's cache in the user's home (``$XDG_CACHE_HOME/esc``): what it derives from its own
code and a workspace's configuration, like Python's ``.pyc`` files: compiled report
templates, and each workspace's parsed teams.yaml and rules.yaml."""

from __future__ import annotations

import functools
import hashlib
import io
import os
import pickle
import warnings
from pathlib import Path
from typing import Any

from esc import __version__
from esc.domain.config import Config, Finding
from esc.store.atomic import atomic_write
from esc.store.diagnostics import fallback


class _PlainPickler(pickle.Pickler):
    """Pickles ruamel.yaml's subclasses of str, int, float, dict and list (which keep
    quoting and line numbers) as the plain types: reading the kept configuration back
    then needs no ruamel.yaml."""

    def reducer_override(self, obj: object) -> Any:
        kind = type(obj)
        if kind in _PLAIN or not kind.__module__.startswith("ruamel."):
            return NotImplemented
        if isinstance(obj, str):
            return str, (str(obj),)
        if isinstance(obj, int):
            return int, (int(obj),)
        if isinstance(obj, float):
            return float, (float(obj),)
        if isinstance(obj, dict):
            return dict, (dict(obj),)
        if isinstance(obj, list):
            return list, (list(obj),)
        return NotImplemented


_PLAIN = frozenset({str, int, float, dict, list})


@functools.cache
def zone_database() -> bytes:
    """Which time-zone database the calendars' times are computed with: each folder
    Python's zoneinfo reads zones from (its ``tzdata.zi``, which every tzdata release
    rewrites, or the folder itself), and the ``tzdata`` package it falls back to.  What
    was computed under another (a tzdata update: a country that dropped summer time) is
    not taken for this one's: deadlines cached before the update were served after it
    (audit helper-416)."""
    import zoneinfo

    parts = []
    for folder in zoneinfo.TZPATH:
        for path in (os.path.join(folder, "tzdata.zi"), folder):
            try:
                st = os.stat(path)
            except OSError:
                continue
            parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
            break
    try:
        import tzdata  # type: ignore[import-untyped, unused-ignore]

        parts.append(f"tzdata {getattr(tzdata, 'IANA_VERSION', '?')}")
    except ImportError:
        pass
    return "\0".join(parts).encode("utf-8", "surrogateescape")


@functools.cache
def esc_build() -> bytes:
    """Which esc this is: its version, where it is installed and its source files, so that
    what another esc (or an edited one: a development checkout) parsed or computed is never
    taken for this one's.  Found once a process.

    An installed esc is known by the hashes pip recorded of its files (its ``RECORD``) and
    their sizes: a reinstall of the same code, whose files pip gives new times (as a CI
    runner's fresh install does on every run), keeps the caches; a checkout (an editable
    install, which records none of them) by each file's size and time."""
    h = hashlib.blake2b(digest_size=16)
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # esc/
    h.update(f"{__version__}\0{package}\0".encode())
    recorded = _recorded_hashes(package)
    if recorded is not None:
        h.update(recorded)
    for folder, subfolders, files in os.walk(package):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".j2")):
                st = os.stat(os.path.join(folder, name))
                rel = os.path.relpath(os.path.join(folder, name), package)
                when = "" if recorded is not None else f":{st.st_mtime_ns}"
                h.update(f"{rel}:{st.st_size}{when}\0".encode())
    return h.digest()


def _recorded_hashes(package: str) -> bytes | None:
    """The lines of the installed distribution's ``RECORD`` for esc's source files (path,
    hash and size, as pip wrote them), if esc was installed so; None for a checkout."""
    parent = os.path.dirname(package)
    try:
        names = [n for n in os.listdir(parent) if n.startswith("esc_helpdesk-")]
    except OSError:
        return None
    for name in sorted(n for n in names if n.endswith(".dist-info")):
        try:
            with open(os.path.join(parent, name, "RECORD"), "rb") as record:
                lines = record.read().splitlines()
        except OSError:
            continue
        ours = sorted(
            line for line in lines
            if line.startswith(b"esc/") and line.split(b",", 1)[0].endswith((b".py", b".j2"))
        )  # fmt: skip
        if ours:
            return b"\n".join(ours)
    return None


def _config_key(texts: tuple[str, str]) -> bytes:
    """What a parsed configuration depends on: the files' text, this esc
    (:func:`esc_build`: another esc, or an edited one, parses afresh) and the time-zone
    database its calendars' zones are read from (:func:`zone_database`: a zone a tzdata
    update added stayed "unknown" until the cache was deleted; audit helper-451)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(esc_build() + f"\0{pickle.HIGHEST_PROTOCOL}\0".encode())
    h.update(zone_database() + b"\0")
    for text in texts:
        data = text.encode("utf-8")
        h.update(len(data).to_bytes(8, "little") + data)
    return h.digest()


Found = tuple[Config | None, list[Finding]]  # a configuration (None: unusable), its problems


def _kept_path(root: Path) -> Path | None:
    """Where the parsed configuration of the workspace at ``root`` is kept."""
    base = user_cache_dir()
    if base is None:
        return None
    name = hashlib.blake2b(str(root).encode(), digest_size=8).hexdigest()
    return base / "config" / f"{name}.pickle"


_CHECKSUM = 32  # bytes of sha256 before the pickle


def kept_configuration(root: Path, texts: tuple[str, str]) -> Found | None:
    """The configuration parsed from ``texts`` (teams.yaml, rules.yaml) as kept, if it is
    (None: parse it, then :func:`keep_configuration`)."""
    path = _kept_path(root)
    try:
        data = path.read_bytes() if path is not None else b""
    except OSError:
        return None
    # (a checksum of what was pickled: a flipped byte that still unpickles, a rule's name
    # changed, would make every later sweep fire its rules again)
    checksum, data = data[:_CHECKSUM], data[_CHECKSUM:]
    if hashlib.sha256(data).digest() != checksum:
        fallback(f"{path}: kept configuration not used (it is not what was written)")
        return None
    try:
        with warnings.catch_warnings():  # (a rule's regex compiled again: Python's warning
            # of one a later Python reads otherwise is said by validate, once, in one line)
            warnings.simplefilter("ignore", FutureWarning)
            kept_key, found = pickle.loads(data)
    except Exception as exc:  # anything a damaged or foreign file raises: it is replaced
        fallback(f"{path}: kept configuration not used ({type(exc).__name__}: {exc})")
        return None
    if kept_key != _config_key(texts):
        return None
    return found  # type: ignore[no-any-return]


def keep_configuration(root: Path, texts: tuple[str, str], found: Found) -> None:
    """Keep what ``texts`` parsed to (a cache that cannot be written is not kept)."""
    path = _kept_path(root)
    if path is None:
        return
    try:
        out = io.BytesIO()
        _PlainPickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump((_config_key(texts), found))
        data = out.getvalue()
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, hashlib.sha256(data).digest() + data, sync_dir=False)
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
        fallback(f"{path}: configuration not kept ({type(exc).__name__}: {exc})")


def user_cache_dir() -> Path | None:
    """esc's cache of what it derives from its own code and a workspace's configuration,
    like Python's .pyc files: ``$XDG_CACHE_HOME/esc`` (default ``~/.cache/esc``); None if
    there is no home."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(xdg):  # (a relative one is ignored, as the XDG spec says: it
        xdg = ""  # would name a folder in the workspace, which a clone could fill)
    home = os.path.expanduser("~")
    base = xdg or (os.path.join(home, ".cache") if home != "~" and os.path.isabs(home) else "")
    return Path(base, "esc") if base else None


def compiled_templates_dir() -> Path | None:
    """Where jinja keeps compiled report templates between runs (``templates`` in the
    user cache).  Jinja checks each against its source, so it is never stale."""
    base = user_cache_dir()
    return base / "templates" if base is not None else None
