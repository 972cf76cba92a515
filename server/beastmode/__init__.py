"""BEAST MODE: your own code models in every editor (see README.md)."""
