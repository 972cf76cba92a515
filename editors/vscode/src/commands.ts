/**
 * The palette commands (ids `beastmode.ui.*`, so they never collide with the server's own
 * `beastmode.*` commands that the language client registers). Each gathers input, calls one
 * server command and shows the answer; server errors are shown as the server worded them.
 */
import * as vscode from "vscode";
import { ChatPanel } from "./chatPanel";
import { modelEntries, removeArguments, setDefaultArguments, testResultMessage, type ModelEntry } from "./models";
import { buildRegisterArguments, DEFAULT_VALUES, stepForServerError, type RegisterFormValues } from "./registerForm";
import { runRegisterForm } from "./registerFormUi";
import { featureArguments, refactorArguments, testsArguments, usageMarkdown, validateFeatureRequest } from "./requests";
import type { BeastModeServer } from "./server";
import { TASKS, type Task } from "./settings";
import type { UsageDocuments } from "./usageView";

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function showError(error: unknown): Promise<void> {
  await vscode.window.showErrorMessage(`BEAST MODE: ${errorText(error)}`);
}

/** The palette commands, bound to one server. */
export class PaletteCommands {
  constructor(
    private readonly server: BeastModeServer,
    private readonly usage: UsageDocuments,
  ) {}

  /** Registers every `beastmode.ui.*` command. */
  register(): vscode.Disposable[] {
    const commands: [string, (...args: unknown[]) => Promise<void>][] = [
      ["beastmode.ui.registerModel", () => this.registerModel()],
      ["beastmode.ui.listModels", () => this.listModels()],
      ["beastmode.ui.selectModel", (task) => this.selectModel(typeof task === "string" ? (task as Task) : undefined)],
      ["beastmode.ui.testModel", () => this.testModel()],
      ["beastmode.ui.chat", () => this.chat()],
      ["beastmode.ui.generateFeature", () => this.generateFeature()],
      ["beastmode.ui.showUsage", () => this.showUsage()],
      ["beastmode.ui.refactorSelection", () => this.refactorSelection()],
      ["beastmode.ui.generateTests", () => this.generateTests()],
      ["beastmode.ui.restartServer", () => this.server.restart()],
    ];
    return commands.map(([id, run]) =>
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          await run(...args);
        } catch (error) {
          await showError(error);
        }
      }),
    );
  }

  /** The multi-step form; on a server error the form reopens with every answer kept. */
  async registerModel(initial: RegisterFormValues = DEFAULT_VALUES, startStep = 0): Promise<void> {
    let values: RegisterFormValues | undefined = { ...initial };
    let step = startStep;
    for (;;) {
      values = await runRegisterForm(values, step);
      if (values === undefined) return;
      const args = buildRegisterArguments(values);
      try {
        const stored = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `BEAST MODE: registering ${args.model_id}…` },
          () => this.server.execute<Record<string, unknown>>("beastmode.registerModel", args, undefined, true),
        );
        const id = typeof stored?.model_id === "string" ? stored.model_id : args.model_id;
        const choice = await vscode.window.showInformationMessage(
          `BEAST MODE: registered custom:${id}.`,
          "Test It",
          "Use for Everything",
        );
        if (choice === "Test It") await this.runTest(`custom:${id}`);
        else if (choice === "Use for Everything") await this.setDefault(`custom:${id}`, undefined);
        return;
      } catch (error) {
        const message = errorText(error);
        const retry = await vscode.window.showErrorMessage(`BEAST MODE: ${message}`, "Edit and Retry");
        if (retry !== "Edit and Retry") return;
        step = stepForServerError(message);
      }
    }
  }

  private async fetchModels(): Promise<ModelEntry[]> {
    const result = await this.server.execute<unknown>("beastmode.listModels", {});
    return modelEntries(result);
  }

  private async pickModel(placeHolder: string, registeredOnly = false): Promise<ModelEntry | undefined> {
    const entries = (await this.fetchModels()).filter((entry) => !registeredOnly || entry.registered);
    if (entries.length === 0) {
      const choice = await vscode.window.showInformationMessage(
        "BEAST MODE: no models yet. Register your own model first.",
        "Register Custom Model",
      );
      if (choice !== undefined) await this.registerModel();
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      entries.map((entry) => ({ label: entry.label, description: entry.description, detail: entry.detail, entry })),
      { placeHolder, matchOnDescription: true, matchOnDetail: true, ignoreFocusOut: true },
    );
    return picked?.entry;
  }

  /** Quick pick of every model, then what to do with the chosen one. */
  async listModels(): Promise<void> {
    const model = await this.pickModel("Models the server knows: pick one to test, remove or make default");
    if (model === undefined) return;
    type Action = vscode.QuickPickItem & { run: () => Promise<void> };
    const actions: Action[] = [
      { label: "$(beaker) Test", description: "send a short request", run: () => this.runTest(model.ref) },
      { label: "$(star) Make Default", description: "for every task", run: () => this.setDefault(model.ref, undefined) },
      {
        label: "$(list-selection) Make Default for One Task…",
        description: TASKS.join(", "),
        run: async () => {
          const task = await this.pickTask(false);
          if (task !== undefined && task !== "all") await this.setDefault(model.ref, task);
        },
      },
    ];
    if (model.registered) {
      actions.push({ label: "$(trash) Remove", description: "delete it and its stored key", run: () => this.remove(model.ref) });
    }
    const action = await vscode.window.showQuickPick(actions, { placeHolder: `${model.ref}: what now?` });
    if (action !== undefined) await action.run();
  }

  private async pickTask(allowAll: boolean): Promise<Task | "all" | undefined> {
    const items: (vscode.QuickPickItem & { task: Task | "all" })[] = [];
    if (allowAll) items.push({ label: "All tasks", description: "the default model", task: "all" });
    for (const task of TASKS) items.push({ label: task, task });
    const picked = await vscode.window.showQuickPick(items, { placeHolder: "Which task is the model for?" });
    return picked?.task;
  }

  /** Picks the model for one task (or all), then stores it as the server's default. */
  async selectModel(task?: Task): Promise<void> {
    const chosenTask = task ?? (await this.pickTask(true));
    if (chosenTask === undefined) return;
    const label = chosenTask === "all" ? "every task" : chosenTask;
    const model = await this.pickModel(`Model for ${label}`);
    if (model !== undefined) await this.setDefault(model.ref, chosenTask === "all" ? undefined : chosenTask);
  }

  private async setDefault(ref: string, task: Task | undefined): Promise<void> {
    await this.server.execute("beastmode.setDefaultModel", setDefaultArguments(ref, task));
    void vscode.window.showInformationMessage(`BEAST MODE: ${ref} is now the model for ${task ?? "every task"}.`);
  }

  private async remove(ref: string): Promise<void> {
    const args = removeArguments(ref);
    const confirm = await vscode.window.showWarningMessage(
      `Remove ${ref} and its stored API key?`,
      { modal: true },
      "Remove",
    );
    if (confirm !== "Remove") return;
    await this.server.execute("beastmode.removeModel", args);
    void vscode.window.showInformationMessage(`BEAST MODE: removed ${ref}.`);
  }

  /** Picks a model and sends it a short test request. */
  async testModel(): Promise<void> {
    const model = await this.pickModel("Model to test");
    if (model !== undefined) await this.runTest(model.ref);
  }

  private async runTest(ref: string): Promise<void> {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `BEAST MODE: testing ${ref}…`, cancellable: true },
      (_progress, token) => this.server.execute<unknown>("beastmode.testModel", { model: ref }, token),
    );
    const verdict = testResultMessage(ref, result);
    if (verdict.ok) void vscode.window.showInformationMessage(`BEAST MODE: ${verdict.message}`);
    else void vscode.window.showErrorMessage(`BEAST MODE: ${verdict.message}`);
  }

  /** Asks for a message and opens the chat panel with the streamed answer. */
  async chat(): Promise<void> {
    const message = await vscode.window.showInputBox({
      title: "BEAST MODE: Chat",
      prompt: "Ask about your code (the open file is sent along)",
      ignoreFocusOut: true,
    });
    if (message === undefined) return;
    ChatPanel.show(this.server, message);
  }

  /** Asks for a feature description and lets the model write the files. */
  async generateFeature(): Promise<void> {
    const request = await vscode.window.showInputBox({
      title: "BEAST MODE: Generate Feature",
      prompt: "Describe the feature; the model writes the files into this workspace",
      validateInput: (value) => (value === "" ? undefined : validateFeatureRequest(value)),
      ignoreFocusOut: true,
    });
    if (request === undefined) return;
    const args = featureArguments(request);
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "BEAST MODE: generating the feature…", cancellable: true },
      (_progress, token) => this.server.execute<{ files?: string[]; applied?: boolean }>("beastmode.generateFeature", args, token),
    );
    const files = Array.isArray(result?.files) ? result.files : [];
    if (result?.applied !== true || files.length === 0) {
      void vscode.window.showWarningMessage("BEAST MODE: no files were written.");
      return;
    }
    const choice = await vscode.window.showInformationMessage(
      `BEAST MODE: wrote ${files.length} file${files.length === 1 ? "" : "s"}.`,
      "Open",
    );
    if (choice === "Open") await vscode.window.showTextDocument(vscode.Uri.parse(files[0]));
  }

  /** Renders the usage report as a Markdown preview. */
  async showUsage(): Promise<void> {
    const result = await this.server.execute<unknown>("beastmode.usage", {});
    await this.usage.show(usageMarkdown(result));
  }

  /** Refactors the selection with an optional instruction (also in the editor's context menu). */
  async refactorSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined) throw new Error("Open a file and select the code to refactor.");
    const instruction = await vscode.window.showInputBox({
      title: "BEAST MODE: Refactor Selection",
      prompt: "How should it change? (empty: improve readability)",
      ignoreFocusOut: true,
    });
    if (instruction === undefined) return;
    const selection = editor.selection;
    const args = refactorArguments(
      this.server.uriToServer(editor.document.uri),
      {
        start: { line: selection.start.line, character: selection.start.character },
        end: { line: selection.end.line, character: selection.end.character },
      },
      instruction,
    );
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "BEAST MODE: refactoring…", cancellable: true },
      (_progress, token) => this.server.execute<{ applied?: boolean }>("beastmode.refactor", args, token),
    );
    if (result?.applied !== true) void vscode.window.showWarningMessage("BEAST MODE: the refactoring was not applied.");
  }

  /** Generates tests for the selection or the whole file. */
  async generateTests(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined) throw new Error("Open the file to generate tests for.");
    const selection = editor.selection;
    const args = testsArguments(this.server.uriToServer(editor.document.uri), {
      start: { line: selection.start.line, character: selection.start.character },
      end: { line: selection.end.line, character: selection.end.character },
    });
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "BEAST MODE: writing tests…", cancellable: true },
      (_progress, token) => this.server.execute<{ uri?: string; applied?: boolean }>("beastmode.generateTests", args, token),
    );
    if (result?.applied === true && typeof result.uri === "string") {
      await vscode.window.showTextDocument(vscode.Uri.parse(result.uri), { preview: false });
    } else {
      void vscode.window.showWarningMessage("BEAST MODE: no tests were written.");
    }
  }
}
