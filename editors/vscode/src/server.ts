/**
 * The language client's lifecycle: start the server over stdio, hand it the settings, restart it
 * a few times if it dies, tell the user how to fix it when it cannot run, and send the
 * `workspace/executeCommand` requests the palette commands need.
 */
import * as fs from "node:fs";
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  State,
  Trace,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";
import { findOnPath, resolveServerCommand, serverFailureMessage, type Host, type ServerCommand } from "./serverCommand";
import { buildServerSettings, type ServerSettings } from "./settings";
import { parseStatus, type ClientState, type StatusNotification } from "./status";

const SECTION = "beastmode";
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 3 * 60 * 1000;

/** A `beastmode/chatDelta` notification. */
export interface ChatDelta {
  sessionId: string;
  delta: string;
}

function machineHost(): Host {
  return {
    platform: process.platform,
    env: process.env,
    isExecutable: (file) => {
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
      } catch {
        return false;
      }
    },
  };
}

/** The settings object for the server, read for one resource (or the window). */
export function currentSettings(scope?: vscode.Uri): ServerSettings {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  return buildServerSettings((key) => config.get(key));
}

function serverCommandFromSettings(): ServerCommand {
  const config = vscode.workspace.getConfiguration(SECTION);
  return resolveServerCommand(
    {
      command: config.get<string>("server.command", ""),
      args: config.get<string[]>("server.args", []),
      python: config.get<string>("server.python", ""),
    },
    machineHost(),
  );
}

/** Why the command cannot run at all, checked before spawning (undefined when it looks runnable). */
function missingExecutable(server: ServerCommand): string | undefined {
  const host = machineHost();
  const isPath = server.command.includes("/") || server.command.includes("\\");
  const found = isPath ? host.isExecutable(server.command) : findOnPath(server.command, host) !== undefined;
  return found ? undefined : "could not be found";
}

