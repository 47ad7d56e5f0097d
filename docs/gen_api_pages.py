"""Write the API reference pages (docs/api/*.md) at build time, one page per subpackage of
``src/pacepred``, with a mkdocstrings block per public module (run by mkdocs-gen-files)."""

from __future__ import annotations

from pathlib import Path

import mkdocs_gen_files

SRC = Path(__file__).resolve().parents[1] / "src"

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


def write_pages() -> None:
    for page, (title, package) in PAGES.items():
        with mkdocs_gen_files.open(f"api/{page}.md", "w") as out:
            out.write(f"# {title}\n\n")
            for module in public_modules(package):
                out.write(f"::: {module}\n\n")


if __name__ != "gen_api_pages":  # mkdocs-gen-files runs this file; the tests import it by that name
    write_pages()
