"""Names every layer agrees on: what a registered model's id may look like."""

from __future__ import annotations

import re

MODEL_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
