"""`python -m beastmode` / `beastmode-lsp`: the language server on stdio (or `--tcp HOST:PORT`)."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Start the language server; logs go to stderr, never stdout (stdout is the protocol)."""
    parser = argparse.ArgumentParser(prog="beastmode-lsp", description="BEAST MODE language server")
    parser.add_argument("--stdio", action="store_true", help="talk LSP on stdin/stdout (default)")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead, for debugging")
    parser.add_argument("--log-level", default="WARNING", help="stderr log level (default WARNING)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("pygls").setLevel(max(logging.WARNING, logging.getLogger().level))

    from beastmode.lsp.server import build_server
    from beastmode.redaction import install_log_redaction

    server = build_server()
    install_log_redaction(server.redactor)  # our log lines and httpx's (URLs at INFO)
    gc.freeze()  # startup objects live as long as the process: keep them out of full collections
    # The local engine learns files in a worker thread. With the default 5 ms GIL switch interval
    # the event loop could wait that long at every wake-up (stdin, upstream chunks) while it
    # learns; 0.5 ms keeps the typing path responsive for a small cost to learning throughput.
    sys.setswitchinterval(0.0005)
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
    return 0


if __name__ == "__main__":
    sys.exit(main())
