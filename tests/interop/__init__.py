"""Interop suite: BEAST MODE against a real gateway (LiteLLM's proxy)."""
