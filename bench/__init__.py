"""kfsync's benchmark harness: scenarios with targets, run by `python bench/run.py [--quick]`.

The emulator and every measured kfsync command run as separate processes
(`harness`); the synthetic shops come from `workload`; each scenario module
returns a `report.Table`, and `run` writes them all to bench/RESULTS.md.
"""
