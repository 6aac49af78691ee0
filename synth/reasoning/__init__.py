"""Reasoning task families: puzzles with an exact verifier and a trace from a real search.

Each module here builds one family (task generator, environment, teachers) and registers it
with :mod:`synth.registry` on import, so the pipeline can name it in a config.
"""
