"""Benchmarks: the vault against restic, borg and `tar | age`, side by side on the same data.

Run `python -m benchmarks.run --help` from the repository root; `benchmarks/README.md` has the
exact command, the machine and the latest results.
"""
