/**
 * Reading the server's `beastmode.listModels` answer into pickable entries, and the argument
 * objects of the model commands. Pure; tolerant of extra fields the server may add.
 */
import type { Task } from "./settings";

/** One model the user can pick. */
export interface ModelEntry {
  /** The reference used in settings and commands: custom:<id>, openai:<m>, anthropic:<m>, local. */
  ref: string;
  label: string;
  description: string;
  detail: string;
  registered: boolean;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function endpointHost(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

function registeredEntry(record: Record<string, unknown>): ModelEntry | undefined {
  const id = text(record.model_id);
  if (id === undefined) return undefined;
  const ref = text(record.ref) ?? `custom:${id}`;
  const details: string[] = [];
  if (typeof record.context_window === "number") details.push(`context ${record.context_window}`);
  if (typeof record.max_tokens === "number") details.push(`max tokens ${record.max_tokens}`);
  if (typeof record.temperature === "number") details.push(`temperature ${record.temperature}`);
  const upstream = text(record.upstream_model);
  if (upstream !== undefined && upstream !== id) details.push(`upstream ${upstream}`);
  const description = [text(record.provider), endpointHost(text(record.endpoint_url))].filter(Boolean).join(" · ");
  return {
    ref,
    label: text(record.model_name) ?? id,
    description: description === "" ? ref : `${ref} · ${description}`,
    detail: details.join(" · "),
    registered: true,
  };
}

function otherEntry(item: unknown): ModelEntry | undefined {
  if (typeof item === "string" && item !== "") {
    return { ref: item, label: item, description: "", detail: "", registered: false };
  }
  if (typeof item !== "object" || item === null) return undefined;
  const record = item as Record<string, unknown>;
  const ref = text(record.ref) ?? text(record.model);
  if (ref === undefined) return undefined;
  const available = record.available === false ? "unavailable: " : "";
  return {
    ref,
    label: text(record.name) ?? ref,
    description: ref,
    detail: `${available}${text(record.detail) ?? text(record.reason) ?? ""}`.replace(/: $/, ""),
    registered: false,
  };
}

/** Turns a listModels result into entries: registered models first, then provider and local models. */
export function modelEntries(result: unknown): ModelEntry[] {
  if (typeof result !== "object" || result === null) return [];
  const entries: ModelEntry[] = [];
  const seen = new Set<string>();
  const add = (entry: ModelEntry | undefined): void => {
    if (entry !== undefined && !seen.has(entry.ref)) {
      seen.add(entry.ref);
      entries.push(entry);
    }
  };
  const record = result as Record<string, unknown>;
  const models = Array.isArray(record.models) ? record.models : [];
  for (const item of models) {
    if (typeof item === "object" && item !== null && "model_id" in item) add(registeredEntry(item as Record<string, unknown>));
    else add(otherEntry(item));
  }
  for (const [key, value] of Object.entries(record)) {
    if (key === "models" || !Array.isArray(value)) continue;
    for (const item of value) add(otherEntry(item));
  }
  return entries;
}

/** Arguments of `beastmode.setDefaultModel`; no task means every task. */
export function setDefaultArguments(ref: string, task: Task | undefined): { model: string; task?: Task } {
  return task === undefined ? { model: ref } : { model: ref, task };
}

/** Arguments of `beastmode.removeModel`: only registered (custom:) models can be removed. */
export function removeArguments(ref: string): { model_id: string } {
  if (!ref.startsWith("custom:")) throw new Error(`Only registered models can be removed, not ${ref}.`);
  return { model_id: ref.slice("custom:".length) };
}

/** The one-line verdict of `beastmode.testModel`. */
export function testResultMessage(ref: string, result: unknown): { ok: boolean; message: string } {
  const record = typeof result === "object" && result !== null ? (result as Record<string, unknown>) : {};
  const latency = typeof record.latency_ms === "number" ? ` in ${Math.round(record.latency_ms)} ms` : "";
  if (record.ok === true) return { ok: true, message: `${ref} answered${latency}.` };
  const reason = text(record.error) ?? "no reason given";
  return { ok: false, message: `${ref} failed${latency}: ${reason}` };
}
