/**
 * The status bar item: the active completion model, the last suggestion's latency, a warning
 * colour when the router fell back; clicking it picks the completion model.
 */
import * as vscode from "vscode";
import { currentSettings, type BeastModeServer } from "./server";
import { statusView, type ClientState, type StatusNotification } from "./status";

/** Keeps the item in step with the server's notifications and the client's state. */
export class ModelStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("beastmode.status", vscode.StatusBarAlignment.Right, 100);
  private state: ClientState = "starting";
  private status: StatusNotification | undefined;
  private readonly disposables: vscode.Disposable[];

  constructor(server: BeastModeServer) {
    this.item.name = "BEAST MODE";
    this.item.command = { command: "beastmode.ui.selectModel", title: "Pick the completion model", arguments: ["completion"] };
    this.disposables = [
      server.onState((state) => {
        this.state = state;
        this.render();
      }),
      server.onStatus((status) => {
        this.status = status;
        this.state = "running";
        this.render();
      }),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration("beastmode")) this.render();
      }),
    ];
    this.render();
    this.item.show();
  }

  private render(): void {
    const settings = currentSettings();
    const view = statusView(this.state, this.status, settings.models?.completion ?? settings.model ?? "");
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.accessibilityInformation = { label: view.tooltip };
    this.item.backgroundColor = view.warning ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
    this.item.dispose();
  }
}
