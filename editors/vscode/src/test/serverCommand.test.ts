import assert from "node:assert/strict";
import { test } from "node:test";
import { findOnPath, resolveServerCommand, serverFailureMessage, type Host } from "../serverCommand";

function host(executables: string[], platform: NodeJS.Platform = "linux", env: Record<string, string> = { PATH: "/usr/local/bin:/usr/bin" }): Host {
  return { platform, env, isExecutable: (file) => executables.includes(file) };
}

const NO_SETTINGS = { command: "", args: [], python: "" };

test("an explicit command wins and keeps its arguments", () => {
  assert.deepEqual(resolveServerCommand({ command: " /opt/bm/bin/beastmode-lsp ", args: ["--log"], python: "" }, host([])), {
    command: "/opt/bm/bin/beastmode-lsp",
    args: ["--log"],
    source: "setting",
  });
});

test("beastmode-lsp on PATH is used by its full path", () => {
  assert.deepEqual(resolveServerCommand(NO_SETTINGS, host(["/usr/bin/beastmode-lsp"])), {
    command: "/usr/bin/beastmode-lsp",
    args: [],
    source: "path",
  });
});

test("the first PATH entry that has it wins", () => {
  assert.equal(findOnPath("beastmode-lsp", host(["/usr/bin/beastmode-lsp", "/usr/local/bin/beastmode-lsp"])), "/usr/local/bin/beastmode-lsp");
});

test("without beastmode-lsp it runs python -m beastmode with the configured python", () => {
  assert.deepEqual(resolveServerCommand({ ...NO_SETTINGS, python: "/home/me/.venv/bin/python" }, host([])), {
    command: "/home/me/.venv/bin/python",
    args: ["-m", "beastmode"],
    source: "python",
  });
});

test("the python fallback defaults to python3, and python on Windows", () => {
  assert.equal(resolveServerCommand(NO_SETTINGS, host([])).command, "python3");
  assert.equal(resolveServerCommand(NO_SETTINGS, host([], "win32", { Path: "C:\\py" })).command, "python");
});

test("Windows lookup honours PATHEXT", () => {
  const found = findOnPath("beastmode-lsp", host(["C:\\venv\\Scripts\\beastmode-lsp.exe"], "win32", { Path: "C:\\tools;C:\\venv\\Scripts", PATHEXT: ".COM;.EXE" }));
  assert.equal(found, "C:\\venv\\Scripts\\beastmode-lsp.exe");
});

test("the failure message says how to install the server", () => {
  const message = serverFailureMessage({ command: "python3", args: ["-m", "beastmode"], source: "python" }, "could not be found");
  assert.match(message, /^BEAST MODE: the language server \(python3 -m beastmode\) could not be found\. Install the server with `pipx install beastmode`/);
});

test("the failure message for a configured command points at the setting", () => {
  const message = serverFailureMessage({ command: "/x/beastmode-lsp", args: [], source: "setting" }, "exited");
  assert.match(message, /Check the path in the setting beastmode\.server\.command/);
});
