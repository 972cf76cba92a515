/**
 * Runs the Register Custom Model form as one multi-step quick input: every step validates as the
 * user types, the Back button returns to the previous step with its answer kept, and Escape
 * cancels. The steps themselves live in registerForm.ts.
 */
import * as vscode from "vscode";
import { PROVIDERS, REGISTER_STEPS, suggestModelId, type FormStep, type RegisterFormValues, type Verdict } from "./registerForm";

const TITLE = "BEAST MODE: Register Custom Model";

type StepResult = { kind: "value"; value: string } | { kind: "back" } | { kind: "cancel" };

const PROVIDER_DETAILS: Record<string, string> = {
  "openai-compatible": "OpenAI chat completions format: Ollama, vLLM, llama.cpp, LM Studio, most gateways",
  "anthropic-compatible": "Anthropic Messages format",
};

function toValidationMessage(verdict: Verdict | undefined): vscode.InputBoxValidationMessage | undefined {
  if (verdict === undefined) return undefined;
  return {
    message: verdict.message,
    severity: verdict.severity === "error" ? vscode.InputBoxValidationSeverity.Error : vscode.InputBoxValidationSeverity.Warning,
  };
}

function askInput(step: FormStep, index: number, values: RegisterFormValues): Promise<StepResult> {
  return new Promise((resolve) => {
    const input = vscode.window.createInputBox();
    let settled = false;
    const finish = (result: StepResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
      input.dispose();
    };
    input.title = `${TITLE}: ${step.title}`;
    input.step = index + 1;
    input.totalSteps = REGISTER_STEPS.length;
    input.prompt = step.prompt;
    input.placeholder = step.placeholder;
    input.password = step.password === true;
    input.ignoreFocusOut = true;
    input.value = values[step.key];
    input.buttons = index > 0 ? [vscode.QuickInputButtons.Back] : [];
    const validate = (value: string): Verdict | undefined => step.validate(value, { ...values, [step.key]: value });
    // An untouched empty box gets no error until the user tries to go on.
    input.validationMessage = values[step.key] === "" ? undefined : toValidationMessage(validate(input.value));
    input.onDidChangeValue((value) => {
      input.validationMessage = toValidationMessage(validate(value));
    });
    input.onDidAccept(() => {
      const verdict = validate(input.value);
      input.validationMessage = toValidationMessage(verdict);
      if (verdict?.severity !== "error") finish({ kind: "value", value: input.value });
    });
    input.onDidTriggerButton((button) => {
      if (button === vscode.QuickInputButtons.Back) finish({ kind: "back" });
    });
    input.onDidHide(() => finish({ kind: "cancel" }));
    input.show();
  });
}

function askPick(step: FormStep, index: number, values: RegisterFormValues): Promise<StepResult> {
  return new Promise((resolve) => {
    const pick = vscode.window.createQuickPick<vscode.QuickPickItem>();
    let settled = false;
    const finish = (result: StepResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
      pick.dispose();
    };
    pick.title = `${TITLE}: ${step.title}`;
    pick.step = index + 1;
    pick.totalSteps = REGISTER_STEPS.length;
    pick.placeholder = step.prompt;
    pick.ignoreFocusOut = true;
    pick.items = PROVIDERS.map((provider) => ({ label: provider, detail: PROVIDER_DETAILS[provider] }));
    const current = pick.items.find((item) => item.label === values[step.key]);
    if (current !== undefined) pick.activeItems = [current];
    pick.buttons = index > 0 ? [vscode.QuickInputButtons.Back] : [];
    pick.onDidAccept(() => {
      const chosen = pick.selectedItems[0] ?? pick.activeItems[0];
      if (chosen !== undefined) finish({ kind: "value", value: chosen.label });
    });
    pick.onDidTriggerButton((button) => {
      if (button === vscode.QuickInputButtons.Back) finish({ kind: "back" });
    });
    pick.onDidHide(() => finish({ kind: "cancel" }));
    pick.show();
  });
}

/**
 * Walks the user through the form from `startStep`, starting from `initial` answers.
 * Resolves to the answers, or undefined when the user cancelled.
 */
export async function runRegisterForm(initial: RegisterFormValues, startStep = 0): Promise<RegisterFormValues | undefined> {
  const values: RegisterFormValues = { ...initial };
  let index = Math.max(0, Math.min(startStep, REGISTER_STEPS.length - 1));
  while (index < REGISTER_STEPS.length) {
    const step = REGISTER_STEPS[index];
    if (step.key === "modelId" && values.modelId === "") values.modelId = suggestModelId(values.modelName);
    const result = step.kind === "pick" ? await askPick(step, index, values) : await askInput(step, index, values);
    if (result.kind === "cancel") return undefined;
    if (result.kind === "back") {
      index = Math.max(0, index - 1);
      continue;
    }
    values[step.key] = step.password === true ? result.value : result.value.trim();
    index += 1;
  }
  return values;
}
