/**
 * The "Register Custom Model" form: its steps, how each answer is validated, and the
 * `beastmode.registerModel` arguments built from the answers. Pure: no `vscode` import, so
 * node's test runner exercises it directly.
 */

/** Providers the server can talk to (DESIGN.md, registered model record). */
export const PROVIDERS = ["openai-compatible", "anthropic-compatible"] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Every answer of the form, as the user typed it (strings, so a failed submit keeps them). */
export interface RegisterFormValues {
  modelName: string;
  modelId: string;
  endpointUrl: string;
  upstreamModel: string;
  provider: string;
  apiKey: string;
  contextWindow: string;
  maxTokens: string;
  temperature: string;
}

/** What the user sees before typing anything. */
export const DEFAULT_VALUES: RegisterFormValues = {
  modelName: "",
  modelId: "",
  endpointUrl: "",
  upstreamModel: "",
  provider: "openai-compatible",
  apiKey: "",
  contextWindow: "8192",
  maxTokens: "4000",
  temperature: "0.7",
};

/** Arguments of `beastmode.registerModel` (DESIGN.md field names). */
export interface RegisterModelArguments {
  model_name: string;
  model_id: string;
  endpoint_url: string;
  provider: Provider;
  api_key?: string;
  upstream_model?: string;
  context_window: number;
  max_tokens: number;
  temperature: number;
}

/** A validation verdict: an error blocks the step, a warning is shown but lets the user go on. */
export interface Verdict {
  severity: "error" | "warning";
  message: string;
}

/** One step of the form. */
export interface FormStep {
  key: keyof RegisterFormValues;
  kind: "input" | "pick";
  title: string;
  prompt: string;
  placeholder: string;
  password?: boolean;
  /** Returns undefined when the answer is fine. */
  validate: (value: string, values: RegisterFormValues) => Verdict | undefined;
}

const MODEL_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MAX_CONTEXT_WINDOW = 10_000_000;

function error(message: string): Verdict {
  return { severity: "error", message };
}

/** Checks a display name: present and not absurdly long. */
export function validateModelName(value: string): Verdict | undefined {
  const name = value.trim();
  if (name === "") return error("Enter a name for the model, e.g. My Code Model.");
  if (name.length > 100) return error("Keep the name under 100 characters.");
  return undefined;
}

