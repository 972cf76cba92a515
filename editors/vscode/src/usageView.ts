/**
 * Shows the usage report as a rendered Markdown preview of a read-only virtual document, so
 * closing it never asks to save anything.
 */
import * as vscode from "vscode";

const SCHEME = "beastmode-usage";

/** Holds the latest report and serves it to VS Code's Markdown preview. */
export class UsageDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly reports = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly registration: vscode.Disposable;
  private counter = 0;

  readonly onDidChange = this.changed.event;

  constructor() {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.reports.get(uri.toString()) ?? "";
  }

  /** Opens a preview of the given Markdown (falls back to the plain document without the preview). */
  async show(markdown: string): Promise<void> {
    this.counter += 1;
    const uri = vscode.Uri.from({ scheme: SCHEME, path: "/BEAST MODE usage.md", query: String(this.counter) });
    this.reports.clear();
    this.reports.set(uri.toString(), markdown);
    try {
      await vscode.commands.executeCommand("markdown.showPreview", uri);
    } catch {
      const document = await vscode.workspace.openTextDocument(uri);
      await vscode.languages.setTextDocumentLanguage(document, "markdown");
      await vscode.window.showTextDocument(document, { preview: true });
    }
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
