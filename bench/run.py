#!/usr/bin/env python3
"""The performance benchmark of esc: whole commands, timed as processes, on big workspaces.

    python bench/run.py [--sizes 1000,10000,100000] [--repeat 3] [--workdir DIR] [--json OUT]
                        [--rev REV | --esc-src DIR] [--rows ROW,...] [--jobs J]
                        [--shape realistic|open]

For each size N it generates (or reuses) a realistic workspace of N tickets in
DIR/ws-N (bench/generate.py), then times each command `--repeat` times as a separate
process and prints the median wall-clock time, its ratio to the floor (bench/floor.py:
read every ticket and split off its front-matter), the same ratio of CPU seconds (steadier
on a shared machine), the peak RSS and the targets.  `--shape open` uses workspaces in
which every ticket is open and was created on the day of NOW (DIR/ws-open-N).

By default it runs the `esc` installed in this venv (the working tree, installed
editable).  `--rev REV` runs esc as of a git revision instead (exported read-only with
`git archive` into DIR/src-REV and put first on PYTHONPATH); `--esc-src DIR` runs the
`esc` package found in DIR.  The workspace is generated with the same esc.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

NOW = "2026-11-27T09:00:00+01:00"
TIME_BIN = "/usr/bin/time"
MB = 1024 * 1024

# (row, size it applies to or None for every size, measure, limit, label)
RATIOS = [  # issue 19's, at 10k and 100k, each shape (to the floor of the same run)
    ("list", "ratio", 2, "≤ 2× floor"),
    ("check", "ratio", 2, "≤ 2× floor"),
    ("list-overdue", "ratio", 2, "≤ 2× floor"),
    ("sweep-warm", "ratio", 2, "≤ 2× floor"),
    ("list-json", "ratio", 3, "≤ 3× floor"),
    ("report-html", "ratio", 3, "≤ 3× floor"),
    ("validate", "ratio", 3, "≤ 3× floor"),
]
READ_ROWS = ["list", "list-overdue", "list-overdue-json", "list-json", "check", "validate",
             "report-html"]
TARGETS = [
    *((key, size, *rest) for size in (10_000, 100_000) for key, *rest in RATIOS),
    ("sweep-cold", 10_000, "ratio", 15, "≤ 15× floor"),
    ("sweep-warm", 100_000, "seconds", 5, "< 5 s"),
    # every read command < 300 MB at 100k
    *((key, 100_000, "rss_mb", 300, "< 300 MB") for key in READ_ROWS),
    ("sweep-cold", 100_000, "rss_mb", 500, "< 500 MB"),
    ("help", None, "seconds", 0.3, "< 0.3 s"),
    ("show", None, "seconds", 0.3, "< 0.3 s"),
    ("comment", None, "seconds", 0.3, "< 0.3 s"),
]

ROWS = [
    "floor", "sweep-cold", "sweep-warm", "sweep-warm-noreport", "sweep-edit-1pct", "list",
    "list-overdue", "list-overdue-json", "list-json",
    "check", "validate", "report-html", "help", "show", "comment",
]
DESCRIPTIONS = {
    "floor": "python bench/floor.py (read all, split front-matter)",
    "sweep-cold": "esc sweep, cold (no .esc-cache, pristine tickets)",
    "sweep-warm": "esc sweep, warm (right after a sweep)",
    "sweep-warm-noreport": "esc sweep --no-report, warm",
    "sweep-edit-1pct": "esc sweep, warm, 1% of tickets edited",
    "list": "esc list",
    "list-overdue": "esc list --overdue",
    "list-overdue-json": "esc list --overdue --json",
    "list-json": "esc list --json",
    "check": "esc check",
    "validate": "esc validate",
    "report-html": "esc report --format html --out FILE",
    "help": "esc --help",
    "show": "esc show ID",
    "comment": "esc comment ID -m TEXT (one ticket written, under its lock)",
}
WIDTH = max(len(d) for d in DESCRIPTIONS.values())
# Exit codes that are findings, not failures.
ALLOWED_RC = {"check": {0, 1}, "validate": {0, 1}}


# ---------------------------------------------------------------- running one process


@dataclass
class Sample:
    seconds: float  # wall-clock
    rss_kb: int  # peak resident set size
    rc: int
    stderr: str
    cpu: float = 0.0  # user + system CPU seconds of the process


@dataclass
class Runner:
    env: dict[str, str]
    esc: list[str]
    use_time_bin: bool = field(default_factory=lambda: os.access(TIME_BIN, os.X_OK))

    def run(self, argv: list[str], cwd: Path) -> Sample:
        """Run ``argv`` once as its own process: wall-clock seconds and its peak RSS."""
        if self.use_time_bin:
            with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
                start = time.perf_counter()
                proc = subprocess.run(
                    [TIME_BIN, "-f", "%M %U %S", "-o", out.name, *argv], cwd=cwd, env=self.env,
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                )
                seconds = time.perf_counter() - start
                lines = [ln for ln in Path(out.name).read_text().splitlines() if ln.strip()]
            try:
                rss, user, system = lines[-1].split()
                usage = (int(rss), float(user) + float(system))
            except (IndexError, ValueError):
                usage = (0, 0.0)
            return Sample(seconds, usage[0], proc.returncode,
                          proc.stderr.decode(errors="replace"), usage[1])
        with tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            child = subprocess.Popen(argv, cwd=cwd, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - start
            child.returncode = os.waitstatus_to_exitcode(status)
            err.seek(0)
            text = err.read().decode(errors="replace")
        return Sample(seconds, int(usage.ru_maxrss), child.returncode, text,
                      usage.ru_utime + usage.ru_stime)


# ---------------------------------------------------------------- the workspace


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, text=True,
                          capture_output=True).stdout


def restore(root: Path) -> None:
    """Back to the generated state: pristine tickets, no reports, no cache."""
    git(root, "checkout", "-q", "--", ".")
    git(root, "clean", "-fdq", "--", "tickets", "reports")
    shutil.rmtree(root / ".esc-cache", ignore_errors=True)
    os.sync()


def warm_page_cache(root: Path) -> int:
    """Read every file of the workspace (but .git) once; the VM drops idle page cache."""
    total = 0
    for folder, dirs, files in os.walk(root):
        if ".git" in dirs:
            dirs.remove(".git")
        for name in files:
            try:
                with open(os.path.join(folder, name), "rb") as handle:
                    total += len(handle.read())
            except OSError:
                pass
    return total


def ticket_files(root: Path) -> list[Path]:
    folder = root / "tickets"
    return [folder / n for n in sorted(os.listdir(folder)) if n.endswith(".md")]


def edit_descriptions(files: list[Path], run: int) -> dict[Path, bytes]:
    """Append a line to the description of each file; returns the original bytes."""
    originals = {}
    for path in files:
        data = path.read_bytes()
        originals[path] = data
        text = data.decode("utf-8")
        front_end = text.index("\n---\n", 3) + 5
        cut = -1
        for heading in ("\n\n## Conversation\n", "\n\n## Activity\n"):
            cut = text.find(heading, front_end)
            if cut >= 0:
                break
        if cut < 0:
            cut = len(text.rstrip("\n"))
        line = f"\nEdited by the benchmark (run {run}): the customer added a detail."
        path.write_bytes((text[:cut] + line + text[cut:]).encode("utf-8"))
    return originals


def prepare(workdir: Path, n: int, env: dict[str, str], jobs: int,
            shape: str = "realistic") -> tuple[Path, dict]:
    """The workspace of ``n`` tickets: generated by bench/generate.py unless up to date."""
    root = workdir / (f"ws-{n}" if shape == "realistic" else f"ws-{shape}-{n}")
    print(f"[{n}] workspace {root}", file=sys.stderr)
    started = dt.datetime.now().astimezone().replace(microsecond=0)
    # generate.py reuses the workspace if its marker matches (generator version, N, NOW);
    # it runs with the esc under test (env), in a process of its own
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(n), str(root),
                    "--jobs", str(jobs), "--shape", shape], env=env, check=True)
    info: dict[str, object] = {"n": n, "path": str(root)}
    info.update(json.loads((root / ".bench-workspace.json").read_text()))
    info["reused"] = dt.datetime.fromisoformat(str(info["generated_at"])) < started
    restore(root)
    files = ticket_files(root)
    info["tickets"] = len(files)
    info["bytes"] = sum(p.stat().st_size for p in files)
    return root, info


# ---------------------------------------------------------------- the rows


@dataclass
class Row:
    key: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def rss_mb(self) -> float:
        return max(s.rss_kb for s in self.samples) / 1024

    def bad_exits(self) -> list[Sample]:
        allowed = ALLOWED_RC.get(self.key, {0})
        return [s for s in self.samples if s.rc not in allowed]


def bench_size(n: int, root: Path, runner: Runner, repeat: int, wanted: set[str],
               workdir: Path) -> list[Row]:
    esc = [*runner.esc, "--root", str(root), "--now", NOW]
    files = ticket_files(root)
    show_id = files[len(files) // 2].stem
    report_out = workdir / f"report-{n}.html"
    rows: list[Row] = []

    def measure(key: str, argv: list[str], before: Callable[[int], None] | None = None,
                after: Callable[[int], None] | None = None) -> None:
        if key not in wanted:
            return
        row = Row(key)
        runs = max(repeat, 5) if key == "floor" else repeat  # cheap, and every ratio needs it
        for run in range(runs):
            if before:
                before(run)
            warm_page_cache(root)
            sample = runner.run(argv, root)
            row.samples.append(sample)
            if after:
                after(run)
            print(f"[{n}] {key:<20} run {run + 1}/{runs}: {sample.seconds:7.3f} s "
                  f"(cpu {sample.cpu:6.2f} s) {sample.rss_kb / 1024:6.0f} MB rc={sample.rc}",
                  file=sys.stderr)
        for bad in row.bad_exits()[:1]:
            print(f"[{n}] {key}: exit {bad.rc}: {bad.stderr.strip()[-300:]}", file=sys.stderr)
        rows.append(row)

    def settle(_: int = 0) -> None:
        """One untimed sweep, so that what follows runs right after a sweep."""
        sample = runner.run([*esc, "sweep"], root)
        if sample.rc != 0:
            print(f"[{n}] untimed sweep: exit {sample.rc}: {sample.stderr.strip()[-300:]}",
                  file=sys.stderr)

    measure("floor", [sys.executable, str(HERE / "floor.py"), str(root)])
    measure("sweep-cold", [*esc, "sweep"], before=lambda _: restore(root))
    if wanted - {"floor", "sweep-cold", "help", "show", "comment"}:
        settle()  # the rows below run right after a sweep
    measure("sweep-warm", [*esc, "sweep"])
    measure("sweep-warm-noreport", [*esc, "sweep", "--no-report"])

    edited = random.Random(f"edit/{n}").sample(files, max(1, len(files) // 100))
    originals: dict[Path, bytes] = {}

    def edit(run: int) -> None:
        originals.update(edit_descriptions(edited, run))

    def unedit(_: int) -> None:
        for path, data in originals.items():
            path.write_bytes(data)
        settle()

    measure("sweep-edit-1pct", [*esc, "sweep"], before=edit, after=unedit)
    measure("list", [*esc, "list"])
    measure("list-overdue", [*esc, "list", "--overdue"])
    measure("list-overdue-json", [*esc, "list", "--overdue", "--json"])
    measure("list-json", [*esc, "list", "--json"])
    measure("check", [*esc, "check"])
    measure("validate", [*esc, "validate"])
    measure("report-html", [*esc, "report", "--format", "html", "--out", str(report_out)])
    measure("help", [*runner.esc, "--now", NOW, "--help"])
    measure("show", [*esc, "show", show_id])
    shown = root / "tickets" / f"{show_id}.md"
    kept = shown.read_bytes()
    measure("comment", [*esc, "comment", show_id, "--internal", "-m", "A note from the bench.",
                        "--by", "bench"], after=lambda _: shown.write_bytes(kept))
    return rows


# ---------------------------------------------------------------- results


def judge(rows: list[Row], n: int) -> dict[str, list[dict[str, object]]]:
    floor = next((r.median for r in rows if r.key == "floor"), None)
    floor_cpu = next((r.cpu for r in rows if r.key == "floor"), None)
    verdicts: dict[str, list[dict[str, object]]] = {}
    for key, size, measure, limit, label in TARGETS:
        row = next((r for r in rows if r.key == key), None)
        if row is None or (size is not None and size != n):
            continue
        if measure == "ratio":
            if not floor:
                continue
            value = row.median / floor
            # on a shared machine wall-clock ratios swing: the CPU ratio may pass it too
            ok = value <= limit or bool(floor_cpu and row.cpu / floor_cpu <= limit)
        elif measure == "seconds":
            value = row.median
            ok = value < limit
        else:
            value = row.rss_mb
            ok = value < limit
        verdicts.setdefault(key, []).append(
            {"target": label, "measure": measure, "limit": limit, "value": round(value, 3),
             "pass": ok and not row.bad_exits()})
    return verdicts


def table(n: int, info: dict, rows: list[Row], verdicts: dict) -> str:
    floor = next((r.median for r in rows if r.key == "floor"), None)
    floor_cpu = next((r.cpu for r in rows if r.key == "floor"), None)
    gen = f", generated in {info['seconds']:.0f} s" if "seconds" in info else ""
    lines = [f"\n{n} tickets ({info['bytes'] / MB:.0f} MB{gen})",
             f"{'command':<{WIDTH}} {'median s':>9} {'× floor':>8} {'cpu s':>7} "
             f"{'cpu×fl':>7} {'peak MB':>8}  target"]
    for row in rows:
        ratio = f"{row.median / floor:7.1f}×" if floor else ""
        cpu_ratio = f"{row.cpu / floor_cpu:6.1f}×" if floor_cpu else ""
        targets = "; ".join(f"{v['target']} {'PASS' if v['pass'] else 'FAIL'}"
                            for v in verdicts.get(row.key, []))
        bad = row.bad_exits()
        if bad:
            targets = (targets + "; " if targets else "") + f"exit {bad[0].rc}!"
        lines.append(f"{DESCRIPTIONS[row.key]:<{WIDTH}} {row.median:9.3f} {ratio:>8} "
                     f"{row.cpu:7.2f} {cpu_ratio:>7} {row.rss_mb:8.0f}  {targets}")
    return "\n".join(lines)


def machine() -> dict[str, object]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "memory": mem,
            "python": platform.python_version(), "platform": platform.platform(),
            "loadavg": os.getloadavg()}


def source_options(parser: argparse.ArgumentParser, workdir: str) -> None:
    """The options every bench script takes for where it works and which esc it runs:
    ``--workdir`` (default ``$TMPDIR/<workdir>``), ``--json``, ``--rev``, ``--esc-src``."""
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / workdir)
    parser.add_argument("--json", type=Path, metavar="OUT")
    parser.add_argument("--rev")
    parser.add_argument("--esc-src", metavar="DIR")


def prepared(args: argparse.Namespace) -> tuple[Path, Runner, str]:
    """The work folder (made), a runner of the esc under test (:func:`esc_source`), and
    its label, from :func:`source_options`' values."""
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    env, label = esc_source(args, workdir)
    return workdir, Runner(env, [sys.executable, "-m", "esc"]), label


