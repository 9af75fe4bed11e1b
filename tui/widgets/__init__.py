"""Widgets of the duty console (countdown board, item stream, timeline, text charts)."""
