"""A registration writer for the SIGKILL durability test: run as a script, killed at random.

`python registry_writer.py PREFIX` registers `PREFIX-0`, `PREFIX-1`, ... (each with the key in
`WRITER_API_KEY`) and removes every third one again, printing `reg ID` / `rm ID` only after the call
returned: a printed line is an acknowledged write.
"""

from __future__ import annotations

import os
import sys

from beastmode.registry import ModelRegistration, Registry


def main(prefix: str) -> None:
    """Write until killed."""
    registry = Registry.open()
    number = 0
    while True:
        model_id = f"{prefix}-{number}"
        registry.register(
            ModelRegistration.parse(
                {
                    "model_name": model_id,
                    "model_id": model_id,
                    "endpoint_url": "http://127.0.0.1:9/v1",
                    "api_key": os.environ["WRITER_API_KEY"],
                    "description": "x" * (number % 7) * 300,
                }
            )
        )
        print(f"reg {model_id}", flush=True)
        if number % 3 == 2:
            registry.remove(f"{prefix}-{number - 1}")
            print(f"rm {prefix}-{number - 1}", flush=True)
        number += 1


if __name__ == "__main__":
    main(sys.argv[1])
