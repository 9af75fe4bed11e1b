"""Bundled district data: gazetteer, routing, lexicons, default sources, demo scenario."""
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
DEMO_DIR = DATA_DIR / "demo"
