"""The documentation site: it builds with ``mkdocs build --strict`` (no broken link, anchor or
reference), its API reference covers every public package, and the results sections of the README
and the docs are what the committed result files render to (``experiments/render.py --check``)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

from tests.helpers.common import REPO

QUIET = {"DISABLE_MKDOCS_2_WARNING": "true", "NO_MKDOCS_2_WARNING": "1"}


def test_docs_build_strict(tmp_path):
    """``make docs``'s build into a temporary folder: any warning fails it under --strict."""
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=REPO, capture_output=True, text=True, env={**os.environ, **QUIET}, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    for page in ("getting-started", "method", "datasets", "training", "evaluation", "recipes", "evidence",
                 "performance", "troubleshooting", "development", "api/data"):
        assert (tmp_path / "site" / page / "index.html").is_file(), page


def test_api_reference_covers_every_package():
    """Every package under src/pacepred has an API page (docs/gen_pages.py writes them)."""
    spec = importlib.util.spec_from_file_location("gen_pages", REPO / "docs" / "gen_pages.py")
    pages = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pages)
    documented = {package for _, package in pages.PAGES.values()}
    src = REPO / "src"
    packages = {".".join(p.parent.relative_to(src).parts) for p in (src / "pacepred").rglob("__init__.py")}
    assert packages <= documented, f"packages without an API page: {sorted(packages - documented)}"


def test_results_sections_are_current():
    """The tables in README.md and docs/ are those the committed result files render to."""
    done = subprocess.run([sys.executable, str(REPO / "experiments" / "render.py"), "--check"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_training_page_lists_every_config_choice():
    """docs/training.md's table of configuration groups names every group and choice of conf/."""
    page = (REPO / "docs" / "training.md").read_text()
    missing = [f"{group.name}={choice.stem}" for group in sorted((REPO / "conf").iterdir())
               if group.is_dir() and group.name != "hydra" for choice in sorted(group.glob("*.yaml"))
               if not choice.stem.startswith("_") and f"`{choice.stem}`" not in page and choice.stem not in page]
    assert not missing, f"configuration choices missing from docs/training.md: {missing}"
