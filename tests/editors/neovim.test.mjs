// Headless Neovim (Debian's package) drives a BEAST MODE code action through the real
// beastmode-lsp and the scripted model server. Run by scripts/test-editors.sh.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { environment, MODEL_TEXT, startBackend, stopProcess, which } from "./harness.mjs";

const env = environment({ needsCodeServer: false });
const home = mkdtempSync(path.join(tmpdir(), "bm-neovim-suite-"));
let backend;

before(async () => {
  backend = await startBackend(env, home);
});

after(async () => {
  await stopProcess(backend?.modelServer);
  rmSync(home, { recursive: true, force: true });
});

test("headless Neovim applies the Refactor selection code action", { timeout: 150_000 }, () => {
  const project = path.join(home, "project");
  mkdirSync(project, { recursive: true });
  writeFileSync(path.join(project, "pyproject.toml"), "[project]\nname = 'demo'\n");
  const file = path.join(project, "calc.py");
  writeFileSync(file, "def add(a, b):\n    total = a\n    total = total + b\n    return total\n");
  const result = spawnSync("nvim", ["--headless", "-n", "-i", "NONE", "-u", path.join(env.repo, "tests/editors/neovim_refactor.lua")], {
    cwd: project,
    env: {
      ...backend.processEnv,
      BEASTMODE_REPO: env.repo,
      BEASTMODE_LSP: which("beastmode-lsp"),
      BEASTMODE_NVIM_FILE: file,
      XDG_CONFIG_HOME: path.join(home, "config"),
      XDG_DATA_HOME: path.join(home, "data"),
      XDG_STATE_HOME: path.join(home, "state"),
    },
    encoding: "utf8",
    timeout: 120_000,
  });
  const output = `${result.stdout}\n${result.stderr}`;
  if (result.status !== 0) {
    const dir = path.join(env.artifacts, "neovim");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "output.txt"), output);
  }
  assert.equal(result.status, 0, output);
  assert.doesNotMatch(result.stdout, /^not ok/m);
  assert.match(result.stdout, /^ok refactor code action changes the selected lines$/m);
  const text = readFileSync(file, "utf8");
  assert.ok(text.startsWith("def add(a, b):\n") && text.includes(MODEL_TEXT), text);
});
