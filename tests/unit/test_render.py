"""experiments/render.py: the results sections rendered from result files (no file of the repository is written)."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.helpers.common import REPO


@pytest.fixture(scope="module")
def render():
    spec = importlib.util.spec_from_file_location("render", REPO / "experiments" / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def new_format(claims: list[dict]) -> dict:
    """A proof.json as experiments/proof/run.py writes it, with two conditions and two columns."""
    interval = lambda v: {"value": v, "low": v - 2.5, "high": v + 2.5}  # noqa: E731
    return {"command": "python experiments/proof/run.py", "commit": "abc1234", "date": "2026-12-07", "machine": "x",
            "part": "test", "seeds": [0, 1, 2], "protocol": "experiments/proof/protocol.yaml",
            "labels": {"random": "random init", "pace": "pace (2 paces)"},
            "columns": ["linear top-1", "finetune 10% top-1"],
            "table": {"random": {"linear top-1": interval(20.0), "finetune 10% top-1": None},
                      "pace": {"linear top-1": interval(30.0), "finetune 10% top-1": None}},
            "claims": claims, "runs": {}}


def test_evidence_table_claims_and_seeds(render, tmp_path, monkeypatch):
    claims = [{"kind": "difference", "a": "pace", "b": "random", "column": "linear top-1", "statement": "pace beats random",
               "interval": {"value": 10.0, "low": 4.2, "high": 15.9}, "excludes_zero": True, "met": True},
              {"kind": "gap_share", "method": "pace", "low": "random", "high": "supervised", "column": "linear top-1",
               "target": 0.5, "interval": {"value": 31.0, "low": 20.0, "high": 44.0}, "excludes_zero": True, "met": False},
              {"kind": "difference", "a": "pace", "b": "random", "column": "linear top-1", "statement": "reported: pace against random",
               "interval": {"value": 1.0, "low": -3.0, "high": 5.0}, "excludes_zero": False, "met": False}]
    (tmp_path / "proof.json").write_text(json.dumps(new_format(claims)))
    monkeypatch.setattr(render, "REPO", tmp_path)
    text = "\n".join(render.evidence_section("proof.json", None, "docs/evidence.md"))
    short = "\n".join(render.evidence_section("proof.json", None, "README.md"))  # the README counts the verdicts
    assert "Claims of the protocol: 1 met, 1 not met, 1 reported; each with its interval in" in short
    assert "Test part, seeds 0, 1, 2" in text
    assert "| pace (2 paces) | 30.0 [27.5, 32.5] |" in text
    assert "finetune 10% top-1" not in text  # a column no condition measured is left out
    assert "- **met**: pace beats random: pace (2 paces) minus random init, linear top-1: +10.0 points [+4.2, +15.9]" in text
    assert "**not met**: pace (2 paces) closes 31% [20, 44] of the gap from random init to supervised" in text
    # a comparison reported without a target has no verdict, only its interval
    assert "- **reported**: pace against random: pace (2 paces) minus random init, linear top-1: +1.0 points [-3.0, +5.0]; the interval includes 0" in text


def test_sections_replaced_between_markers_only(render, monkeypatch):
    monkeypatch.setitem(render.SECTIONS, "demo", lambda target: [f"table for {target}"])
    text = "before\n<!-- results:demo -->\nstale\n<!-- /results:demo -->\nafter\n"
    out = render.render(text, "docs/x.md")
    assert out.startswith("before\n<!-- results:demo -->\n") and out.endswith("<!-- /results:demo -->\nafter\n")
    assert "table for docs/x.md" in out and "stale" not in out
    assert render.render(out, "docs/x.md") == out


def test_plots_link_the_repository_file_or_the_site_copy(render):
    plot = "experiments/proof/results/proof.png"
    assert render.plot_link(plot, "README.md", "c") == f"![c]({plot})"
    assert render.plot_link(plot, "docs/evidence.md", "c") == "![c](results/proof.png)"


def test_unknown_section_is_an_error(render):
    with pytest.raises(SystemExit, match="unknown results section"):
        render.render("<!-- results:nope -->\n<!-- /results:nope -->", "README.md")
