"""Test helpers: shared paths and config composition (:mod:`.common`), the real clips in each
dataset layout (:mod:`.layouts`, fixtures) and callbacks that training subprocesses load
(:mod:`.seen_videos`, :mod:`.host_waits`)."""
