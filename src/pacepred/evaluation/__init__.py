"""Downstream evaluation: multi-clip data, features, retrieval, kNN, linear probe, checkpoints, reports.

The entry point is :mod:`pacepred.eval`; every module here is a small piece it wires together.
"""
