"""fetch(): integrity, retries, resume, stalls, mirrors and offline mode (RELIABILITY.md A, E).

Every test serves its bytes from a loopback FaultServer; nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmpkg.errors import CmpkgError
from cmpkg.fetch import Artifact, Fetched, destination, fetch, fetch_many, sweep_partials
from tests.support.httpserver import Fault, FaultServer

DATA = os.urandom(300_000) + b"end"
SHA = hashlib.sha256(DATA).hexdigest()
FAST = {"backoff": 0.01, "stall_timeout": 2.0}


def artifact(*urls: str, sha256: str | None = SHA, size: int | None = len(DATA)) -> Artifact:
    return Artifact("demo model", tuple(urls), "model.bin", sha256=sha256, size=size)


def stored(dest: Path, sha256: str = SHA) -> Path:
    return dest / f"sha256-{sha256[:32]}" / "model.bin"


def assert_committed(result: Fetched, dest: Path) -> None:
    assert result.path == stored(dest) == destination(artifact("x"), dest)
    assert result.path.read_bytes() == DATA
    assert result.sha256 == SHA and result.size == len(DATA)
    assert list(dest.rglob("*.partial")) == []


def assert_nothing(dest: Path) -> None:
    assert list(dest.rglob("*")) == []  # no file, no partial, not even the bucket dir


# ---------------------------------------------------------------- A. integrity


def test_plain_download(http_server: FaultServer, tmp_path: Path) -> None:
    url = http_server.serve("/m.bin", DATA)
    assert_committed(fetch(artifact(url), tmp_path, **FAST), tmp_path)
    assert http_server.hits("/m.bin") == 1


def test_hash_mismatch_names_artifact_url_and_both_hashes(
    http_server: FaultServer, tmp_path: Path
) -> None:
    evil = DATA[:-3] + b"EVL"
    url = http_server.serve("/m.bin", evil)
    with pytest.raises(CmpkgError) as caught:
        fetch(artifact(url), tmp_path, **FAST)
    error = caught.value
    text = error.message + "\n".join(error.details)
    assert error.code == "hash-mismatch"
    assert "demo model" in text and url in text
    assert SHA in text and hashlib.sha256(evil).hexdigest() in text
    assert_nothing(tmp_path)
    assert http_server.hits("/m.bin") == 1  # a mismatch is not retried against the same URL


def test_md5_only_artifact_is_checked(http_server: FaultServer, tmp_path: Path) -> None:
    url = http_server.serve("/m.bin", DATA)
    md5 = hashlib.md5(DATA).hexdigest()
    good = Artifact("demo", (url,), "model.bin", md5=md5)
    assert fetch(good, tmp_path, **FAST).sha256 == SHA
    bad = Artifact("demo", (url,), "other.bin", md5="0" * 32)
    with pytest.raises(CmpkgError, match="do not match"):
        fetch(bad, tmp_path, **FAST)
    assert list(tmp_path.rglob("other.bin*")) == []


def test_appended_bytes_refused_and_stream_cut_at_size_plus_one(
    http_server: FaultServer, tmp_path: Path
) -> None:
    http_server.serve("/m.bin", DATA)
    http_server.fail("/m.bin", Fault(extra=b"X" * 5_000_000))
    with pytest.raises(CmpkgError) as caught:
        fetch(artifact(http_server.url("/m.bin")), tmp_path, **FAST)
    assert "longer than the recorded size" in "\n".join(caught.value.details)
    assert_nothing(tmp_path)


def test_body_shorter_than_content_length_is_never_committed(
    http_server: FaultServer, tmp_path: Path
) -> None:
    http_server.serve("/m.bin", DATA)
    # Claims 1 MB more than it sends, then closes: a truncated transfer, every time.
    http_server.fail("/m.bin", Fault(content_length=len(DATA) + 1_000_000), times=10)
    with pytest.raises(CmpkgError) as caught:
        fetch(artifact(http_server.url("/m.bin")), tmp_path, retries=2, **FAST)
    assert caught.value.code == "fetch-failed"
    assert list(tmp_path.rglob("model.bin")) == []


def test_server_short_body_without_known_size_is_never_committed(
    http_server: FaultServer, tmp_path: Path
) -> None:
    http_server.serve("/m.bin", DATA)
    http_server.fail("/m.bin", Fault(content_length=len(DATA) + 10), times=10)
    with pytest.raises(CmpkgError):
        fetch(artifact(http_server.url("/m.bin"), size=None), tmp_path, retries=1, **FAST)
    assert list(tmp_path.rglob("model.bin")) == []


def test_verified_file_is_reused_without_network(http_server: FaultServer, tmp_path: Path) -> None:
    url = http_server.serve("/m.bin", DATA)
    fetch(artifact(url), tmp_path, **FAST)
    again = fetch(artifact(url), tmp_path, **FAST)
    assert again.url == "" and http_server.hits("/m.bin") == 1


# ---------------------------------------------------------------- E. network faults


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_transient_statuses_are_retried(
    http_server: FaultServer, tmp_path: Path, status: int
) -> None:
    http_server.serve("/m.bin", DATA)
    http_server.fail("/m.bin", Fault(status=status), times=3)
    assert_committed(fetch(artifact(http_server.url("/m.bin")), tmp_path, **FAST), tmp_path)
    assert http_server.hits("/m.bin") == 4


def test_retry_after_is_honoured(http_server: FaultServer, tmp_path: Path) -> None:
    http_server.serve("/m.bin", DATA)
    http_server.fail("/m.bin", Fault(status=429, retry_after="0.6"))
    started = time.monotonic()
    fetch(artifact(http_server.url("/m.bin")), tmp_path, **FAST)
    assert time.monotonic() - started >= 0.55


def test_backoff_grows(http_server: FaultServer, tmp_path: Path) -> None:
    http_server.serve("/m.bin", DATA)
    http_server.fail("/m.bin", Fault(status=503), times=3)
    started = time.monotonic()
    fetch(artifact(http_server.url("/m.bin")), tmp_path, backoff=0.05, stall_timeout=2.0)
    # 0.05 * (1 + 2 + 4) * jitter in [0.5, 1.5]
    assert 0.17 <= time.monotonic() - started < 3


def test_gives_up_after_retries(http_server: FaultServer, tmp_path: Path) -> None:
    http_server.serve("/m.bin", DATA)
    http_server.fail("/m.bin", Fault(status=503), times=100)
    with pytest.raises(CmpkgError) as caught:
        fetch(artifact(http_server.url("/m.bin")), tmp_path, retries=3, **FAST)
    assert caught.value.code == "fetch-failed"
    assert "HTTP 503" in "\n".join(caught.value.details)
    assert http_server.hits("/m.bin") == 4


@pytest.mark.parametrize("status", [404, 403])
def test_not_found_and_forbidden_are_not_retried(
    http_server: FaultServer, tmp_path: Path, status: int
) -> None:
    http_server.serve("/m.bin", DATA)
    http_server.fail("/m.bin", Fault(status=status), times=5)
    with pytest.raises(CmpkgError) as caught:
        fetch(artifact(http_server.url("/m.bin")), tmp_path, **FAST)
    assert f"HTTP {status}" in "\n".join(caught.value.details)
    assert http_server.hits("/m.bin") == 1


def test_reset_mid_file_resumes_with_range_and_etag(
    http_server: FaultServer, tmp_path: Path
) -> None:
    http_server.serve("/m.bin", DATA, etag='"abc"')
    http_server.fail("/m.bin", Fault(reset_after=100_000))
    assert_committed(fetch(artifact(http_server.url("/m.bin")), tmp_path, **FAST), tmp_path)
    _, _, headers = http_server.requests[-1]
    assert headers.get("Range") == "bytes=100000-"
    assert headers.get("If-Range") == '"abc"'


def test_resume_ignored_by_server_restarts_from_zero(
    http_server: FaultServer, tmp_path: Path
) -> None:
    http_server.serve("/m.bin", DATA)
    http_server.fail("/m.bin", Fault(reset_after=50_000))
    http_server.fail("/m.bin", Fault(ignore_range=True))  # answers 200 to the Range request
    assert_committed(fetch(artifact(http_server.url("/m.bin")), tmp_path, **FAST), tmp_path)


def test_changed_file_during_resume_is_restarted(http_server: FaultServer, tmp_path: Path) -> None:
    http_server.serve("/m.bin", b"old" * 100_000, etag='"old"')
    # The first answer breaks off; then upstream publishes a new version.
    http_server.fail("/m.bin", Fault(reset_after=50_000, swap_to=(DATA, '"new"')))
    assert_committed(fetch(artifact(http_server.url("/m.bin")), tmp_path, **FAST), tmp_path)
    _, _, resumed = http_server.requests[-1]
    assert resumed.get("If-Range") == '"old"'  # so the server sent the whole new file


def test_partial_without_a_hash_is_not_resumed_across_runs(
    http_server: FaultServer, tmp_path: Path
) -> None:
    url = http_server.serve("/m.bin", DATA)
    unhashed = artifact(url, sha256=None, size=None)
    partial = destination(unhashed, tmp_path).with_name("model.bin.partial")
    partial.parent.mkdir()
    partial.write_bytes(b"from another version")
    result = fetch(unhashed, tmp_path, **FAST)
    assert result.path.read_bytes() == DATA
    assert "Range" not in http_server.requests[-1][2]


def test_stale_partial_from_another_version_is_redone(
    http_server: FaultServer, tmp_path: Path
) -> None:
    stored(tmp_path).parent.mkdir()
    (stored(tmp_path).parent / "model.bin.partial").write_bytes(b"garbage" * 1000)
    url = http_server.serve("/m.bin", DATA)
    assert_committed(fetch(artifact(url), tmp_path, **FAST), tmp_path)


def test_stall_is_aborted_by_the_stall_timeout_and_retried(
    http_server: FaultServer, tmp_path: Path
) -> None:
    http_server.serve("/m.bin", DATA)
    http_server.fail("/m.bin", Fault(stall=5.0))
    started = time.monotonic()
    result = fetch(artifact(http_server.url("/m.bin")), tmp_path, stall_timeout=0.5, backoff=0.01)
    assert_committed(result, tmp_path)
    assert time.monotonic() - started < 3


def test_stall_reported_as_stalled(http_server: FaultServer, tmp_path: Path) -> None:
    http_server.serve("/m.bin", DATA)
    http_server.fail("/m.bin", Fault(stall=5.0), times=3)
    with pytest.raises(CmpkgError) as caught:
        fetch(artifact(http_server.url("/m.bin")), tmp_path, retries=1, stall_timeout=0.3)
    assert "stalled" in "\n".join(caught.value.details)


def test_trickle_counts_as_stalled(http_server: FaultServer, tmp_path: Path) -> None:
    http_server.serve("/m.bin", DATA)
    # 50 bytes every 0.05 s = 1 KB/s, under the speed floor: aborted, then resumed cleanly.
    http_server.fail("/m.bin", Fault(trickle=(50, 0.05)))
    started = time.monotonic()
    result = fetch(artifact(http_server.url("/m.bin")), tmp_path, stall_timeout=0.5, backoff=0.01)
    assert_committed(result, tmp_path)
    assert time.monotonic() - started < 4


def test_slow_but_steady_download_is_not_a_stall(http_server: FaultServer, tmp_path: Path) -> None:
    # No wall-clock cap: 1.5 s of steady 200 KB/s with a 0.5 s stall timeout completes.
    http_server.serve("/m.bin", DATA)
    http_server.fail("/m.bin", Fault(trickle=(20_000, 0.1)))
    result = fetch(artifact(http_server.url("/m.bin")), tmp_path, stall_timeout=0.5, retries=0)
    assert_committed(result, tmp_path)
    assert http_server.hits("/m.bin") == 1


# ---------------------------------------------------------------- mirrors


def test_falls_back_to_second_mirror(http_server: FaultServer, tmp_path: Path) -> None:
    http_server.fail("/a/m.bin", Fault(status=404))
    http_server.serve("/b/m.bin", DATA)
    result = fetch(artifact(http_server.url("/a/m.bin"), http_server.url("/b/m.bin")), tmp_path)
    assert result.url.endswith("/b/m.bin") and not result.warnings


def test_tampered_first_mirror_is_reported_not_skipped(
    http_server: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = http_server.serve("/a/m.bin", b"tampered" + DATA[8:])
    good = http_server.serve("/b/m.bin", DATA)
    result = fetch(artifact(bad, good), tmp_path, **FAST)
    assert_committed(result, tmp_path)
    assert result.url == good
    assert len(result.warnings) == 1 and "tampered or stale mirror" in result.warnings[0]
    assert bad in result.warnings[0]
    assert "tampered or stale mirror" in capsys.readouterr().err


def test_local_mirror_paths_and_file_urls(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "m.bin").write_bytes(DATA)
    for number, url in enumerate([str(mirror / "m.bin"), (mirror / "m.bin").as_uri()]):
        dest = tmp_path / f"d{number}"
        assert_committed(fetch(artifact(url), dest), dest)


def test_missing_local_file_falls_through(http_server: FaultServer, tmp_path: Path) -> None:
    url = http_server.serve("/m.bin", DATA)
    result = fetch(artifact(str(tmp_path / "nope.bin"), url), tmp_path / "d", **FAST)
    assert result.url == url


# ---------------------------------------------------------------- offline


def test_offline_uses_only_local_and_loopback_with_no_other_socket(
    http_server: FaultServer, tmp_path: Path, socket_log: object
) -> None:
    url = http_server.serve("/m.bin", DATA)
    remote = "https://example.invalid/m.bin"
    result = fetch(artifact(remote, url), tmp_path, offline=True, **FAST)
    assert result.url == url
    assert socket_log.remote() == []  # type: ignore[attr-defined]


def test_redirects_followed_online_refused_offline(
    http_server: FaultServer, tmp_path: Path, socket_log: object
) -> None:
    http_server.serve("/real.bin", DATA)
    http_server.fail("/r.bin", Fault(status=302, location=http_server.url("/real.bin")))
    assert_committed(fetch(artifact(http_server.url("/r.bin")), tmp_path, **FAST), tmp_path)
    http_server.fail("/evil.bin", Fault(status=302, location="https://example.invalid/m.bin"))
    with pytest.raises(CmpkgError) as caught:
        fetch(artifact(http_server.url("/evil.bin")), tmp_path / "x", offline=True, **FAST)
    assert "redirect" in "\n".join(caught.value.details)
    assert socket_log.remote() == []  # type: ignore[attr-defined]


def test_offline_with_a_full_cache_opens_no_socket_at_all(
    http_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    url = http_server.serve("/m.bin", DATA)
    fetch(artifact(url), tmp_path, **FAST)
    opened: list[object] = []
    real_init = socket.socket.__init__

    def counting_init(self: socket.socket, *args: object, **kwargs: object) -> None:
        opened.append(args)
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "__init__", counting_init)
    result = fetch(artifact("https://example.invalid/m.bin"), tmp_path, offline=True)
    assert result.sha256 == SHA and opened == []


def test_offline_missing_artifact_names_it_and_every_place(
    tmp_path: Path, socket_log: object
) -> None:
    urls = ("https://example.invalid/m.bin", "https://mirror.invalid/m.bin")
    with pytest.raises(CmpkgError) as caught:
        fetch(artifact(*urls), tmp_path, offline=True)
    error = caught.value
    assert error.code == "offline-unavailable" and "demo model" in error.message
    assert all(any(u in d for d in error.details) for u in urls)
    assert socket_log.addresses == []  # type: ignore[attr-defined]


def test_offline_local_mirror_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "mirror" / "m.bin"
    with pytest.raises(CmpkgError) as caught:
        fetch(artifact(str(missing), "https://example.invalid/m.bin"), tmp_path, offline=True)
    assert str(missing) in "\n".join(caught.value.details)


# ---------------------------------------------------------------- many, partials, progress


def test_fetch_many_in_parallel_in_order(http_server: FaultServer, tmp_path: Path) -> None:
    blobs = [os.urandom(10_000 + i) for i in range(8)]
    arts = [
        Artifact(f"a{i}", (http_server.serve(f"/{i}", b),), f"f{i}", hashlib.sha256(b).hexdigest())
        for i, b in enumerate(blobs)
    ]
    http_server.fail("/3", Fault(status=503))
    results = fetch_many(arts, tmp_path, jobs=4, backoff=0.01)
    assert [r.path.read_bytes() for r in results] == blobs


def test_fetch_many_reports_every_failure(http_server: FaultServer, tmp_path: Path) -> None:
    good = http_server.serve("/g", b"good")
    arts = [
        Artifact("good", (good,), "g", hashlib.sha256(b"good").hexdigest()),
        Artifact("gone1", (http_server.url("/x"),), "x"),
        Artifact("gone2", (http_server.url("/y"),), "y"),
    ]
    with pytest.raises(CmpkgError, match="2 of 3") as caught:
        fetch_many(arts, tmp_path, backoff=0.01)
    assert any("gone1" in d for d in caught.value.details)
    assert destination(arts[0], tmp_path).read_bytes() == b"good"


def test_ctrl_c_during_fetch_many_returns_promptly(
    http_server: FaultServer, tmp_path: Path
) -> None:
    import signal
    import threading

    arts = []
    for i in range(3):
        http_server.serve(f"/{i}", DATA)
        # 30 chunks 0.5 s apart: each download needs ~15 s, far longer than a prompt return.
        http_server.fail(f"/{i}", Fault(trickle=(10_000, 0.5)))
        arts.append(artifact(http_server.url(f"/{i}")))
    arts = [Artifact(f"a{i}", a.urls, f"f{i}", a.sha256, a.size) for i, a in enumerate(arts)]
    interrupted = threading.Event()
    signalled: list[float] = []

    def interrupt_once_all_downloads_started() -> None:
        # Wait on the server's own record of the requests (not a fixed delay), so a loaded
        # machine cannot interrupt before the workers are mid-download.
        while not interrupted.wait(0.01):
            if all(http_server.hits(f"/{i}") for i in range(3)):
                signalled.append(time.monotonic())
                os.kill(os.getpid(), signal.SIGINT)
                return

    watcher = threading.Thread(target=interrupt_once_all_downloads_started, daemon=True)
    watcher.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            fetch_many(arts, tmp_path, jobs=3, stall_timeout=30.0)
    finally:
        interrupted.set()
    # Returned long before the ~15 s the downloads still needed: the workers were stopped.
    assert signalled and time.monotonic() - signalled[0] < 5.0
    assert not [t for t in threading.enumerate() if t.name.startswith("fetch")]
    assert sweep_partials(tmp_path)  # the partials are left unlocked, ready to resume


def test_progress_protocol_sees_every_byte(http_server: FaultServer, tmp_path: Path) -> None:
    events: list[tuple[str, int | None]] = []

    class Recorder:
        def start(self, name: str, total: int | None) -> None:
            events.append(("start", total))

        def advance(self, name: str, nbytes: int) -> None:
            events.append(("advance", nbytes))

        def finish(self, name: str) -> None:
            events.append(("finish", None))

    url = http_server.serve("/m.bin", DATA)
    fetch(artifact(url), tmp_path, progress=Recorder(), **FAST)
    assert events[0] == ("start", len(DATA)) and events[-1] == ("finish", None)
    assert sum(n for kind, n in events if kind == "advance" and n) == len(DATA)


def test_stderr_progress_bar_draws_and_clears() -> None:
    import io

    from cmpkg.fetch import StderrProgress, default_progress

    stream = io.StringIO()
    bar = StderrProgress(stream)
    bar.start("model", 2 * 2**20)
    bar.advance("model", 2**20)
    bar.finish("model")
    drawn = "fetching model  1.0/2.0 MiB"
    assert drawn in stream.getvalue()
    # not a colour terminal (nor NO_COLOR's): cleared with spaces, never an escape code
    assert stream.getvalue().endswith("\r" + " " * len(drawn) + "\r")
    assert "\x1b" not in stream.getvalue()
    assert default_progress(json_output=True) is None


def test_dead_partials_are_swept_live_ones_kept(tmp_path: Path) -> None:
    dead = tmp_path / "dead.bin.partial"
    dead.write_bytes(b"x")
    live = tmp_path / "live.bin.partial"
    live.write_bytes(b"y")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(live)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        assert sweep_partials(tmp_path) == [dead]
        assert live.exists() and not dead.exists()
    finally:
        holder.kill()
        holder.wait()
    assert sweep_partials(tmp_path) == [live]


_HOLD_LOCK = """
import fcntl, sys, time
fh = open(sys.argv[1], "rb")
fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(60)
"""


def test_concurrent_fetch_of_one_file_downloads_once(
    http_server: FaultServer, tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    http_server.serve("/m.bin", DATA)
    http_server.fail("/m.bin", Fault(trickle=(100_000, 0.1)))  # slow enough to overlap
    url = http_server.url("/m.bin")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: fetch(artifact(url), tmp_path, **FAST), range(4)))
    assert {r.sha256 for r in results} == {SHA}
    assert http_server.hits("/m.bin") == 1
