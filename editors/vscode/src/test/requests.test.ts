import assert from "node:assert/strict";
import { test } from "node:test";
import { chatArguments, featureArguments, refactorArguments, testsArguments, usageMarkdown, validateFeatureRequest } from "../requests";

const RANGE = { start: { line: 1, character: 0 }, end: { line: 3, character: 4 } };
const EMPTY = { start: { line: 2, character: 5 }, end: { line: 2, character: 5 } };

test("chat arguments carry the session, trimmed message and de-duplicated files", () => {
  assert.deepEqual(chatArguments("s1", "  why?  ", ["file:///a.py", "file:///a.py", ""]), {
    sessionId: "s1",
    message: "why?",
    files: ["file:///a.py"],
  });
  assert.deepEqual(chatArguments("s1", "hi", [], "custom:a"), { sessionId: "s1", message: "hi", model: "custom:a" });
  assert.throws(() => chatArguments("s1", "   ", []), /Type a message first/);
});

test("feature requests need a real sentence", () => {
  assert.equal(validateFeatureRequest("add a /health endpoint"), undefined);
  assert.match(validateFeatureRequest("") ?? "", /^Describe the feature/);
  assert.match(validateFeatureRequest("tests") ?? "", /^Say a little more/);
  assert.deepEqual(featureArguments("  add a /health endpoint "), { featureRequest: "add a /health endpoint" });
});

test("refactor arguments need a selection and omit an empty instruction", () => {
  assert.deepEqual(refactorArguments("file:///a.py", RANGE, "  "), { uri: "file:///a.py", range: RANGE });
  assert.deepEqual(refactorArguments("file:///a.py", RANGE, " use a dict "), { uri: "file:///a.py", range: RANGE, instruction: "use a dict" });
  assert.throws(() => refactorArguments("file:///a.py", EMPTY, ""), /Select the code to refactor first/);
});

test("test generation covers the whole file when nothing is selected", () => {
  assert.deepEqual(testsArguments("file:///a.py", EMPTY), { uri: "file:///a.py" });
  assert.deepEqual(testsArguments("file:///a.py", RANGE), { uri: "file:///a.py", range: RANGE });
});

test("usage report falls back to a placeholder", () => {
  assert.equal(usageMarkdown({ markdown: "# Usage\n" }), "# Usage\n");
  assert.equal(usageMarkdown({ summary: {} }), "# BEAST MODE usage\n\nNo usage recorded yet.\n");
});
