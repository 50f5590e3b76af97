"""Open a report in headless Chromium and say what a reader would see.

Drives Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe:
JSON messages ending in NUL on fds 3 and 4), so no websocket client or port
is needed. One call loads the page, collects console errors, exceptions and
failed loads, reads a few facts from the DOM (scorecard cells, plots decoded
or not, external requests) and takes screenshots.

    python -m reports.browser reports/latest/report.html --out /tmp/shots
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# No network (the machine has none): without the background flags Chromium keeps
# dialling out to refused addresses; a fresh profile keeps runs independent.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome")

# Runs in the page: what a reader would look for, as plain data.
FACTS_JS = """(() => {
  const cells = [...document.querySelectorAll('#scorecard td.cell:not(.na)')];
  const imgs = [...document.querySelectorAll('img.plot')];
  const external = performance.getEntriesByType('resource')
    .map(e => e.name).filter(n => !n.startsWith('data:') && !n.startsWith('file:'));
  return JSON.stringify({
    title: document.title,
    verdict: (document.querySelector('#verdict') || {}).textContent || null,
    cells: cells.length,
    cells_by_verdict: cells.reduce((acc, c) => {
      const v = ['pass', 'fail', 'notrun'].find(k => c.classList.contains(k)) || 'other';
      acc[v] = (acc[v] || 0) + 1; return acc; }, {}),
    cell_links_ok: cells.filter(c => c.querySelector('a')).every(
      c => document.getElementById(c.querySelector('a').getAttribute('href').slice(1))),
    sections: document.querySelectorAll('article.test').length,
    plots: imgs.map(i => ({alt: i.alt, complete: i.complete,
                           width: i.naturalWidth, height: i.naturalHeight})),
    external: external,
    scripts: document.scripts.length,
  });
})()"""


class BrowserError(RuntimeError):
    pass


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageCheck:
    """What the page showed: DOM facts, problems logged while loading, screenshot files."""

    facts: dict[str, Any]
    console: list[str] = field(default_factory=list)  # errors and warnings, one line each
    screenshots: list[Path] = field(default_factory=list)
    load_s: float = 0.0


class Chromium:
    """One headless Chromium with a fresh profile, spoken to over the DevTools pipe."""

    def __init__(self, binary: str | None = None, timeout_s: float = 30.0) -> None:
        self.binary = binary or find_chromium()
        if not self.binary:
            raise BrowserError(f"no Chromium found (tried {', '.join(CANDIDATES)})")
        self.timeout_s = timeout_s
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        self._buffer = b""

    def __enter__(self) -> Chromium:
        self.profile = tempfile.mkdtemp(prefix="feedchaos-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # The child's ends go above 3 and 4 (which bash then fills: dash takes one-digit
        # fds only), so neither is overwritten while moved; no preexec_fn, thread-safe.
        child = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_chrome_r, from_chrome_w)]
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        r, w = child
        self.log = open(Path(self.profile) / "stderr.log", "wb")  # closed in __exit__
        try:
            self.proc = subprocess.Popen(
                ["bash", "-c", f'exec "$@" 3<&{r} 4>&{w} {r}<&- {w}>&-', "bash", self.binary,
                 *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self.log,
                pass_fds=child,
                start_new_session=True,  # its renderer and zygote go with it on a kill
            )  # fmt: skip
        finally:
            for fd in child:
                os.close(fd)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.proc.poll() is None:
                with contextlib.suppress(BrowserError, OSError):
                    self.send("Browser.close", timeout_s=5)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(timeout=10)
        finally:
            for fd in (self._to_chrome, self._from_chrome):
                os.close(fd)
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)

    def _died(self) -> BrowserError:
        """The error to raise when Chromium went away, with the end of what it logged."""
        self.log.flush()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        tail = (Path(self.profile) / "stderr.log").read_text(errors="replace")[-2000:]
        return BrowserError(f"Chromium exited (code {self.proc.poll()}):\n{tail}")

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    raise self._died()
                self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout_s: float | None = None,
    ) -> dict[str, Any]:
        """Call a protocol method and wait for its answer; events meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise self._died() from None
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str, timeout_s: float | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event


def _console_lines(events: list[dict[str, Any]]) -> list[str]:
    """Errors and warnings the page produced, from the console, the runtime and the log."""
    lines = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in (
            "error",
            "warning",
            "assert",
        ):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            lines.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            lines.append(f"exception: {details.get('text')} {details.get('exception', {})}")
        elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
            entry = params["entry"]
            lines.append(
                f"{entry['source']} {entry['level']}: {entry['text']} {entry.get('url', '')}"
            )
    return lines


def check_page(
    page: Path, out_dir: Path, width: int = 1280, height: int = 900, timeout_s: float = 30.0
) -> PageCheck:
    """Load `page`, read its facts, and save two screenshots in `out_dir`.

    report-top.png is the first screen (header and scorecard); report-plot.png
    is the section of the first test with a plot, as a reader scrolls to it.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with Chromium(timeout_s=timeout_s) as browser:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable", session=session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        started = time.monotonic()
        browser.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired")
        load_s = time.monotonic() - started
        facts = json.loads(
            browser.send(
                "Runtime.evaluate", {"expression": FACTS_JS, "returnByValue": True}, session
            )["result"]["value"]
        )
        shots = [out_dir / "report-top.png"]
        shot = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)
        shots[0].write_bytes(base64.b64decode(shot["data"]))
        rect = browser.send(
            "Runtime.evaluate",
            {
                "expression": "(() => { const a = document.querySelector('img.plot');"
                " if (!a) return null; const r = a.closest('article').getBoundingClientRect();"
                " return {x: r.x + scrollX, y: r.y + scrollY, width: r.width,"
                " height: r.height}; })()",
                "returnByValue": True,
            },
            session,
        )["result"].get("value")
        if rect:
            clip = {**rect, "scale": 1}
            shot = browser.send(
                "Page.captureScreenshot",
                {"format": "png", "clip": clip, "captureBeyondViewport": True},
                session=session,
            )
            shots.append(out_dir / "report-plot.png")
            shots[1].write_bytes(base64.b64decode(shot["data"]))
        return PageCheck(facts, _console_lines(browser.events), shots, load_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.browser", description=__doc__)
    parser.add_argument("page", type=Path, help="report.html")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args(argv)
    check = check_page(args.page, args.out)
    print(json.dumps({**check.facts, "plots": len(check.facts["plots"])}, indent=1))
    print("console:", check.console or "clean")
    print("screenshots:", *check.screenshots)
    return 1 if check.console else 0


if __name__ == "__main__":
    sys.exit(main())
