"""The pure parts of `cmpkg submission`: the round's rules, the manifest and its template,
probe parsers, the compliance verifications, the official checker's log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tomllib

from cmpkg.errors import InputError
from cmpkg.submission import cells, manifest, official, rules, system, template, verify

CPUINFO = """processor\t: 0
model name\t: AMD EPYC 7B13 64-Core Processor
cpu MHz\t\t: 2450.000
physical id\t: 0
cpu cores\t: 2

processor\t: 1
model name\t: AMD EPYC 7B13 64-Core Processor
physical id\t: 0
cpu cores\t: 2
"""


def test_the_round_says_which_scenarios_and_compliance_tests_each_benchmark_needs() -> None:
    v60 = rules.load("v6.0")
    assert v60.required_scenarios("resnet50", "edge") == ("SingleStream", "MultiStream", "Offline")
    assert v60.required_scenarios("bert-99", "edge") == ("SingleStream", "Offline")
    assert v60.required_scenarios("resnet50", "datacenter") is None  # edge-only in v6.0
    assert v60.compliance_tests("resnet50") == ("TEST01", "TEST04")
    assert v60.compliance_tests("bert-99") == ("TEST01",)
    metric, target = v60.accuracy_target("resnet50") or ("", 0.0)
    assert metric == "acc" and target == pytest.approx(76.46 * 0.99)


def test_an_unknown_round_is_a_usage_error_naming_the_known_ones() -> None:
    with pytest.raises(Exception, match=r"v9\.9") as caught:
        rules.load("v9.9")
    assert "v6.0" in str(getattr(caught.value, "hint", ""))


def _manifest(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cmpkg.toml"
    path.write_text('[project]\nname = "p"\n\n' + text)
    return path


def test_the_template_is_valid_as_written_and_marks_its_placeholders(tmp_path: Path) -> None:
    probed = system.parse_cpuinfo(CPUINFO) | {"accelerators_per_node": "0"}
    benchmarks = [("resnet50", "mlperf-resnet50", ("SingleStream", "MultiStream", "Offline"), ())]
    text = template.render("(placeholder)-org", "sys-1", "cpu", benchmarks, probed)
    tomllib.loads(text)
    found = manifest.load(_manifest(tmp_path, text))
    assert found is not None and found.benchmarks[0].app == "mlperf-resnet50"
    assert dict(found.system_fields)["host_processor_model_name"].startswith("AMD EPYC")
    assert "submission.submitter" in found.placeholders()
    assert "submission.description.cooling" in found.placeholders()


def test_every_manifest_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = _manifest(
        tmp_path,
        '[submission]\nsubmitter = "a/b"\ndivision = "secret"\nsystem = "s"\ncolour = 1\n'
        '[submission.benchmarks.resnet50]\napp = "x"\nscenarios = ["Sometimes"]\n',
    )
    with pytest.raises(InputError) as caught:
        manifest.load(path)
    text = "\n".join(caught.value.details)
    for expected in (
        "submission.submitter",
        "submission.division",
        "submission.colour",
        "submission.benchmarks.resnet50.scenarios",
    ):
        assert expected in text, text


def test_cpuinfo_and_caches_are_read_in_the_checker_s_words() -> None:
    facts = system.parse_cpuinfo(CPUINFO)
    assert facts["host_processor_model_name"] == "AMD EPYC 7B13 64-Core Processor"
    assert facts["host_processors_per_node"] == "1" and facts["host_processor_core_count"] == "2"
    assert facts["host_processor_frequency"] == "2450 MHz"
    caches = [("1", "Data", "32K"), ("2", "Unified", "512K"), ("1", "Instruction", "32K")]
    assert system.parse_caches(caches) == "L1d: 32K, L1i: 32K, L2: 512K"
    assert system.parse_mem_total_gib("MemTotal:       16777216 kB\n") == "16.0 GB"


def test_open_division_runs_no_compliance_tests(tmp_path: Path) -> None:
    text = (
        '[submission]\nsubmitter = "o"\nsystem = "s"\ndivision = "open"\n'
        '[submission.benchmarks.resnet50]\napp = "a"\nscenarios = ["Offline"]\n'
    )
    found = manifest.load(_manifest(tmp_path, text))
    assert found is not None
    names = [p.name for p in cells.parts(found, rules.load("v6.0"))]
    assert names == ["accuracy", "performance"]
    closed = manifest.load(_manifest(tmp_path, text.replace('"open"', '"closed"')))
    assert closed is not None
    names = [p.name for p in cells.parts(closed, rules.load("v6.0"))]
    assert names == ["accuracy", "performance", "TEST01", "TEST04"]


def _log(path: Path, entries: list[tuple[int, str]]) -> Path:
    path.write_text(json.dumps([{"qsl_idx": i, "data": d} for i, d in entries]))
    return path


def test_test01_accuracy_passes_only_when_every_logged_response_matches(tmp_path: Path) -> None:
    ref = _log(tmp_path / "ref.json", [(0, "00"), (1, "01"), (2, "02")])
    same = _log(tmp_path / "same.json", [(2, "02"), (0, "00")])
    other = _log(tmp_path / "other.json", [(2, "03")])
    assert verify.test01_accuracy(ref, same).endswith("TEST PASS\n")
    assert "TEST FAIL" in verify.test01_accuracy(ref, other)
    assert "TEST FAIL" in verify.test01_accuracy(ref, _log(tmp_path / "none.json", []))


def _detail(path: Path, scenario: str, value: float, validity: str = "VALID") -> Path:
    entries = [
        ("effective_scenario", scenario),
        ("result_validity", validity),
        ("result_samples_per_second", value),
    ]
    path.write_text("".join(f":::MLLOG {json.dumps({'key': k, 'value': v})}\n" for k, v in entries))
    return path


@pytest.mark.parametrize(
    ("test", "value", "verdict"),
    [
        ("TEST01", 105.0, True),
        ("TEST01", 80.0, False),
        ("TEST04", 80.0, True),
        ("TEST04", 115.0, False),
    ],
)
def test_performance_verification_uses_the_round_s_threshold(
    tmp_path: Path, test: str, value: float, verdict: bool
) -> None:
    ref = _detail(tmp_path / "ref.txt", "Offline", 100.0)
    got = _detail(tmp_path / "got.txt", "Offline", value)
    assert verify.passed(verify.performance(test, ref, got, rules.load("v6.0"))) is verdict


def test_an_invalid_reference_fails_the_verification(tmp_path: Path) -> None:
    ref = _detail(tmp_path / "ref.txt", "Offline", 100.0, "INVALID")
    got = _detail(tmp_path / "got.txt", "Offline", 100.0)
    assert "Reference results are invalid" in verify.performance(
        "TEST04", ref, got, rules.load("v6.0")
    )


def test_the_official_checker_s_log_gives_its_errors_and_summary() -> None:
    log = (
        "INFO:main:Loading System log\n"
        "[2026-12-02 loader.py:40 ERROR] closed/x/systems/s.json, field cooling is missing\n"
        "ERROR:main:SUMMARY: submission has errors\n"
    )
    errors, summary = official.parse_log(log)
    assert summary == "submission has errors" and len(errors) == 2
    assert official.parse_log("INFO:main:SUMMARY: submission looks OK\n") == (
        (),
        "submission looks OK",
    )


def test_a_compliance_part_runs_under_its_reference_runs_settings_rate(tmp_path: Path) -> None:
    from cmpkg.submission import runner

    reference = tmp_path / "resnet50" / "Offline" / "performance" / "result.json"
    reference.parent.mkdir(parents=True)
    loadgen = {"calibrated_samples_per_second": 9.5, "settings_samples_per_second": 9.5}
    reference.write_text(json.dumps({"loadgen": loadgen}))
    part = cells.Part("resnet50", "Offline", "TEST01")
    assert runner.reference_args(part, tmp_path) == ("--settings-rate", "9.5")
    assert runner.reference_args(cells.Part("resnet50", "Offline", "performance"), tmp_path) == ()
    assert runner.reference_args(cells.Part("bert-99", "Offline", "TEST01"), tmp_path) == ()


def test_the_round_s_seeds_are_the_checker_s_and_its_loadgen_release_holds_them() -> None:
    # MODEL_CONFIG['v6.0']['seeds'] of the official checker; LoadGen takes its seeds from
    # its built-in mlperf.conf only, so the round names the release that has these.
    v60 = rules.load("v6.0")
    assert v60["seeds"] == {
        "qsl_rng_seed": 2465351861681999779,
        "sample_index_rng_seed": 14276810075590677512,
        "schedule_rng_seed": 3936089224930324775,
    }
    pin = v60["loadgen"]
    from cmpkg.shipped import SHIPPED_INDEX

    recipe = SHIPPED_INDEX / "libraries" / pin["package"] / f"{pin['version']}.toml"
    assert f'requirements = ["{pin["package"]}=={pin["version"]}"]' in recipe.read_text()


def test_submission_init_requests_the_round_s_loadgen(tmp_path: Path) -> None:
    from cmpkg.commands import submission

    (tmp_path / "cmpkg.toml").write_text(
        '[project]\nname = "p"\nrequests = []\ntargets = ["cpu"]\n'
    )
    done = submission.init(tmp_path, [("resnet50", "mlperf-resnet50")], "Org")
    assert done.added_requests == ("mlperf-resnet50", "mlcommons-loadgen ==6.0.15")
    requests = tomllib.loads((tmp_path / "cmpkg.toml").read_text())["project"]["requests"]
    assert "mlcommons-loadgen ==6.0.15" in requests


def test_submission_init_gives_each_benchmark_its_app_s_accuracy_level(tmp_path: Path) -> None:
    """An app of several levels runs its default one unless told (mlperf-yolo's is 99); the
    level is the app recipe's `level` variant, and a name with a dot is one TOML key."""
    from cmpkg.commands import submission

    (tmp_path / "cmpkg.toml").write_text(
        '[project]\nname = "p"\nrequests = []\ntargets = ["cpu"]\n'
    )
    picks = [
        ("resnet50", "mlperf-resnet50"),
        ("bert-99.9", "mlperf-bert"),
        ("yolo-95", "mlperf-yolo"),
    ]
    submission.init(tmp_path, picks, "Org")
    found = manifest.load(tmp_path / "cmpkg.toml")
    assert found is not None
    assert {b.name: b.args for b in found.benchmarks} == {
        "resnet50": (),
        "bert-99.9": ("--level", "99.9"),
        "yolo-95": ("--level", "95"),
    }
    assert template.level_args("bert-99", ()) == ()  # an app without levels gets no flag


WRITE_RESULT = "import sys; open(sys.argv[1] + '/result.json', 'w').write(sys.argv[2])"


def test_a_part_whose_app_ran_another_benchmark_stops_the_run(tmp_path: Path) -> None:
    import sys

    from cmpkg.errors import CmpkgError
    from cmpkg.submission import runner

    v60 = rules.load("v6.0")
    part = cells.Part("yolo-95", "Offline", "performance")
    where = part.directory(tmp_path)

    def run(ran: str) -> runner.PartResult:
        result = json.dumps({"benchmark": ran, "valid": True})
        command = [sys.executable, "-c", WRITE_RESULT, str(where), result]
        return runner.run_part(part, command, {}, tmp_path, v60)

    with pytest.raises(CmpkgError) as caught:
        run("yolo-99")
    assert caught.value.code == "wrong-benchmark" and "yolo-99" in str(caught.value)
    assert not (where / cells.DONE).exists()  # run again once the level is given
    assert run("yolo-95").verdict == "VALID" and (where / cells.DONE).is_file()