def esc_source(args: argparse.Namespace, workdir: Path) -> tuple[dict[str, str], str]:
    """The environment that makes `esc` mean the esc under test, and a label for it."""
    env = dict(os.environ, NO_COLOR="1", ESC_USER="bench", COLUMNS="120")
    for name in ("ESC_ROOT", "ESC_NOW", "ESC_DEBUG"):
        env.pop(name, None)
    src = None
    if args.rev:
        commit = git(REPO, "rev-parse", "--verify", f"{args.rev}^{{commit}}").strip()
        src = workdir / f"src-{commit[:12]}"
        if not (src / "esc" / "__init__.py").exists():
            src.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(["git", "archive", commit, "esc"], cwd=REPO, check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
        label = f"esc at {commit[:12]} ({args.rev})"
    elif args.esc_src:
        src = Path(args.esc_src).resolve()
        label = f"esc from {src}"
    else:  # (a source tree that is no git checkout, an sdist's: labelled so, measured all
        # the same; it was a traceback, audit helper-478)
        try:
            head = git(REPO, "rev-parse", "--short=12", "HEAD").strip()
            dirty = git(REPO, "status", "--porcelain", "--", "esc").strip()
        except (subprocess.CalledProcessError, OSError):
            label = "esc installed (a source tree outside git)"
        else:
            label = f"esc installed (working tree at {head}{', modified' if dirty else ''})"
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), env.get("PYTHONPATH")) if p)
    compile_bytecode(src / "esc" if src is not None else REPO / "esc")
    return env, label


