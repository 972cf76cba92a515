"""BEAST MODE: your own code models in every editor (see README.md)."""

__version__ = "0.1.0"
