"""The BEAST MODE test suite."""
