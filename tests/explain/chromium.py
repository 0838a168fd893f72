"""Render a page in real headless chromium (no network) and read what it displayed.

Installed with ``apt-get update && apt-get install -y chromium``; tests skip when
``/usr/bin/chromium`` is missing.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
MARKER_ID = "__render_check__"
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio"]
# Runs after the page loaded: records every image's state in a marker element for --dump-dom.
_CHECK_SCRIPT = f"""<script>
window.addEventListener("load", function () {{
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) {{ return i.complete && i.naturalWidth > 0; }}).length;
  var m = document.createElement("div");
  m.id = "{MARKER_ID}";
  m.setAttribute("data-images", String(imgs.length));
  m.setAttribute("data-complete", String(ok));
  m.setAttribute("data-svgs", String(document.querySelectorAll("svg").length));
  document.body.appendChild(m);
}});
</script>"""


@dataclass
class Rendered:
    dom: str
    images: int
    complete_images: int
    svgs: int


def available() -> bool:
    return CHROMIUM.exists()


def _run(args: list[str], profile: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([str(CHROMIUM), *_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def render(html_path: Path, timeout: float = 120) -> Rendered:
    """The DOM chromium built from the page (a copy with the image check script added)."""
    html = Path(html_path).read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(html.replace("</body>", _CHECK_SCRIPT + "</body>", 1), encoding="utf-8")
        done = _run(["--virtual-time-budget=10000", "--dump-dom", page.as_uri()], Path(tmp) / "profile", timeout)
    if done.returncode != 0 or not done.stdout:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    marker = re.search(rf'<div id="{MARKER_ID}"[^>]*>', done.stdout)
    if marker is None:
        raise RuntimeError("chromium rendered the page but the load check never ran (no marker in the DOM)")
    attrs = dict(re.findall(r'data-(\w+)="(\d+)"', marker.group(0)))
    return Rendered(done.stdout, int(attrs["images"]), int(attrs["complete"]), int(attrs["svgs"]))


def screenshot(html_path: Path, out: Path, width: int = 1280, height: int = 2000, timeout: float = 120) -> Path:
    """PNG of the top ``height`` pixels of the page at ``width``."""
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        done = _run([f"--window-size={width},{height}", "--virtual-time-budget=10000", f"--screenshot={out}",
                     Path(html_path).resolve().as_uri()], Path(tmp) / "profile", timeout)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"chromium screenshot failed ({done.returncode}): {done.stderr[-2000:]}")
    return out
