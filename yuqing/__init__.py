"""Thin wiring: CLI, configuration, the run pipeline and the demo."""
