"""Reports rendered in headless Chromium with the network blocked.

Each page is loaded from a file with every host name unresolvable
(``--host-resolver-rules``) and a network log (``--log-net-log``); the test
asserts the expected headings in the rendered DOM, saves a screenshot, and
finds no request from the page to any host. Chromium's own background
services (Google update/time endpoints) also show up in the log; they are
not the page's and are ignored by host. A control page with one external
image proves the check can fail.

Skipped only when Chromium is absent and ``CI`` is not set.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import report_helpers as h

from scenarios.compare import compare
from scenarios.report import write_comparison_reports, write_plan_reports

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None
        and os.environ.get("CI", "").lower() not in ("1", "true", "yes"),
        reason="chromium not installed (apt-get install chromium); required when CI is set",
    ),
]
#: Hosts Chromium itself calls (component updater, time, accounts), never the page.
BROWSER_HOSTS = ("google.com", "googleapis.com", "gstatic.com", "gvt1.com", "~notfound")
URL_IN_LOG = re.compile(r'"url":\s*"([^"]+)"')
SHIFT = {"01": 0, "02": 0, "03": 1, "04": 1, "05": 1, "06": 1}


def _chromium(page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None, "CI is set but chromium is missing"
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        *extra,
        page.resolve().as_uri(),
    ]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=True)


def page_requests(netlog: Path) -> set[str]:
    """Network URLs in a Chromium net log that the browser itself would not call."""
    found = set()
    for url in URL_IN_LOG.findall(netlog.read_text(errors="replace")):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https", "ws", "wss", "ftp"):
            continue
        host = parts.hostname or ""
        if any(host == b or host.endswith("." + b) for b in BROWSER_HOSTS):
            continue
        found.add(url)
    return found


def render(page: Path, tmp: Path) -> tuple[str, Path, set[str]]:
    """Rendered DOM, screenshot path and page network requests of ``page``."""
    shot = tmp / f"{page.stem}.png"
    netlog = tmp / f"{page.stem}.netlog.json"
    _chromium(
        page,
        tmp,
        "--window-size=1200,2400",
        f"--screenshot={shot}",
        f"--log-net-log={netlog}",
    )
    dom = _chromium(page, tmp, "--dump-dom").stdout
    return dom, shot, page_requests(netlog)


def headings(dom: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", m).strip()
        for m in re.findall(r"<h[12][^>]*>(.*?)</h[12]>", dom, re.DOTALL)
    ]


def test_plan_report_renders_offline(tmp_path: Path) -> None:
    """report.html: expected Vietnamese headings, a screenshot, no network request."""
    result = h.result("hàng", h.ROWS, metrics={"dispersion": 0.3})
    html, _ = write_plan_reports(result, tmp_path / "out")
    dom, shot, requests = render(html, tmp_path)
    assert requests == set()
    assert headings(dom) == [
        "Phương án phân cụm: hàng",
        "Tóm tắt chỉ số",
        "Bản đồ các cụm",
        "Các cụm",
        "Cân bằng giữa các cụm",
        "Thay đổi so với cách chia hiện tại",
        "Vì sao phương án như thế này",
        "Quy tắc và kết quả kiểm tra",
        "Nhật ký kiểm toán",
    ]
    assert "&lt;b&gt;Hà Giang&lt;/b&gt;" in dom  # shown as text, not markup
    pdf = tmp_path / "report.pdf"
    _chromium(html, tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000  # printable
    assert (
        shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    )


def test_comparison_report_renders_offline(tmp_path: Path) -> None:
    """comparison.html in English: headings, screenshot, no network request."""
    comparison = compare(
        [
            h.result("rows", h.ROWS),
            h.result("shift", SHIFT),
            h.result("impossible", None),
        ]
    )
    html = write_comparison_reports(comparison, tmp_path / "out", lang="en")[0]
    dom, shot, requests = render(html, tmp_path)
    assert requests == set()
    assert headings(dom) == [
        "Comparison of clustering scenarios",
        "At a glance",
        "Measures of each scenario",
        "Map of each plan",
        "How different the plans are",
        "Units placed differently",
        "Computing time",
    ]
    assert shot.stat().st_size > 20_000


def test_network_check_catches_an_external_request(tmp_path: Path) -> None:
    """Control: a page that loads an image from the web is caught by the net log."""
    page = tmp_path / "leaky.html"
    page.write_text(
        '<html><body><h1>x</h1><img src="https://example.org/a.png"></body></html>'
    )
    _, _, requests = render(page, tmp_path)
    assert "https://example.org/a.png" in requests


def test_bundled_plan_report_renders_offline(tmp_path: Path) -> None:
    """A real plan of the bundled 34 provinces (block scenario, solved in seconds)."""
    from scenarios.definition import BUNDLED_DIR, load_scenarios
    from scenarios.runner import run_scenario

    spec = load_scenarios(BUNDLED_DIR / "vn34-khoi-theo-loai.toml")[0]
    result = run_scenario(spec, overrides={"time_limit": 10})
    assert result.plan is not None
    html, _ = write_plan_reports(result, tmp_path / "out")
    dom, shot, requests = render(html, tmp_path)
    assert requests == set()
    assert headings(dom)[0] == "Phương án phân cụm: 34 tỉnh — khối theo loại và quy mô"
    assert "Thành phố Hồ Chí Minh" in dom and "Cần Thơ" in dom
    assert shot.stat().st_size > 50_000
