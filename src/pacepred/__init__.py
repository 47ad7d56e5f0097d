"""pacepred: self-supervised video representation learning by pace prediction."""

__version__ = "0.1.0"
