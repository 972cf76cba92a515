"""Generation: prompts for chat, refactor, docs, fix, tests and features, and parsing of answers.

Everything here is pure (no network, no editor protocol): the LSP layer builds a prompt with
`messages`, sends it through the router, turns the answer into code with `parsing` or into files
with `feature`, and places tests with `testfiles`. `regions` finds the code an action applies to.
"""