/** Checks a model id against DESIGN.md's `[a-z0-9][a-z0-9._-]{0,63}`. */
export function validateModelId(value: string): Verdict | undefined {
  const id = value.trim();
  if (id === "") return error("Enter an id: it becomes custom:<id> in settings.");
  if (id.length > 64) return error("The id can have at most 64 characters.");
  if (!MODEL_ID_PATTERN.test(id)) {
    return error(
      "Use lowercase letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. my-code-model).",
    );
  }
  return undefined;
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

/** Checks an endpoint URL: absolute http(s) without credentials; warns on plain http off this machine. */
export function validateEndpointUrl(value: string): Verdict | undefined {
  const text = value.trim();
  if (text === "") return error("Enter the endpoint URL, e.g. http://localhost:11434/v1/chat/completions.");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return error("That is not a URL: include the scheme, e.g. https://models.example.com/v1/chat/completions.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return error("The endpoint must be an http:// or https:// URL.");
  }
  if (url.username !== "" || url.password !== "") {
    return error("Put the API key in the key step, not in the URL.");
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    return {
      severity: "warning",
      message: "Plain http: your code and key would cross the network unencrypted. Prefer https.",
    };
  }
  return undefined;
}

/** Checks the optional upstream model name (what the endpoint calls the model). */
export function validateUpstreamModel(value: string): Verdict | undefined {
  const text = value.trim();
  if (text.length > 200) return error("Keep the upstream model name under 200 characters.");
  if (/\s/.test(text)) return error("The upstream model name cannot contain spaces.");
  return undefined;
}

/** Checks the provider is one the server knows. */
export function validateProvider(value: string): Verdict | undefined {
  return (PROVIDERS as readonly string[]).includes(value)
    ? undefined
    : error(`Choose one of: ${PROVIDERS.join(", ")}.`);
}

/** Checks an API key: optional (local servers need none), single line, no surrounding spaces. */
export function validateApiKey(value: string): Verdict | undefined {
  if (value === "") return undefined;
  if (/[\r\n]/.test(value)) return error("The key must be on one line.");
  if (value.trim() !== value) return error("The key has spaces at its start or end: paste it again.");
  return undefined;
}

function parseInteger(value: string): number | undefined {
  const text = value.trim().replace(/_/g, "");
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/** Checks the context window: a whole number of tokens. */
export function validateContextWindow(value: string): Verdict | undefined {
  const n = parseInteger(value);
  if (n === undefined || n < 256) return error("Enter the context window in tokens: a whole number of at least 256.");
  if (n > MAX_CONTEXT_WINDOW) return error(`The context window can be at most ${MAX_CONTEXT_WINDOW} tokens.`);
  return undefined;
}

/** Checks max tokens: a whole number, smaller than the context window. */
export function validateMaxTokens(value: string, values: RegisterFormValues): Verdict | undefined {
  const n = parseInteger(value);
  if (n === undefined || n < 1) return error("Enter the most tokens an answer may have: a whole number of at least 1.");
  const window = parseInteger(values.contextWindow);
  if (window !== undefined && n >= window) {
    return error(`Max tokens must be smaller than the context window (${window}).`);
  }
  return undefined;
}

/** Checks the temperature: a number from 0 to 2. */
export function validateTemperature(value: string): Verdict | undefined {
  const text = value.trim();
  const n = Number(text);
  if (text === "" || !Number.isFinite(n) || n < 0 || n > 2) {
    return error("Enter a temperature from 0 to 2, e.g. 0.2 for focused code.");
  }
  return undefined;
}

/** Suggests an id from a display name: "My Code Model" -> "my-code-model". */
export function suggestModelId(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .replace(/-+$/, "")
    .slice(0, 64);
}

/** The steps in the order the form asks them. */
export const REGISTER_STEPS: readonly FormStep[] = [
  {
    key: "modelName",
    kind: "input",
    title: "Model name",
    prompt: "A name you will recognise",
    placeholder: "My Code Model",
    validate: validateModelName,
  },
  {
    key: "modelId",
    kind: "input",
    title: "Model id",
    prompt: "Used as custom:<id> in settings",
    placeholder: "my-code-model",
    validate: validateModelId,
  },
  {
    key: "endpointUrl",
    kind: "input",
    title: "Endpoint URL",
    prompt: "The endpoint's base URL or full chat URL (e.g. .../v1 or .../v1/chat/completions)",
    placeholder: "http://localhost:11434/v1",
    validate: validateEndpointUrl,
  },
  {
    key: "provider",
    kind: "pick",
    title: "Provider",
    prompt: "The wire format the endpoint speaks",
    placeholder: "openai-compatible",
    validate: validateProvider,
  },
  {
    key: "upstreamModel",
    kind: "input",
    title: "Upstream model name",
    prompt: "The model name the endpoint expects (empty: the id)",
    placeholder: "qwen2.5-coder:7b",
    validate: validateUpstreamModel,
  },
  {
    key: "apiKey",
    kind: "input",
    title: "API key",
    prompt: "Sent once to the server, stored encrypted; empty if the endpoint needs none",
    placeholder: "sk-...",
    password: true,
    validate: validateApiKey,
  },
  {
    key: "contextWindow",
    kind: "input",
    title: "Context window",
    prompt: "Tokens the model accepts",
    placeholder: "8192",
    validate: validateContextWindow,
  },
  {
    key: "maxTokens",
    kind: "input",
    title: "Max tokens",
    prompt: "Most tokens in one answer",
    placeholder: "4000",
    validate: validateMaxTokens,
  },
  {
    key: "temperature",
    kind: "input",
    title: "Temperature",
    prompt: "0 to 2; lower is more focused",
    placeholder: "0.7",
    validate: validateTemperature,
  },
];

/** Validates every answer; returns the first blocking problem with the step that has it. */
export function firstError(values: RegisterFormValues): { step: number; message: string } | undefined {
  for (const [index, step] of REGISTER_STEPS.entries()) {
    const verdict = step.validate(values[step.key], values);
    if (verdict?.severity === "error") return { step: index, message: verdict.message };
  }
  return undefined;
}

/** Builds the `beastmode.registerModel` argument object; throws if any answer is invalid. */
export function buildRegisterArguments(values: RegisterFormValues): RegisterModelArguments {
  const problem = firstError(values);
  if (problem !== undefined) {
    throw new Error(`${REGISTER_STEPS[problem.step].title}: ${problem.message}`);
  }
  const args: RegisterModelArguments = {
    model_name: values.modelName.trim(),
    model_id: values.modelId.trim(),
    endpoint_url: values.endpointUrl.trim(),
    provider: values.provider as Provider,
    context_window: parseInteger(values.contextWindow) as number,
    max_tokens: parseInteger(values.maxTokens) as number,
    temperature: Number(values.temperature.trim()),
  };
  if (values.apiKey !== "") args.api_key = values.apiKey;
  const upstream = values.upstreamModel.trim();
  if (upstream !== "") args.upstream_model = upstream;
  return args;
}

/** Guesses which step a server error is about, so the form reopens there (else the first). */
export function stepForServerError(message: string): number {
  const lower = message.toLowerCase();
  const hints: [string, keyof RegisterFormValues][] = [
    ["model_id", "modelId"],
    ["endpoint", "endpointUrl"],
    ["url", "endpointUrl"],
    ["provider", "provider"],
    ["api_key", "apiKey"],
    ["key", "apiKey"],
    ["context_window", "contextWindow"],
    ["max_tokens", "maxTokens"],
    ["temperature", "temperature"],
    ["model_name", "modelName"],
  ];
  for (const [needle, key] of hints) {
    if (lower.includes(needle)) return REGISTER_STEPS.findIndex((step) => step.key === key);
  }
  return 0;
}
