"""What the tests (tests/) and the benchmarks (bench/) share: databases, the sample photos, a real
server in this process or as a subprocess, a private MariaDB, the load and fuzz drivers.

tests/ and bench/ import this package and the code under test, never each other
(tests/test_layout.py checks it). Not shipped in the wheel (setup.cfg lists the packages).
"""
