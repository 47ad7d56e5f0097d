"""The benchmark scripts of experiments/ run end to end at a tiny size and write their tables (their
numbers are the benchmarks' business, not this test's: only that every pipeline ran)."""

import json
import subprocess
import sys

import pytest

from tests.helpers.common import REPO

pytestmark = pytest.mark.slow


def run_script(name: str, *args: str) -> None:
    result = subprocess.run([sys.executable, str(REPO / "experiments" / name), *args], capture_output=True,
                            text=True, cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]


def test_data_benchmark_measures_every_pipeline_and_ratio(tmp_path, real_videos):
    run_script("bench_data.py", "--workers", "1", "--clips", "8", "--repeats", "1", "--out", str(tmp_path))
    numbers = json.loads((tmp_path / "data_throughput.json").read_text())
    rates = numbers["clips_per_s"]
    assert len(rates) == 13 and all(rate["1"] > 0 for rate in rates.values())
    assert all(ratio["1"] > 0 for ratio in numbers["ratios"].values())
    assert "| pacepred frames / official-style frames |" in (tmp_path / "data_throughput.md").read_text()


def test_training_benchmark_times_plain_framework_and_pipeline(tmp_path):
    run_script("bench_training.py", "--device", "cpu", "--steps", "2", "--warmup", "1", "--repeats", "1",
               "--workers", "1", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path))
    (row,) = json.loads((tmp_path / "training_throughput_cpu.json").read_text())["rows"]
    assert row["plain_clips_s"] > 0 and row["framework_clips_s"] > 0 and row["pipeline_clips_s"] > 0
    assert (row["pipeline_warmup"], row["pipeline_steps"]) == (2, 2)  # 1 worker x prefetch 2: the queue drained first
    assert not list(tmp_path.glob("_bench*"))  # the trainers' folders are temporary


def test_clip_cost_profile_writes_its_table(tmp_path, real_videos):
    run_script("profile_clip_cost.py", "--clips", "8", "--repeats", "1", "--out", str(tmp_path))
    table = (tmp_path / "clip_cost.md").read_text()
    assert "official-style frames: whole dataset item" in table
    # the crop-region decoding row needs libturbojpeg 3 (the turbojpeg wheel, not a dependency)
    assert ("only the crop's region" in table) != ("not found (row left out)" in table)
