"""Inline completion: prompts, budgets, snippets, stop rules, post-processing, cache, debounce.

Every module here is pure (no I/O, no pygls, no httpx); `pipeline.py` wires them to the router.
"""
