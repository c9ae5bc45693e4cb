"""The HTML report in a real browser: headless Chromium (Debian's `chromium`) opens it from
disk; the rendered DOM holds a row for every run, with its links, and the plots; a
screenshot of it is not blank. Skipped only where no Chromium is installed (.ci/run installs
it)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cmpkg.results.database import RESULTS_DIR, Results
from cmpkg.results.record import RunFacts, build

pytestmark = pytest.mark.slow


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("needs headless Chromium (apt-get install chromium)")


def _browse(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    argv = [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}"]
    return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=240, check=False)


def _record(n: int, backend: str, scenario: str, exit_code: int = 0) -> object:
    facts = RunFacts(
        f"run{n:02d}", "env", 1_700_000_000.0 + n, 1_700_000_001.0 + n, exit_code, "h", f"/r/{n}"
    )
    offline = scenario == "Offline"
    result = {
        "scenario": scenario,
        "mode": "performance",
        "result": {
            "valid": True,
            "metric": "Samples per second" if offline else "90th percentile latency (ns)",
            "value": 100.0 + 10 * n if offline else 2e6,
            "extras": {} if offline else {"QPS w/o loadgen overhead": 50.0 + n},
            "latency_ns": {
                "50.00 percentile latency": 1e6,
                "90.00 percentile latency": 2e6,
                "99.00 percentile latency": 3e6,
            },
            "accuracy": 0.76,
            "accuracy_target": 0.7569,
        },
    }
    context = {
        "resolution": {
            "target": "cpu",
            "roots": ["bench"],
            "packages": {"bench": {"variant": {"backend": backend}}},
        }
    }
    return build(
        facts,
        None if exit_code else result,
        context,
        {"lock": "/p/sweep/locks/b.lock"} if n % 2 else None,
    )


def test_the_report_renders_every_run_in_a_real_browser(tmp_path: Path) -> None:
    browser = _chromium()
    project = tmp_path / "p"
    project.mkdir()
    (project / "cmpkg.toml").write_text("[project]\nname = 'p'\n")
    results = Results(project / RESULTS_DIR)
    runs = [
        _record(n, backend, scenario)
        for n, (backend, scenario) in enumerate(
            [(b, s) for b in ("onnxruntime", "pytorch") for s in ("Offline", "SingleStream")] * 2
        )
    ]
    runs.append(_record(9, "pytorch", "Offline", exit_code=1))
    for record in runs:
        results.write_record(record)  # type: ignore[arg-type]
    out = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "cmpkg", "results", "report", "--out", str(out)],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "CMPKG_HOME": str(tmp_path / "home")},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    page = out / "index.html"
    assert done.stdout.strip() == str(page)

    dom = _browse(browser, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr
    rows = re.findall(r'<tr id="run-(run\d\d)"', dom.stdout)
    assert sorted(rows) == sorted(r.run_id for r in runs)  # type: ignore[attr-defined]
    assert dom.stdout.count("<svg") >= 8  # 4 plots for each of the two scenarios
    lock = os.path.relpath("/p/sweep/locks/b.lock", out)  # relative: the report can move
    assert f'<a href="{lock}">lock</a>' in dom.stdout
    assert re.search(r'<a href="[./]*r/1">results</a>', dom.stdout)
    assert 'class="failed"' in dom.stdout

    shot = tmp_path / "shot.png"
    taken = _browse(
        browser,
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1280,1600",
        page.as_uri(),
    )
    assert taken.returncode == 0 and shot.is_file(), taken.stderr
    from PIL import Image

    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 16  # text, bars and lines, not one blank fill
