/**
 * The settings object the server receives (DESIGN.md "Settings"): flat, as initializationOptions,
 * as the answer to `workspace/configuration` and in `workspace/didChangeConfiguration`. Only the
 * keys the server knows are sent; the extension's own `server.*` and `trace.*` stay here. Pure.
 */

/** Reads one `beastmode.*` setting by its dotted key (e.g. "inline.enabled"). */
export type SettingReader = (key: string) => unknown;

/** The server's settings shape; keys absent when the user left them unset. */
export interface ServerSettings {
  model?: string;
  models?: Partial<Record<(typeof TASKS)[number], string>>;
  fallback?: string[];
  inline?: {
    enabled?: boolean;
    debounceMs?: "auto" | number;
    multiline?: "auto" | "always" | "never";
    completionItems?: "auto" | boolean;
  };
  timeouts?: { completionMs?: number; generationMs?: number };
}

/** The tasks that can each have their own model (DESIGN.md `models.*`). */
export const TASKS = ["completion", "chat", "refactor", "tests", "feature"] as const;
export type Task = (typeof TASKS)[number];

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Builds the flat settings object from the editor's configuration; drops unset or ill-typed values. */
export function buildServerSettings(read: SettingReader): ServerSettings {
  const settings: ServerSettings = {};
  const model = nonEmptyString(read("model"));
  if (model !== undefined) settings.model = model;

  const models: Partial<Record<Task, string>> = {};
  for (const task of TASKS) {
    const ref = nonEmptyString(read(`models.${task}`));
    if (ref !== undefined) models[task] = ref;
  }
  if (Object.keys(models).length > 0) settings.models = models;

  const fallback = read("fallback");
  if (Array.isArray(fallback)) {
    settings.fallback = fallback.filter((ref): ref is string => typeof ref === "string" && ref.trim() !== "");
  }

  const inline: NonNullable<ServerSettings["inline"]> = {};
  const enabled = read("inline.enabled");
  if (typeof enabled === "boolean") inline.enabled = enabled;
  const debounce = read("inline.debounceMs");
  if (debounce === "auto") inline.debounceMs = "auto";
  else if (finiteNumber(debounce) !== undefined && (debounce as number) >= 0) inline.debounceMs = debounce as number;
  const multiline = read("inline.multiline");
  if (multiline === "auto" || multiline === "always" || multiline === "never") inline.multiline = multiline;
  const items = read("inline.completionItems");
  if (items === "auto" || typeof items === "boolean") inline.completionItems = items;
  if (Object.keys(inline).length > 0) settings.inline = inline;

  const timeouts: NonNullable<ServerSettings["timeouts"]> = {};
  const completionMs = finiteNumber(read("timeouts.completionMs"));
  if (completionMs !== undefined && completionMs > 0) timeouts.completionMs = completionMs;
  const generationMs = finiteNumber(read("timeouts.generationMs"));
  if (generationMs !== undefined && generationMs > 0) timeouts.generationMs = generationMs;
  if (Object.keys(timeouts).length > 0) settings.timeouts = timeouts;

  return settings;
}

/** Keys whose change means the server process itself must be restarted. */
export const RESTART_KEYS = ["server.command", "server.args", "server.python"] as const;
