/**
 * The Chat panel: a webview that shows the conversation and streams the reply as the server's
 * `beastmode/chatDelta` notifications arrive. Text is rendered as text, never as HTML.
 */
import { randomUUID } from "node:crypto";
import * as vscode from "vscode";
import { chatArguments } from "./requests";
import type { BeastModeServer } from "./server";

type FromWebview = { type: "send"; text: string } | { type: "newSession" };

/** One chat panel per window; reused by the Chat command. */
export class ChatPanel implements vscode.Disposable {
  private static current: ChatPanel | undefined;
  private sessionId = randomUUID();
  private busy = false;
  private readonly disposables: vscode.Disposable[] = [];

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly server: BeastModeServer,
  ) {
    panel.webview.html = chatHtml(panel.webview);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((message: FromWebview) => {
        if (message.type === "send") void this.send(message.text);
        else if (message.type === "newSession") this.sessionId = randomUUID();
      }),
      server.onChatDelta((delta) => {
        if (delta.sessionId === this.sessionId) void panel.webview.postMessage({ type: "delta", text: delta.delta });
      }),
    );
  }

  /** Shows the panel (creating it if needed) and, when given, sends a first message. */
  static show(server: BeastModeServer, message?: string): ChatPanel {
    if (ChatPanel.current === undefined) {
      const panel = vscode.window.createWebviewPanel("beastmode.chat", "BEAST MODE Chat", vscode.ViewColumn.Beside, {
        enableScripts: true,
        retainContextWhenHidden: true,
        localResourceRoots: [],
      });
      ChatPanel.current = new ChatPanel(panel, server);
    } else {
      ChatPanel.current.panel.reveal(vscode.ViewColumn.Beside);
    }
    const chat = ChatPanel.current;
    if (message !== undefined && message.trim() !== "") void chat.send(message);
    return chat;
  }

  private async send(text: string): Promise<void> {
    if (this.busy) {
      void this.panel.webview.postMessage({ type: "error", text: "Wait for the current answer first." });
      return;
    }
    const editor = vscode.window.activeTextEditor;
    const files = editor === undefined ? [] : [this.server.uriToServer(editor.document.uri)];
    let args;
    try {
      args = chatArguments(this.sessionId, text, files);
    } catch (error) {
      void this.panel.webview.postMessage({ type: "error", text: (error as Error).message });
      return;
    }
    this.busy = true;
    void this.panel.webview.postMessage({ type: "user", text: args.message });
    try {
      const result = await this.server.execute<{ reply?: string; model?: string }>("beastmode.chat", args);
      void this.panel.webview.postMessage({ type: "done", text: result?.reply ?? "", model: result?.model ?? "" });
    } catch (error) {
      void this.panel.webview.postMessage({ type: "error", text: (error as Error).message });
    } finally {
      this.busy = false;
    }
  }

  dispose(): void {
    if (ChatPanel.current === this) ChatPanel.current = undefined;
    for (const disposable of this.disposables) disposable.dispose();
    this.panel.dispose();
  }
}

function chatHtml(webview: vscode.Webview): string {
  const nonce = randomUUID().replace(/-/g, "");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource} 'unsafe-inline'; script-src 'nonce-${nonce}';">
<style>
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); display: flex; flex-direction: column; height: 100vh; margin: 0; }
#log { flex: 1; overflow-y: auto; padding: 8px; }
.msg { white-space: pre-wrap; margin: 6px 0; padding: 6px 8px; border-radius: 4px; font-family: var(--vscode-editor-font-family); }
.user { background: var(--vscode-input-background); }
.assistant { border-left: 2px solid var(--vscode-focusBorder); }
.error { color: var(--vscode-errorForeground); }
.model { opacity: 0.7; font-size: 0.85em; }
form { display: flex; gap: 4px; padding: 8px; border-top: 1px solid var(--vscode-panel-border); }
textarea { flex: 1; resize: vertical; min-height: 3em; background: var(--vscode-input-background); color: var(--vscode-input-foreground); border: 1px solid var(--vscode-input-border, transparent); }
</style></head>
<body>
<div id="log" aria-live="polite"></div>
<form id="form"><textarea id="input" placeholder="Ask about your code (Ctrl+Enter to send)"></textarea>
<button type="submit">Send</button><button type="button" id="new">New</button></form>
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
const log = document.getElementById("log");
const input = document.getElementById("input");
let pending = null;
function add(kind, text) { const div = document.createElement("div"); div.className = "msg " + kind; div.textContent = text; log.appendChild(div); log.scrollTop = log.scrollHeight; return div; }
function send() { const text = input.value; if (text.trim() === "") return; vscode.postMessage({ type: "send", text }); input.value = ""; }
document.getElementById("form").addEventListener("submit", (e) => { e.preventDefault(); send(); });
input.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); } });
document.getElementById("new").addEventListener("click", () => { log.textContent = ""; pending = null; vscode.postMessage({ type: "newSession" }); });
window.addEventListener("message", (event) => {
  const m = event.data;
  if (m.type === "user") { add("user", m.text); pending = add("assistant", ""); }
  else if (m.type === "delta") { if (pending === null) pending = add("assistant", ""); pending.textContent += m.text; log.scrollTop = log.scrollHeight; }
  else if (m.type === "done") { if (pending === null) pending = add("assistant", ""); pending.textContent = m.text; if (m.model) { const tag = document.createElement("div"); tag.className = "model"; tag.textContent = m.model; pending.appendChild(tag); } pending = null; }
  else if (m.type === "error") { if (pending !== null && pending.textContent === "") pending.remove(); pending = null; add("error", m.text); }
});
input.focus();
</script></body></html>`;
}
