import assert from "node:assert/strict";
import { test } from "node:test";
import { modelEntries, removeArguments, setDefaultArguments, testResultMessage } from "../models";

const LISTED = {
  models: [
    {
      model_name: "My Code Model",
      model_id: "my-code-model",
      endpoint_url: "http://127.0.0.1:8080/v1/chat/completions",
      provider: "openai-compatible",
      context_window: 8192,
      max_tokens: 4000,
      temperature: 0.7,
      upstream_model: "qwen2.5-coder:7b",
    },
    "local",
  ],
  providers: [{ ref: "openai:gpt-4o-mini", available: false, reason: "OPENAI_API_KEY is not set" }, "local"],
};

test("registered models become custom: entries with their details", () => {
  assert.deepEqual(modelEntries(LISTED)[0], {
    ref: "custom:my-code-model",
    label: "My Code Model",
    description: "custom:my-code-model · openai-compatible · 127.0.0.1:8080",
    detail: "context 8192 · max tokens 4000 · temperature 0.7 · upstream qwen2.5-coder:7b",
    registered: true,
  });
});

test("provider and local models follow, once each", () => {
  assert.deepEqual(
    modelEntries(LISTED).map((entry) => [entry.ref, entry.registered, entry.detail]),
    [
      ["custom:my-code-model", true, "context 8192 · max tokens 4000 · temperature 0.7 · upstream qwen2.5-coder:7b"],
      ["local", false, ""],
      ["openai:gpt-4o-mini", false, "unavailable: OPENAI_API_KEY is not set"],
    ],
  );
});

test("an unexpected answer gives no entries rather than a crash", () => {
  assert.deepEqual(modelEntries(null), []);
  assert.deepEqual(modelEntries({ models: [42, {}] }), []);
});

test("setDefaultModel arguments include the task only when one was chosen", () => {
  assert.deepEqual(setDefaultArguments("custom:a", undefined), { model: "custom:a" });
  assert.deepEqual(setDefaultArguments("custom:a", "completion"), { model: "custom:a", task: "completion" });
});

test("removeModel takes the bare id and refuses provider models", () => {
  assert.deepEqual(removeArguments("custom:my-code-model"), { model_id: "my-code-model" });
  assert.throws(() => removeArguments("openai:gpt-4o"), /Only registered models can be removed/);
});

test("test results read as one line", () => {
  assert.deepEqual(testResultMessage("custom:a", { ok: true, latency_ms: 123.4 }), { ok: true, message: "custom:a answered in 123 ms." });
  assert.deepEqual(testResultMessage("custom:a", { ok: false, latency_ms: 9, error: "Custom model request failed: HTTP 401" }), {
    ok: false,
    message: "custom:a failed in 9 ms: Custom model request failed: HTTP 401",
  });
});
