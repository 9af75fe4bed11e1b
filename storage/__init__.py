"""Shared SQLite storage helpers (connection, migrations, time encoding)."""
