import assert from "node:assert/strict";
import { test } from "node:test";
import { formatLatency, parseStatus, statusView } from "../status";

test("latency under a second is shown in ms, above in seconds", () => {
  assert.deepEqual([formatLatency(0), formatLatency(849.6), formatLatency(1000), formatLatency(12345)], ["0 ms", "850 ms", "1.0 s", "12.3 s"]);
});

test("a normal suggestion shows the model and its latency", () => {
  const view = statusView("running", { model: "custom:my-model", latencyMs: 120, fellBack: false, message: null });
  assert.equal(view.text, "$(zap) custom:my-model · 120 ms");
  assert.equal(view.warning, false);
  assert.equal(view.tooltip, "Completion model: custom:my-model\nLast suggestion: 120 ms\nClick to pick a model.");
});

test("a fallback turns the item into a warning with the router's message", () => {
  const view = statusView("running", { model: "local", latencyMs: 40, fellBack: true, message: "custom:x timed out" });
  assert.equal(view.text, "$(warning) local · 40 ms");
  assert.equal(view.warning, true);
  assert.match(view.tooltip, /fallback model\.\ncustom:x timed out\n/);
});

test("a model change without latency shows just the model", () => {
  assert.equal(statusView("running", { model: "custom:a", latencyMs: null, fellBack: false, message: null }).text, "$(zap) custom:a");
});

test("a stopped server is an error state whatever the last status", () => {
  const view = statusView("stopped", { model: "custom:a", latencyMs: 1, fellBack: false, message: null });
  assert.equal(view.text, "$(error) BEAST MODE");
  assert.equal(view.warning, true);
});

test("before any status the item says it is starting", () => {
  assert.equal(statusView("starting", undefined).text, "$(sync~spin) BEAST MODE");
});

test("notification payloads are checked", () => {
  assert.deepEqual(parseStatus({ model: "local", latencyMs: 5, fellBack: true, message: "m" }), { model: "local", latencyMs: 5, fellBack: true, message: "m" });
  assert.deepEqual(parseStatus({ model: "local", latencyMs: "5", fellBack: "yes" }), { model: "local", latencyMs: null, fellBack: false, message: null });
  assert.equal(parseStatus({ latencyMs: 5 }), undefined);
  assert.equal(parseStatus(null), undefined);
});

test("the configured model is shown until the server reports one", () => {
  assert.equal(statusView("running", undefined, "custom:fake").text, "$(zap) custom:fake");
  assert.equal(statusView("starting", undefined, "custom:fake").text, "$(sync~spin) BEAST MODE");
  assert.equal(statusView("running", { model: "local", latencyMs: 3, fellBack: true, message: null }, "custom:fake").text, "$(warning) local · 3 ms");
});
