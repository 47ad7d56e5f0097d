"""Pages made at build time (run by mkdocs-gen-files): the API reference (docs/api/*.md), one page
per package of ``src/pacepred`` with a mkdocstrings block per public module, and the committed
result plots copied into the site (experiments/render.py's ``PLOTS``), so each stays one file."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import mkdocs_gen_files

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"

#: page name -> (title, the package whose direct modules it documents)
PAGES = {
    "core": ("Entry points and shared modules", "pacepred"),
    "data": ("Data: records, pace sampling, transforms, datasets", "pacepred.data"),
    "decoding": ("Video decoding", "pacepred.data.decoding"),
    "sources": ("Dataset sources", "pacepred.data.sources"),
    "synthetic": ("Synthetic motion benchmark", "pacepred.data.synthetic"),
    "models": ("Backbones and heads", "pacepred.models"),
    "losses": ("Losses", "pacepred.losses"),
    "modules": ("LightningModules", "pacepred.modules"),
    "evaluation": ("Evaluation", "pacepred.evaluation"),
    "prep": ("Dataset preparation", "pacepred.prep"),
}


def public_modules(package: str) -> list[str]:
    """The package itself, then its direct modules whose names do not start with an underscore."""
    folder = SRC.joinpath(*package.split("."))
    names = sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))
    return [package, *(f"{package}.{name}" for name in names)]


def copy_plots() -> None:
    spec = importlib.util.spec_from_file_location("render", REPO / "experiments" / "render.py")
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    for source, name in render.PLOTS.items():
        if (REPO / source).is_file():
            with mkdocs_gen_files.open(name, "wb") as out:
                out.write((REPO / source).read_bytes())


def write_pages() -> None:
    for page, (title, package) in PAGES.items():
        with mkdocs_gen_files.open(f"api/{page}.md", "w") as out:
            out.write(f"# {title}\n\n")
            for module in public_modules(package):
                out.write(f"::: {module}\n\n")


if __name__ != "gen_pages":  # mkdocs-gen-files runs this file; the tests import it by that name
    write_pages()
    copy_plots()
