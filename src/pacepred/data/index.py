"""Moved: ``python -m pacepred.prep.index`` (the offline tools are in :mod:`pacepred.prep`)."""

import sys

if __name__ == "__main__":
    sys.exit(f"pacepred.data.index moved: python -m pacepred.prep.index {' '.join(sys.argv[1:])}")
