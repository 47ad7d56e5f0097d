"""Moved: ``python -m pacepred.prep.prepare`` (the offline tools are in :mod:`pacepred.prep`)."""

import sys

if __name__ == "__main__":
    sys.exit(f"pacepred.data.prepare moved: python -m pacepred.prep.prepare {' '.join(sys.argv[1:])}")
