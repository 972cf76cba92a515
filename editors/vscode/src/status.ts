/**
 * What the status bar item says, from the server's `beastmode/status` notification. Pure.
 */

/** The `beastmode/status` notification (server -> client). */
export interface StatusNotification {
  model: string;
  latencyMs: number | null;
  fellBack: boolean;
  message: string | null;
}

/** The client's own state, for before any notification arrived. */
export type ClientState = "starting" | "running" | "stopped";

/** Text, tooltip and warning flag for the status bar item. */
export interface StatusView {
  text: string;
  tooltip: string;
  warning: boolean;
}

/** Formats a latency as the status bar shows it: "850 ms" or "1.2 s". */
export function formatLatency(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Parses an untrusted notification payload; undefined when its shape is wrong. */
export function parseStatus(value: unknown): StatusNotification | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.model !== "string") return undefined;
  const latency = typeof record.latencyMs === "number" && Number.isFinite(record.latencyMs) ? record.latencyMs : null;
  return {
    model: record.model,
    latencyMs: latency,
    fellBack: record.fellBack === true,
    message: typeof record.message === "string" ? record.message : null,
  };
}

/**
 * Builds the status bar view. `configuredModel` (from settings) is shown until the server reports
 * the model it actually used.
 */
export function statusView(state: ClientState, status: StatusNotification | undefined, configuredModel = ""): StatusView {
  if (state === "stopped") {
    return { text: "$(error) BEAST MODE", tooltip: "The BEAST MODE server is not running. Click to pick a model; see the output for why.", warning: true };
  }
  if (status === undefined && state === "running" && configuredModel !== "") {
    return { text: `$(zap) ${configuredModel}`, tooltip: `Completion model (from settings): ${configuredModel}\nClick to pick a model.`, warning: false };
  }
  if (status === undefined) {
    const tooltip = state === "starting" ? "BEAST MODE is starting" : "BEAST MODE: no suggestion yet. Click to pick a model.";
    return { text: state === "starting" ? "$(sync~spin) BEAST MODE" : "$(zap) BEAST MODE", tooltip, warning: false };
  }
  const latency = status.latencyMs === null ? "" : ` · ${formatLatency(status.latencyMs)}`;
  const icon = status.fellBack ? "$(warning)" : "$(zap)";
  const lines = [`Completion model: ${status.model}`];
  if (status.latencyMs !== null) lines.push(`Last suggestion: ${formatLatency(status.latencyMs)}`);
  if (status.fellBack) lines.push("The chosen model failed; this answer came from a fallback model.");
  if (status.message !== null && status.message !== "") lines.push(status.message);
  lines.push("Click to pick a model.");
  return { text: `${icon} ${status.model}${latency}`, tooltip: lines.join("\n"), warning: status.fellBack };
}
