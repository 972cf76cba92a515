/**
 * Which process to start as the language server: `beastmode.server.command` when set, else
 * `beastmode-lsp` found on PATH, else `python -m beastmode`. The file-system checks are injected
 * so tests can describe any PATH without touching the disk.
 */
import * as path from "node:path";

/** The command line of the server process. */
export interface ServerCommand {
  command: string;
  args: string[];
  /** How it was chosen, for the "server not installed" message. */
  source: "setting" | "path" | "python";
}

/** The extension settings that decide the command. */
export interface ServerCommandSettings {
  command: string;
  args: string[];
  python: string;
}

/** What the resolver may ask about the machine. */
export interface Host {
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  isExecutable: (file: string) => boolean;
}

/** Finds an executable on PATH (honouring PATHEXT on Windows), like `which`. */
export function findOnPath(name: string, host: Host): string | undefined {
  const windows = host.platform === "win32";
  const pathValue = host.env.PATH ?? host.env.Path ?? "";
  const separator = windows ? ";" : ":";
  const extensions = windows ? (host.env.PATHEXT ?? ".EXE;.CMD;.BAT;.COM").split(";").filter(Boolean) : [""];
  const join = windows ? path.win32.join : path.posix.join;
  for (const dir of pathValue.split(separator)) {
    if (dir === "") continue;
    for (const extension of extensions) {
      const candidate = join(dir, name + extension.toLowerCase());
      if (host.isExecutable(candidate)) return candidate;
      if (windows) {
        const upper = join(dir, name + extension);
        if (host.isExecutable(upper)) return upper;
      }
    }
  }
  return undefined;
}

/** Resolves the server command from settings and PATH. */
export function resolveServerCommand(settings: ServerCommandSettings, host: Host): ServerCommand {
  const args = settings.args.filter((arg) => typeof arg === "string");
  const configured = settings.command.trim();
  if (configured !== "") return { command: configured, args, source: "setting" };
  const onPath = findOnPath("beastmode-lsp", host);
  if (onPath !== undefined) return { command: onPath, args, source: "path" };
  const python = settings.python.trim() || (host.platform === "win32" ? "python" : "python3");
  return { command: python, args: ["-m", "beastmode", ...args], source: "python" };
}

/** The user-facing explanation, with the fix, for a server that could not start or keeps exiting. */
export function serverFailureMessage(server: ServerCommand, reason: string): string {
  const shown = [server.command, ...server.args].join(" ");
  const fix =
    server.source === "setting"
      ? "Check the path in the setting beastmode.server.command, or clear it to use beastmode-lsp from PATH."
      : "Install the server with `pipx install beastmode` (or `pip install beastmode` in the Python you use), " +
        "then run BEAST MODE: Restart Server; or set beastmode.server.command to the full path of beastmode-lsp.";
  return `BEAST MODE: the language server (${shown}) ${reason}. ${fix}`;
}
