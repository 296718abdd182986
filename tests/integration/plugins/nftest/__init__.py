"""Plugins for tests/integration/python.sh: one behaviour per function."""
