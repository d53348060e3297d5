"""The HTML dashboard (`esc report --format html`), checked in a real headless Chromium.

Chromium is Debian's package (.ci/run installs it); the `playwright` package drives it over the
DevTools protocol and never downloads a browser of its own (`playwright install` is not run).
Without Chromium or playwright the browser tests skip locally and fail when CI is set.

The screenshots go to tmp_path; with ESC_SCREENSHOT_DIR=docs they are also written there
(`docs/dashboard.png`, `docs/dashboard-dark.png`, committed for the README).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from esc.report.render import seconds_text, working_text
from tests.conftest import Esc

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

NOW = "2026-11-27T09:00:00+01:00"
SECTIONS = ("backlog", "sla", "escalations", "speed", "satisfaction", "trend")
CHARTS = ("trend", "backlog-team", "backlog-priority", "escalations-kind")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE = "<script>alert(1)</script>"

# Numbers of the JSON report the dashboard does not show: always 0 on their rows (a breached
# clock has no time left, one in warning is not over), and the count of working-time values
# (the tables show the wall-clock count, as the Markdown report does).
NOT_SHOWN = re.compile(
    r"^sla\.breached_now\[\d+\]\.left_seconds$"
    r"|^sla\.warning_now\[\d+\]\.over_seconds$"
)


# ---------------------------------------------------------------- helpers


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def unavailable(reason: str) -> None:
    """Skip locally; on CI a missing browser is a failure, not a silent skip."""
    if os.environ.get("CI"):
        pytest.fail(
            f"{reason}: CI must run the browser tests (.ci/run installs Debian's chromium "
            "package; pip install -e '.[test]' brings playwright)",
            pytrace=False,
        )
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """One headless Chromium for the module, with a fresh profile."""
    executable = chromium()
    if executable is None:
        unavailable("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


@dataclass
class Loaded:
    """A page and everything it did while loading."""

    page: Page
    url: str
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def js(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)


Scheme = Literal["light", "dark"]


def load(
    browser: BrowserContext, html: Path, width: int = 1200, scheme: Scheme = "light"
) -> Loaded:
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.emulate_media(color_scheme=scheme)
    loaded = Loaded(page, html.resolve().as_uri())
    page.on("request", lambda request: loaded.requests.append(request.url))
    page.on(
        "console",
        lambda msg: loaded.console.append(f"{msg.type}: {msg.text}")
        if msg.type in ("error", "warning", "assert")
        else None,
    )
    page.on("pageerror", lambda error: loaded.errors.append(str(error)))

    def dialog(d: Any) -> None:
        loaded.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    page.on("dialog", dialog)
    page.goto(loaded.url, wait_until="load")
    return loaded


def assert_quiet(loaded: Loaded) -> None:
    """No request but the file itself, nothing on the console, no error, no dialog."""
    assert loaded.requests == [loaded.url]
    assert loaded.console == []
    assert loaded.errors == []
    assert loaded.dialogs == []


def render(desk: Esc, out: Path) -> tuple[Path, dict[str, Any]]:
    """The HTML report written to ``out`` and the JSON report for the same period."""
    desk.ok("report", "--format", "html", "--out", str(out))
    return out, json.loads(desk.ok("report", "--format", "json"))


def leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of the JSON report by its dotted key, lists indexed as [n]."""
    found: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, inner in value.items():
            found.update(leaves(inner, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            found.update(leaves(inner, f"{prefix}[{n}]"))
    else:
        found[prefix] = value
    return found


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def screenshot(loaded: Loaded, tmp_path: Path, name: str) -> Path:
    """A full-page screenshot in tmp_path, copied to ESC_SCREENSHOT_DIR when that is set."""
    shot = tmp_path / name
    loaded.page.screenshot(path=str(shot), full_page=True)
    target = os.environ.get("ESC_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(target) / name)
    return shot


def assert_self_contained(html: str) -> None:
    """No script, no inline handler, nothing that could make the browser fetch anything."""
    tags = re.findall(r"<([a-zA-Z][\w:-]*)([^>]*)>", html)
    fetching = {"script", "link", "img", "image", "iframe", "frame", "object", "embed", "video",
                "audio", "source", "track", "base", "form", "input", "use", "feimage"}
    assert not {name.lower() for name, _ in tags} & fetching
    for name, attrs in tags:
        assert not re.search(r"(^|\s)(src|srcset|action|formaction|poster|background|ping"
                             r"|xlink:href)\s*=", attrs, re.I), (name, attrs)
        assert not re.search(r"(^|\s)on\w+\s*=", attrs, re.I), (name, attrs)
        assert not re.search(r"\sstyle\s*=", attrs, re.I), (name, attrs)
        for href in re.findall(r"\shref=[\"']([^\"']*)", attrs):
            assert not re.match(r"([a-z][a-z0-9+.-]*:|//)", href, re.I), href
    for css in re.findall(r"<style>(.*?)</style>", html, re.S):
        for needle in ("url(", "@import", "@font-face", "image-set("):
            assert needle not in css.lower(), needle
    assert "None" not in html and not re.search(r"\bnan\b", html)


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def desk(demo: Path) -> Esc:
    return Esc(demo, now=NOW)


@pytest.fixture
def dashboard(desk: Esc, demo: Path) -> tuple[Path, dict[str, Any]]:
    return render(desk, demo / "reports" / "index.html")


# ---------------------------------------------------------------- the demo in a browser


CHARTS_JS = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  const title = svg.querySelector(':scope > title');
  return {
    name: svg.dataset.chart, width: box.width, height: box.height,
    label: svg.getAttribute('aria-label') || '', role: svg.getAttribute('role'),
    title: title ? title.textContent : '',
    drawn: [...svg.querySelectorAll('rect, polyline, circle, line, path')].filter(e => {
      const b = e.getBoundingClientRect();
      return b.width > 0 || b.height > 0;
    }).length,
    marks: svg.querySelectorAll('rect.bar, polyline.series, circle.dot').length,
  };
})"""


def test_the_demo_dashboard_renders_in_chromium(
    browser: BrowserContext, dashboard: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    html, report = dashboard
    assert_self_contained(html.read_text(encoding="utf-8"))
    loaded = load(browser, html)
    assert_quiet(loaded)
    assert loaded.js("document.scripts.length") == 0
    assert loaded.page.title().startswith("Helpdesk report")

    sections = loaded.js("() => [...document.querySelectorAll('section[id]')].map(s => s.id)")
    assert set(SECTIONS) <= set(sections)
    for section in SECTIONS:
        assert loaded.js(f"document.querySelectorAll('#{section} table').length") >= 1, section
        assert loaded.js(f"document.querySelector('#{section} h2').textContent"), section

    charts = {c["name"]: c for c in loaded.js(CHARTS_JS)}
    assert sorted(charts) == sorted(CHARTS)
    for chart in charts.values():
        assert chart["width"] > 100 and chart["height"] > 50, chart
        assert chart["drawn"] > 0 and chart["marks"] > 0, chart
        assert chart["label"] and chart["title"] and chart["role"] == "img", chart
    # one bar per team and priority, 4 lines with a dot per week, a legend for them
    assert charts["backlog-team"]["marks"] == len(report["backlog"]["by_team"])
    assert charts["backlog-priority"]["marks"] == len(report["backlog"]["by_priority"])
    assert charts["escalations-kind"]["marks"] == len(report["escalations"]["by_kind"])
    assert charts["trend"]["marks"] == 4 * (len(report["trend"]) + 1)
    legend = loaded.js("[...document.querySelectorAll('#trend .legend li')].map(l => l.innerText)")
    assert [x.strip() for x in legend] == [
        "created", "resolved", "breached", "escalated"]

    captions = loaded.js("[...document.querySelectorAll('caption')].map(c => c.textContent)")
    for expected in ("Active tickets by team", "Active tickets by priority",
                     "Active tickets by status", "Active tickets by age",
                     "Active tickets by escalation level",
                     "Compliance by metric", "Compliance by team", "Compliance by priority",
                     "Breached now", "In warning", "Escalations by kind",
                     "Escalations between teams", "Reasons", "Time to first response",
                     "Time to resolution", "Ratings by score", "Tickets per week"):
        assert any(c.startswith(expected) for c in captions), expected

    # tickets breached and in warning link to their files
    for table, rows in (("Breached now", report["sla"]["breached_now"]),
                        ("In warning", report["sla"]["warning_now"])):
        hrefs = loaded.js(
            """(name) => [...[...document.querySelectorAll('table.tickets')]
                 .find(t => t.caption.textContent.startsWith(name))
                 .querySelectorAll('tbody th a')]
                 .map(a => [a.textContent, a.getAttribute('href')])""",
            table,
        )
        assert hrefs == [[row["id"], f"../{row['file']}"] for row in rows]

    shot = screenshot(loaded, tmp_path, "dashboard.png")
    width, height = png_size(shot)
    assert width == 1200 and height > 2000
    loaded.page.close()


def test_every_number_on_the_dashboard_is_the_json_value(
    browser: BrowserContext, dashboard: tuple[Path, dict[str, Any]]
) -> None:
    html, report = dashboard
    loaded = load(browser, html)
    cells = loaded.js(
        """() => [...document.querySelectorAll('[data-key]')].map(e => ({
          key: e.dataset.key, value: e.dataset.value, format: e.dataset.format,
          text: e.textContent.trim()}))"""
    )
    values = leaves(report)
    assert len(cells) > 200
    for cell in cells:
        key = cell["key"]
        assert key in values, f"{key} is not a key of the JSON report"
        expected = values[key]
        got = json.loads(cell["value"])
        assert got == expected and type(got) is type(expected), (key, got, expected)
        shown = {
            "count": lambda v: "–" if v is None else str(v),
            "pct": lambda v: "–" if v is None else f"{v * 100:.0f}%",
            "duration": seconds_text,
            "hours": working_text,
            "avg": lambda v: "–" if v is None else f"{v:.2f}",
        }[cell["format"]](expected)
        assert cell["text"] == shown, (key, cell["text"], shown)

    numbers = {k for k, v in values.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    missing = {k for k in numbers - {c["key"] for c in cells} if not NOT_SHOWN.match(k)}
    assert not missing, f"numbers of the JSON report missing from the dashboard: {sorted(missing)}"
    loaded.page.close()


def test_the_dashboard_fits_a_phone(
    browser: BrowserContext, dashboard: tuple[Path, dict[str, Any]]
) -> None:
    html, _ = dashboard
    loaded = load(browser, html, width=375)
    assert_quiet(loaded)
    assert loaded.js("window.innerWidth") == 375
    assert loaded.js("document.documentElement.scrollWidth") <= 375
    assert loaded.js("document.body.scrollWidth") <= 375
    # wide tables scroll inside their own box, and every chart fits the screen
    boxes = loaded.js(
        "[...document.querySelectorAll('svg.chart')].map(s => s.getBoundingClientRect().right)"
    )
    assert len(boxes) == 4 and all(0 < right <= 375 for right in boxes)
    scrolling = loaded.js(
        """[...document.querySelectorAll('.scroll')]
             .filter(d => d.scrollWidth > d.clientWidth)
             .map(d => getComputedStyle(d).overflowX)"""
    )
    assert scrolling and set(scrolling) == {"auto"}
    loaded.page.close()


def test_dark_mode_changes_the_colours(
    browser: BrowserContext, dashboard: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    html, _ = dashboard
    style = """() => {
      const body = getComputedStyle(document.body);
      const text = document.querySelector('svg.chart text');
      const bar = document.querySelector('svg.chart rect.bar');
      return {bg: body.backgroundColor, fg: body.color,
              chartText: getComputedStyle(text).fill, bar: getComputedStyle(bar).fill,
              dark: matchMedia('(prefers-color-scheme: dark)').matches};
    }"""
    light = load(browser, html, scheme="light")
    dark = load(browser, html, scheme="dark")
    assert_quiet(dark)
    seen = light.js(style), dark.js(style)
    assert not seen[0]["dark"] and seen[1]["dark"]
    for name in ("bg", "fg", "chartText", "bar"):
        assert seen[0][name] != seen[1][name], (name, seen)
    # the background gets darker and the text lighter, and chart text follows the text colour
    assert luminance(seen[1]["bg"]) < 0.1 < 0.8 < luminance(seen[0]["bg"])
    assert luminance(seen[1]["fg"]) > 0.6 > 0.2 > luminance(seen[0]["fg"])
    assert seen[1]["chartText"] == seen[1]["fg"] and seen[0]["chartText"] == seen[0]["fg"]
    screenshot(dark, tmp_path, "dashboard-dark.png")
    light.page.close()
    dark.page.close()


def luminance(css: str) -> float:
    r, g, b = (int(x) for x in re.findall(r"\d+", css)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


# ---------------------------------------------------------------- ticket text is only text


def test_ticket_text_shows_as_text_and_runs_nothing(
    browser: BrowserContext, esc: Esc, workspace: Path
) -> None:
    start = "2026-11-20T10:00:00+01:00"
    hostile = esc.ok("create", "--title", HOSTILE, "--priority", "urgent", now=start).strip()
    other = esc.ok("create", "--title", 'Tom & Jerry\'s "quote"', now=start).strip()
    esc.ok("escalate", other, "--up", "--reason", "<svg onload=alert(3)>",
           now="2026-11-20T10:05:00+01:00")
    esc.ok("resolve", other, "--resolution", "done", now="2026-11-20T11:00:00+01:00")
    esc.ok("close", other, "--csat", "1", "--feedback", "<img src=x onerror=alert(2)>",
           now="2026-11-20T12:00:00+01:00")
    html, report = render(Esc(workspace, now=NOW), workspace / "reports" / "index.html")
    assert [row["id"] for row in report["sla"]["breached_now"]] == [hostile, hostile]
    text = html.read_text(encoding="utf-8")
    assert_self_contained(text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text

    loaded = load(browser, html)
    assert_quiet(loaded)  # an <img src=x> would have made a request, an alert a dialog
    assert loaded.js("document.scripts.length") == 0
    assert loaded.js("document.querySelectorAll('img, svg [onload], [onerror]').length") == 0
    titles = loaded.js("[...document.querySelectorAll('#sla td.title')].map(t => t.textContent)")
    assert titles == [HOSTILE, HOSTILE]
    body = loaded.js("document.body.innerText")
    assert "<img src=x onerror=alert(2)>" in body and "<svg onload=alert(3)>" in body
    hrefs = loaded.js("[...document.querySelectorAll('#sla tbody th a')].map(a => a.href)")
    assert hrefs == [(workspace / "tickets" / f"{hostile}.md").as_uri()] * 2
    loaded.page.close()


def test_an_empty_workspace_renders_in_chromium(
    browser: BrowserContext, esc: Esc, workspace: Path
) -> None:
    html, report = render(esc, workspace / "index.html")
    assert report["totals"]["tickets"] == 0
    loaded = load(browser, html, width=375)
    assert_quiet(loaded)
    charts = loaded.js(CHARTS_JS)
    assert sorted(c["name"] for c in charts) == sorted(CHARTS)
    assert all(c["width"] > 0 and c["height"] > 0 and c["drawn"] > 0 for c in charts)
    assert loaded.js("document.documentElement.scrollWidth") <= 375
    loaded.page.close()


def test_a_long_unbroken_title_fits_a_phone(
    browser: BrowserContext, esc: Esc, workspace: Path
) -> None:
    """An escalated ticket titled with a long URL: the "Worked by several teams" list made
    the whole page pan sideways on a phone (838 px at 360; audit helper-422)."""
    title = "Checkout fails: https://api.example.com/v2/payments/charges/" + "x" * 120
    made = esc.ok("create", "--title", title, "--priority", "urgent",
                  now="2026-11-19T10:00:00+01:00").strip()  # fmt: skip
    esc.ok("escalate", made, "--up", "--reason", "outage", now="2026-11-19T10:10:00+01:00")
    html, _ = render(esc, workspace / "index.html")
    loaded = load(browser, html, width=360)
    assert title in loaded.page.content()
    assert loaded.js("document.documentElement.scrollWidth") <= 360
    loaded.page.close()


# ---------------------------------------------------------------- without a browser


def check_html(html: str) -> None:
    assert html.startswith("<!doctype html>")
    assert_self_contained(html)
    for section in SECTIONS:
        assert f'<section id="{section}"' in html
    for chart in CHARTS:
        assert f'data-chart="{chart}"' in html
    assert "Traceback" not in html and "Undefined" not in html


def test_an_empty_workspace_renders_html(esc: Esc, workspace: Path) -> None:
    html = esc.ok("report", "--format", "html")
    check_html(html)
    report = json.loads(esc.ok("report", "--format", "json"))
    assert report["totals"]["tickets"] == 0 and report["satisfaction"]["average"] is None
    assert "Nothing is overdue." in html and "No clock is in warning." in html
    assert 'data-key="sla.compliance.overall.rate" data-value=\'null\'' in html


def test_a_single_ticket_workspace_renders_html(esc: Esc, workspace: Path) -> None:
    ticket = esc.ok("create", "--title", "Checkout button does nothing", "--priority", "high")
    ticket = ticket.strip()
    check_html(esc.ok("report", "--format", "html"))  # just created
    overdue = esc.ok("report", "--format", "html", now=NOW)  # a week later
    check_html(overdue)
    assert f">{ticket}</a>" in overdue
    esc.ok("resolve", ticket, "--resolution", "Cleared the cache", now="2026-11-20T11:00:00+01:00")
    esc.ok("close", ticket, "--csat", "5", "--feedback", "Quick!", now="2026-11-20T12:00:00+01:00")
    html = esc.ok("report", "--format", "html", now=NOW)
    check_html(html)
    report = json.loads(esc.ok("report", "--format", "json", now=NOW))
    assert report["satisfaction"]["average"] == 5 and report["trend"]
    average = re.search(r'data-key="satisfaction.average" data-value=\'([^\']*)\'', html)
    assert "Quick!" in html and average and json.loads(average[1]) == 5


def test_a_one_day_period_renders_a_single_week(esc: Esc, workspace: Path) -> None:
    esc.ok("create", "--title", "Password reset mail never arrives")
    html = esc.ok("report", "--format", "html", "--since", "2026-11-20", "--until", "2026-11-20")
    check_html(html)
    assert html.count('<circle class="dot ') == 4 + 4  # one dot per series, and the legend's
