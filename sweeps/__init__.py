"""Sweep scripts, one per study (run as files or with python -m sweeps.<name>)."""
