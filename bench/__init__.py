"""The desk's benchmarks: `yuqing bench` runs :mod:`bench.suite`; each other module is a
measure run by hand as ``python -m bench.NAME`` (or ``python bench/NAME.py``)."""
