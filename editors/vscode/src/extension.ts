/**
 * Entry point of the BEAST MODE extension: starts the language server (inline suggestions and
 * code actions come from vscode-languageclient), and adds the palette commands, the chat panel,
 * the usage report and the status bar item.
 */
import * as vscode from "vscode";
import { PaletteCommands } from "./commands";
import { BeastModeServer } from "./server";
import { ModelStatusBar } from "./statusBar";
import { UsageDocuments } from "./usageView";

let server: BeastModeServer | undefined;

/** Called by VS Code once per window. */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("BEAST MODE", { log: true });
  server = new BeastModeServer(output);
  const usage = new UsageDocuments();
  const commands = new PaletteCommands(server, usage);
  context.subscriptions.push(
    output,
    server,
    usage,
    new ModelStatusBar(server),
    ...commands.register(),
    vscode.commands.registerCommand("beastmode.ui.showOutput", () => output.show(true)),
  );
  await server.start();
}

/** Called by VS Code on shutdown: stop the server cleanly. */
export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}
