"""Performance benchmarks for the glossary core; run ``python -m bench.run``.

See docs/performance.md for what is measured, the targets and a recorded run.
"""
