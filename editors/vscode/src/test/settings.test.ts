import assert from "node:assert/strict";
import { test } from "node:test";
import { buildServerSettings } from "../settings";

function reader(values: Record<string, unknown>): (key: string) => unknown {
  return (key) => values[key];
}

test("defaults produce the flat settings object with unset models left out", () => {
  const settings = buildServerSettings(
    reader({
      model: "",
      "models.completion": "",
      fallback: ["local"],
      "inline.enabled": true,
      "inline.debounceMs": "auto",
      "inline.multiline": "auto",
      "inline.completionItems": "auto",
      "timeouts.completionMs": 3000,
      "timeouts.generationMs": 120000,
      "server.command": "/usr/bin/evil",
      "trace.server": "verbose",
    }),
  );
  assert.deepEqual(settings, {
    fallback: ["local"],
    inline: { enabled: true, debounceMs: "auto", multiline: "auto", completionItems: "auto" },
    timeouts: { completionMs: 3000, generationMs: 120000 },
  });
});

test("per-task models and the default model are passed through trimmed", () => {
  const settings = buildServerSettings(reader({ model: " custom:a ", "models.completion": "custom:fast", "models.chat": "openai:gpt-4o" }));
  assert.deepEqual(settings, { model: "custom:a", models: { completion: "custom:fast", chat: "openai:gpt-4o" } });
});

test("ill-typed values are dropped rather than sent", () => {
  const settings = buildServerSettings(
    reader({
      fallback: ["local", 3, ""],
      "inline.enabled": "yes",
      "inline.debounceMs": -5,
      "inline.multiline": "sometimes",
      "inline.completionItems": false,
      "timeouts.completionMs": Number.NaN,
    }),
  );
  assert.deepEqual(settings, { fallback: ["local"], inline: { completionItems: false } });
});

test("debounce of zero is kept (it turns debouncing off)", () => {
  assert.deepEqual(buildServerSettings(reader({ "inline.debounceMs": 0 })), { inline: { debounceMs: 0 } });
});
