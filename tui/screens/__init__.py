"""Screens of the duty console, one module (and one .tcss) each."""