def compile_bytecode(package: Path) -> None:
    """Write the package's .pyc files, as `pip install .` does for an installed esc.

    Without them, and with PYTHONDONTWRITEBYTECODE set (as on the machine of the first
    results), every esc process would compile esc's modules from source again (~50 ms).
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "esc-bench")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write all numbers here")
    parser.add_argument("--rev", help="benchmark esc as of this git revision")
    parser.add_argument("--esc-src", metavar="DIR", help="benchmark the esc package in DIR")
    parser.add_argument("--rows", default=",".join(ROWS), help="rows to run: " + ",".join(ROWS))
    parser.add_argument("--jobs", type=int, default=0, help="generator processes (default nproc)")
    parser.add_argument("--shape", choices=("realistic", "open"), default="realistic",
                        help="open: every ticket open, created on NOW's day (issue 19)")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "").replace("k", "000")) for s in args.sizes.split(",") if s]
    wanted = {r.strip() for r in args.rows.split(",") if r.strip()}
    unknown = wanted - set(ROWS)
    if unknown:
        parser.error(f"unknown rows: {', '.join(sorted(unknown))}")
    if "floor" not in wanted:
        wanted.add("floor")  # every ratio needs it
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    env, label = esc_source(args, workdir)
    # `python -m esc`: the same way in for every version (the console script of this venv
    # names the installed esc's own entry point, which an older esc may not have)
    runner = Runner(env, [sys.executable, "-m", "esc"])
    results: dict[str, object] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "now": NOW, "esc": label, "repeat": args.repeat, "shape": args.shape, "machine": machine(),
        "rss_from": TIME_BIN if runner.use_time_bin else "os.wait4", "sizes": {},
    }
    print(f"benchmarking {label}; workdir {workdir}", file=sys.stderr)
    outputs = []
    for n in sizes:
        root, info = prepare(workdir, n, env, args.jobs, args.shape)
        info["loadavg_before"] = os.getloadavg()
        start = time.perf_counter()
        rows = bench_size(n, root, runner, args.repeat, wanted, workdir)
        info["bench_seconds"] = round(time.perf_counter() - start, 1)
        restore(root)
        verdicts = judge(rows, n)
        floor = next((r.median for r in rows if r.key == "floor"), None)
        floor_cpu = next((r.cpu for r in rows if r.key == "floor"), None)
        results["sizes"][str(n)] = {  # type: ignore[index]
            "workspace": info,
            "rows": [{
                "row": r.key, "command": DESCRIPTIONS[r.key],
                "seconds": [round(s.seconds, 4) for s in r.samples],
                "median_seconds": round(r.median, 4),
                "cpu_seconds": [round(s.cpu, 3) for s in r.samples],
                "median_cpu_seconds": round(r.cpu, 3),
                "ratio_to_floor": round(r.median / floor, 2) if floor else None,
                "cpu_ratio_to_floor": round(r.cpu / floor_cpu, 2) if floor_cpu else None,
                "peak_rss_mb": round(r.rss_mb, 1),
                "rss_mb": [round(s.rss_kb / 1024, 1) for s in r.samples],
                "exit_codes": [s.rc for s in r.samples],
                "targets": verdicts.get(r.key, []),
            } for r in rows],
        }
        text = table(n, info, rows, verdicts)
        if args.shape != "realistic":
            text = text.replace(" tickets (", f" tickets, shape {args.shape} (", 1)
        outputs.append(text)
        print(text, flush=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{label}; {results['machine']['nproc']} CPUs, "  # type: ignore[index]
          f"{results['machine']['cpu']}; medians of {args.repeat}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
