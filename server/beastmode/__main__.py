"""`python -m beastmode` / `beastmode-lsp`: the language server on stdio, a Unix socket or TCP."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from beastmode import __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Start the language server; logs go to stderr, never stdout (stdout is the protocol)."""
    parser = argparse.ArgumentParser(prog="beastmode-lsp", description="BEAST MODE language server")
    parser.add_argument("--version", action="version", version=f"beastmode-lsp {__version__}")
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="LSP on stdin/stdout (default)")
    transport.add_argument(
        "--socket",
        metavar="PATH",
        help="serve one client on a Unix socket created 0600 in a private (0700) directory",
    )
    transport.add_argument(
        "--tcp",
        metavar="HOST:PORT",
        help="serve one client on loopback TCP (--socket is safer: any local user may connect)",
    )
    parser.add_argument("--log-level", default="WARNING", help="stderr log level (default WARNING)")
    args = parser.parse_args(argv)

    from beastmode.lsp.transport import TransportError, loopback_address

    tcp_address = None
    if args.tcp:
        try:
            tcp_address = loopback_address(args.tcp)
        except TransportError as exc:
            parser.error(str(exc))  # exits 2
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
    try:
        if args.socket:
            return server.start_socket(Path(args.socket).expanduser().absolute())
        if tcp_address is not None:
            return server.start_tcp(*tcp_address)
    except TransportError as exc:
        print(f"beastmode-lsp: {exc}", file=sys.stderr)
        return 2
    return server.start_io()


if __name__ == "__main__":
    sys.exit(main())
