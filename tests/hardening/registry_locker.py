"""Hold a registry's write lock from another process: run as a script.

`python registry_locker.py DATABASE SECONDS` opens the database, takes its write lock with
`BEGIN EXCLUSIVE`, prints `locked` and keeps the lock for SECONDS (or until killed).
"""

from __future__ import annotations

import sqlite3
import sys
import time


def main(database: str, seconds: float) -> None:
    """Lock, announce, wait, release."""
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    time.sleep(seconds)
    db.execute("ROLLBACK")


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
