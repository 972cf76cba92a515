"""The settings each shipped editor config sends by default, read from the configs themselves.

VS Code's defaults come from `editors/vscode/package.json` (`contributes.configuration`), turned
into the nested object the extension sends; Neovim's from `defaults.settings` in
`editors/neovim/lua/beastmode/init.lua`, evaluated by a headless Neovim when one is installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# The extension keeps these for itself and never sends them (editors/vscode/src/settings.ts).
EXTENSION_ONLY = ("server", "trace")


def vscode_defaults() -> dict[str, Any]:
    """Every `beastmode.*` default of the VS Code extension, as one nested settings object."""
    manifest = json.loads((ROOT / "editors/vscode/package.json").read_text())
    properties = manifest["contributes"]["configuration"]["properties"]
    settings: dict[str, Any] = {}
    for name, schema in properties.items():
        path = name.removeprefix("beastmode.").split(".")
        if path[0] in EXTENSION_ONLY or "default" not in schema:
            continue
        node = settings
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = schema["default"]
    return settings


def neovim_defaults() -> dict[str, Any] | None:
    """`defaults.settings` of the Neovim config, or None when Neovim is not installed."""
    nvim = shutil.which("nvim")
    if nvim is None:
        return None
    lua = ROOT / "editors/neovim/lua/beastmode/init.lua"
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "settings.json"
        script = Path(scratch) / "dump.lua"
        # `defaults` is local to the module; M.setup closes over it. (Neovim 0.7 has no `-l`.)
        script.write_text(
            f"local M = dofile({json.dumps(str(lua))})\n"
            "for i = 1, 200 do\n"
            "  local name, value = debug.getupvalue(M.setup, i)\n"
            "  if name == nil then break end\n"
            "  if name == 'defaults' then\n"
            f"    local file = io.open({json.dumps(str(out))}, 'w')\n"
            "    file:write(vim.json.encode(value.settings))\n"
            "    file:close()\n"
            "  end\n"
            "end\n"
        )
        subprocess.run(
            [nvim, "--headless", "--clean", "-c", f"luafile {script}", "-c", "qa!"],
            capture_output=True,
            timeout=60,
            check=True,
        )
        value = json.loads(out.read_text())
    return value if isinstance(value, dict) else {}  # Lua's empty table encodes as []
