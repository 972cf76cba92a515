"""End-to-end tests: the real server process over stdio, driven by pytest-lsp."""
