"""Command-line interface: ``pensioncert …``."""