/** Owns the LanguageClient; recreated on restart. */
export class BeastModeServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;
  private command: ServerCommand | undefined;
  private restarts: number[] = [];
  private readonly statusEmitter = new vscode.EventEmitter<StatusNotification>();
  private readonly stateEmitter = new vscode.EventEmitter<ClientState>();
  private readonly chatEmitter = new vscode.EventEmitter<ChatDelta>();
  private readonly disposables: vscode.Disposable[] = [];

  /** Fires on every `beastmode/status` notification. */
  readonly onStatus = this.statusEmitter.event;
  /** Fires when the client starts, runs or stops. */
  readonly onState = this.stateEmitter.event;
  /** Fires on every `beastmode/chatDelta` notification. */
  readonly onChatDelta = this.chatEmitter.event;

  constructor(private readonly output: vscode.LogOutputChannel) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((event) => this.configurationChanged(event)),
      this.statusEmitter,
      this.stateEmitter,
      this.chatEmitter,
    );
  }

  /** Starts the server if it is not running; resolves to the client, or undefined when it cannot start. */
  start(): Promise<LanguageClient | undefined> {
    if (this.client !== undefined && this.client.state === State.Running) return Promise.resolve(this.client);
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<LanguageClient | undefined> {
    this.stateEmitter.fire("starting");
    const server = serverCommandFromSettings();
    this.command = server;
    const missing = missingExecutable(server);
    if (missing !== undefined) {
      this.stateEmitter.fire("stopped");
      void this.notifyFailure(serverFailureMessage(server, missing));
      return undefined;
    }
    const serverOptions: ServerOptions = {
      command: server.command,
      args: server.args,
      transport: TransportKind.stdio,
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      initializationOptions: currentSettings(),
      outputChannel: this.output,
      markdown: { isTrusted: false, supportHtml: false },
      errorHandler: {
        error: (_error, _message, count) => ({
          action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
          handled: true,
        }),
        closed: () => this.closed(),
      },
      middleware: {
        workspace: {
          // The server asks for section "beastmode" and wants the flat shape of DESIGN.md,
          // without this extension's own server.* and trace.* keys.
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) return answers;
            return params.items.map((item, index) =>
              item.section === SECTION
                ? currentSettings(item.scopeUri === undefined ? undefined : vscode.Uri.parse(item.scopeUri))
                : answers[index],
            );
          },
        },
      },
    };
    const client = new LanguageClient(SECTION, "BEAST MODE", serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((event) => {
      if (event.newState === State.Running) this.stateEmitter.fire("running");
      else if (event.newState === State.Starting) this.stateEmitter.fire("starting");
      else this.stateEmitter.fire("stopped");
    });
    client.onNotification("beastmode/status", (params: unknown) => {
      const status = parseStatus(params);
      if (status !== undefined) this.statusEmitter.fire(status);
    });
    client.onNotification("beastmode/chatDelta", (params: unknown) => {
      const record = params as Partial<ChatDelta> | null;
      if (typeof record?.sessionId === "string" && typeof record.delta === "string") {
        this.chatEmitter.fire({ sessionId: record.sessionId, delta: record.delta });
      }
    });
    try {
      await client.start();
      await this.applyTrace(client);
      return client;
    } catch (error) {
      this.stateEmitter.fire("stopped");
      // A process that started and then exited is reported by closed(), after its restarts.
      if (this.restarts.length === 0) {
        const reason = error instanceof Error ? error.message : String(error);
        void this.notifyFailure(serverFailureMessage(server, `failed to start (${reason})`));
      }
      return undefined;
    }
  }

  private closed(): { action: CloseAction; handled: boolean } {
    const now = Date.now();
    this.restarts = [...this.restarts.filter((time) => now - time < RESTART_WINDOW_MS), now];
    if (this.restarts.length <= MAX_RESTARTS) {
      this.output.appendLine(`BEAST MODE: the server exited; restarting (${this.restarts.length}/${MAX_RESTARTS}).`);
      return { action: CloseAction.Restart, handled: true };
    }
    const server = this.command ?? serverCommandFromSettings();
    void this.notifyFailure(
      serverFailureMessage(server, `exited ${this.restarts.length} times in three minutes (see the BEAST MODE output for its error)`),
    );
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  private async notifyFailure(message: string): Promise<void> {
    this.output.appendLine(message);
    const choice = await vscode.window.showErrorMessage(message, "Show Output", "Open Settings", "Restart Server");
    if (choice === "Show Output") this.output.show(true);
    else if (choice === "Open Settings") await vscode.commands.executeCommand("workbench.action.openSettings", "beastmode.server");
    else if (choice === "Restart Server") await this.restart();
  }

  private async applyTrace(client: LanguageClient): Promise<void> {
    const value = vscode.workspace.getConfiguration(SECTION).get<string>("trace.server", "off");
    await client.setTrace(Trace.fromString(value));
  }

  private configurationChanged(event: vscode.ConfigurationChangeEvent): void {
    if (!event.affectsConfiguration(SECTION)) return;
    const needsRestart = ["server.command", "server.args", "server.python"].some((key) =>
      event.affectsConfiguration(`${SECTION}.${key}`),
    );
    if (needsRestart) {
      void this.restart();
      return;
    }
    const client = this.client;
    if (client === undefined || client.state !== State.Running) return;
    if (event.affectsConfiguration(`${SECTION}.trace.server`)) void this.applyTrace(client);
    void client.sendNotification("workspace/didChangeConfiguration", { settings: currentSettings() });
  }

  /** Stops and starts the server, e.g. after installing it. */
  async restart(): Promise<void> {
    this.restarts = [];
    await this.stop();
    await this.start();
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      try {
        await client.stop(2000);
      } catch {
        // Stopping a client that never got running throws; there is nothing left to stop then.
      }
    }
  }

  /**
   * Runs a server command with one argument object. Errors carry the server's user-facing message.
   * `secret` turns message tracing off for the call, so an API key never reaches the output panel.
   */
  async execute<T>(command: string, argument: object, token?: vscode.CancellationToken, secret = false): Promise<T> {
    const client = await this.start();
    if (client === undefined) throw new Error("The BEAST MODE server is not running. See the notification for how to fix it.");
    if (secret) await client.setTrace(Trace.Off);
    try {
      return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [argument] }, token)) as T;
    } finally {
      if (secret) await this.applyTrace(client);
    }
  }

  /** Converts an editor URI to the server's string form. */
  uriToServer(uri: vscode.Uri): string {
    return this.client?.code2ProtocolConverter.asUri(uri) ?? uri.toString();
  }

  dispose(): void {
    void this.stop();
    for (const disposable of this.disposables) disposable.dispose();
  }
}
