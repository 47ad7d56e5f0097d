"""The multirun summary: one row per job with its swept values and metrics, one plot panel per metric."""

import json

from pacepred.sweeps import read_jobs, swept_keys, write_summary


def fake_job(sweep_dir, job, overrides, metrics):
    (sweep_dir / job / ".hydra").mkdir(parents=True)
    (sweep_dir / job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    (sweep_dir / job / "metrics.json").write_text(json.dumps({"metrics": metrics}))


def test_summary_lists_monitor_metrics_and_writes_where_asked(tmp_path):
    sweep = tmp_path / "sweep"
    for job, (boundary, seed, acc, top5) in enumerate([("fit", 0, 0.5, 0.4), ("loop", 0, 0.6, 0.3), ("fit", 1, 0.52, 0.42)]):
        resumed = ["ckpt_path=last"] if job == 1 else []  # Hydra records a resumed job's command
        fake_job(sweep, str(job), ["experiment=proof", f"data.boundary={boundary}", f"seed={seed}", *resumed],
                 {"val/pace_acc": acc, "monitor/retrieval_top5": top5, "other": 1.0})
    jobs = read_jobs(sweep)
    assert swept_keys(jobs) == ["data.boundary", "seed"]  # not ckpt_path: how a job ran, not what it computed
    table, plot = write_summary(sweep, ["val/pace_acc", "monitor/retrieval_top5"], tmp_path / "out")
    assert table.parent == plot.parent == tmp_path / "out" and plot.stat().st_size > 1000
    lines = table.read_text().splitlines()
    assert lines[2] == "| job | data.boundary | seed | monitor/retrieval_top5 | val/pace_acc |"
    assert lines[5] == "| 1 | loop | 0 | 0.3000 | 0.6000 |"
