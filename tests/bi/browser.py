"""A real headless Chromium driven over the DevTools protocol (no browser-automation library needed).

Debian's `chromium` with the flags the project uses everywhere; one page; cookies, navigation, JavaScript
evaluation and screenshots. Enough to log in to Superset and look at a dashboard as a user would.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1600,1400",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]


class Browser:
    def __init__(self) -> None:
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if not binary:
            raise RuntimeError("Debian's chromium is required (.ci/install-debian-packages installs it)")
        self.profile = tempfile.TemporaryDirectory(prefix="ntp-chromium-")
        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile.name}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            # Its own process group: chromium's helpers (renderer, GPU, crash handler) are stopped with it.
            start_new_session=True,
        )
        port = self._devtools_port()
        pages = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=30).json()
        page = next(p for p in pages if p["type"] == "page")
        # The connection lives as long as the browser: entered here, exited in close().
        self._open = contextlib.ExitStack()
        self.ws = self._open.enter_context(
            connect(page["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024, open_timeout=30)
        )
        self.ids = itertools.count(1)
        self.call("Page.enable")
        self.call("Network.enable")
        # A tall page, so a whole dashboard is laid out and captured without resizing it afterwards.
        self.call("Emulation.setDeviceMetricsOverride", width=1600, height=2000, deviceScaleFactor=1, mobile=False)

    def _devtools_port(self) -> int:
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if m:
                return int(m.group(1))
            if not line and self.proc.poll() is not None:
                break
        raise RuntimeError("chromium did not start its DevTools endpoint")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=120))
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def set_cookie(self, name: str, value: str, url: str) -> None:
        self.call("Network.setCookie", name=name, value=value, url=url, httpOnly=True)

    def goto(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def follow(self, path: str) -> None:
        """Go to `path` inside the single-page app already loaded, as following one of its links does
        (the app's router handles it; no page reload)."""
        self.evaluate(
            f"window.history.pushState({{}}, '', {json.dumps(path)});"
            "window.dispatchEvent(new PopStateEvent('popstate', {state: {}}))"
        )

    def evaluate(self, expression: str) -> Any:
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return res.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 120) -> Any:
        """Evaluate `expression` until it is truthy; return its last value (falsy on timeout)."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.25)
        return value

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        """Stop chromium and every helper it started, then remove the profile.

        The helpers go on writing to the profile for a moment after the main process exits; removing it
        before they are gone fails with "Directory not empty". So: ask the browser to close, stop the whole
        process group, wait until no process of it is left, and only then remove the directory."""
        try:
            # A browser that is already gone, or goes before it answers, needs no more closing.
            with contextlib.suppress(ConnectionClosed, RuntimeError, TimeoutError):
                self.call("Browser.close")
            self._open.close()
        finally:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
            _stop_group(self.proc)
            self.profile.cleanup()


def _stop_group(proc: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL, chromium's process group; return once none of its processes is left."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            proc.poll()  # reap the main process, or it would count as left
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
