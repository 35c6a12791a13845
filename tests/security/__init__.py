"""Adversarial suites: crash injection, tamper sweeps, fuzzing and the permission matrix."""
