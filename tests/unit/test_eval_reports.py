"""Evaluation reports: metrics.json / metrics.md with protocol names, figures, multirun summary."""

import json
import math

import numpy as np
import torch
from omegaconf import OmegaConf

from pacepred.evaluation.report import Report
from pacepred.figures import SheetRow, pca_2d, save_embedding_plot, save_retrieval_sheet
from pacepred.evaluation.summary import MultirunSummary, summarize_sweep


def test_report_writes_every_number_with_its_protocol(tmp_path, capsys):
    report = Report("retrieval", ["A", "B"], info={"checkpoint": "x.ckpt", "test_videos": 3})
    report.add("vcop", "VCOP's protocol", {"top1": 0.5, "mAP": 0.25})
    report.add_per_class("vcop", "top1", torch.tensor([1.0, float("nan")]))
    assert "[retrieval | protocol vcop] top1=0.5000  mAP=0.2500" in capsys.readouterr().out
    report.write(tmp_path)
    payload = json.loads((tmp_path / "metrics.json").read_text())
    assert payload["metrics"] == {"retrieval/vcop/top1": 0.5, "retrieval/vcop/mAP": 0.25}
    assert payload["protocols"] == {"vcop": "VCOP's protocol"} and payload["checkpoint"] == "x.ckpt"
    assert payload["per_class"] == {"retrieval/vcop/top1": {"A": 1.0, "B": None}}
    markdown = (tmp_path / "metrics.md").read_text()
    assert "| retrieval | vcop | top1 | 0.5000 |" in markdown and "| retrieval | vcop | mAP | 0.2500 |" in markdown
    assert "- `vcop`: VCOP's protocol" in markdown and "| B | - |" in markdown


def test_figures_are_written(tmp_path):
    thumb = np.zeros((16, 16, 3), dtype=np.uint8)
    rows = [SheetRow(thumb, "A", [thumb] * 3, ["A", "B", "A"]), SheetRow(thumb, "B", [thumb] * 2, ["A", "B"])]
    assert save_retrieval_sheet(rows, tmp_path / "sheet.png", "sheet").stat().st_size > 0
    features = torch.randn(20, 8)
    labels = torch.arange(20) % 3
    assert save_embedding_plot(features, labels, ["a", "b", "c"], tmp_path / "pca.png", "pca").stat().st_size > 0


def test_pca_keeps_the_leading_directions():
    line = torch.linspace(-1, 1, 50)[:, None] * torch.tensor([[3.0, 4.0, 0.0]]) + 10
    points = pca_2d(line)
    assert points.shape == (50, 2) and points[:, 1].abs().max() < 1e-4
    assert torch.allclose(points[:, 0].abs(), (line - line.mean(0)).norm(dim=1), atol=1e-4)
    assert torch.equal(pca_2d(torch.randn(1, 8)), torch.zeros(1, 2))  # one video (e.g. the rest left out)
    assert pca_2d(torch.randn(5, 1)).shape == (5, 2)


def test_multirun_summary_gives_mean_and_std(tmp_path):
    for job, value in enumerate([0.5, 0.6, 0.7]):
        (tmp_path / str(job) / ".hydra").mkdir(parents=True)
        (tmp_path / str(job) / ".hydra" / "overrides.yaml").write_text(f"- task=finetune\n- data.split={job + 1}\n")
        (tmp_path / str(job) / "metrics.json").write_text(json.dumps({"metrics": {"finetune/10clip/top1": value}}))
    summary = summarize_sweep(tmp_path)
    [group] = summary["groups"]
    assert summary["count"] == group["count"] == 3 and math.isclose(group["mean"]["finetune/10clip/top1"], 0.6)
    assert math.isclose(group["std"]["finetune/10clip/top1"], 0.1)
    MultirunSummary().on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}}))
    assert json.loads((tmp_path / "summary.json").read_text())["count"] == 3
    markdown = (tmp_path / "summary.md").read_text()
    assert "## all jobs: 3 jobs" in markdown
    assert "| task | protocol | metric | data.split=1 | data.split=2 | data.split=3 | mean | std |" in markdown
    assert "| finetune | 10clip | top1 | 0.5000 | 0.6000 | 0.7000 | 0.6000 | 0.1000 |" in markdown


def test_multirun_summary_averages_repeats_of_one_setting_only(tmp_path):
    """Two checkpoints over two splits: two means, not one of all four jobs; a checkpoint that
    changed under ckpt=latest makes a group of its own too."""
    jobs = [("a", 1, 0.9, "aa"), ("a", 2, 0.8, "aa"), ("b", 1, 0.1, "bb"), ("b", 2, 0.2, "bb")]
    for job, (ckpt, split, value, digest) in enumerate(jobs):
        (tmp_path / str(job) / ".hydra").mkdir(parents=True)
        (tmp_path / str(job) / ".hydra" / "overrides.yaml").write_text(f"- ckpt={ckpt}\n- data.split={split}\n")
        (tmp_path / str(job) / "metrics.json").write_text(
            json.dumps({"checkpoint_sha256": digest * 32, "metrics": {"knn/gap/top1": value}}))
    groups = {g["setting"]: g for g in summarize_sweep(tmp_path)["groups"]}
    assert set(groups) == {"ckpt=a checkpoint sha256 aaaaaaaaaaaa", "ckpt=b checkpoint sha256 bbbbbbbbbbbb"}
    assert math.isclose(groups["ckpt=a checkpoint sha256 aaaaaaaaaaaa"]["mean"]["knn/gap/top1"], 0.85)
    for job in (2, 3):  # ckpt=latest twice, resolved to another run's checkpoint the second time
        (tmp_path / str(job) / ".hydra" / "overrides.yaml").write_text(f"- ckpt=latest\n- data.split={job - 1}\n")
    for job in (0, 1):
        (tmp_path / str(job) / ".hydra" / "overrides.yaml").write_text(f"- ckpt=latest\n- data.split={job + 1}\n")
    assert sorted(g["count"] for g in summarize_sweep(tmp_path)["groups"]) == [2, 2]
