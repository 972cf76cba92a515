import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  buildRegisterArguments,
  DEFAULT_VALUES,
  firstError,
  REGISTER_STEPS,
  stepForServerError,
  suggestModelId,
  validateApiKey,
  validateContextWindow,
  validateEndpointUrl,
  validateMaxTokens,
  validateModelId,
  validateModelName,
  validateProvider,
  validateTemperature,
  validateUpstreamModel,
  type RegisterFormValues,
} from "../registerForm";

const FILLED: RegisterFormValues = {
  modelName: " My Code Model ",
  modelId: "my-code-model",
  endpointUrl: "http://127.0.0.1:8080/v1/chat/completions",
  upstreamModel: "",
  provider: "openai-compatible",
  apiKey: "sk-test-123",
  contextWindow: "8192",
  maxTokens: "4000",
  temperature: "0.7",
};

describe("model id validation", () => {
  for (const id of ["a", "my-code-model", "qwen2.5-coder", "m_1", "0abc", "a".repeat(64)]) {
    test(`accepts ${JSON.stringify(id)}`, () => assert.equal(validateModelId(id), undefined));
  }
  for (const id of ["", "My-Model", "-lead", ".lead", "has space", "a:b", "a/b", "a".repeat(65)]) {
    test(`rejects ${JSON.stringify(id)}`, () => assert.equal(validateModelId(id)?.severity, "error"));
  }
});

describe("endpoint URL validation", () => {
  for (const url of [
    "https://models.example.com/v1/chat/completions",
    "http://localhost:11434/v1/chat/completions",
    "http://127.0.0.1:8080/v1",
    "http://[::1]:8000/v1/messages",
  ]) {
    test(`accepts ${url}`, () => assert.equal(validateEndpointUrl(url), undefined));
  }
  test("warns but allows plain http to another machine", () =>
    assert.equal(validateEndpointUrl("http://gpu-box.lan:8000/v1/chat/completions")?.severity, "warning"));
  for (const url of ["", "localhost:11434", "ftp://x.example/v1", "https://user:key@x.example/v1", "not a url"]) {
    test(`rejects ${JSON.stringify(url)}`, () => assert.equal(validateEndpointUrl(url)?.severity, "error"));
  }
  test("tells the user to move credentials to the key step", () =>
    assert.equal(validateEndpointUrl("https://u:p@x.example/")?.message, "Put the API key in the key step, not in the URL."));
});

describe("number steps", () => {
  const cases: [string, (v: string, all: RegisterFormValues) => unknown, string, boolean][] = [
    ["context window", validateContextWindow, "8192", true],
    ["context window", validateContextWindow, "128_000", true],
    ["context window", validateContextWindow, "255", false],
    ["context window", validateContextWindow, "8k", false],
    ["context window", validateContextWindow, "-1", false],
    ["context window", validateContextWindow, "10000001", false],
    ["max tokens", validateMaxTokens, "4000", true],
    ["max tokens", validateMaxTokens, "8192", false],
    ["max tokens", validateMaxTokens, "0", false],
    ["max tokens", validateMaxTokens, "1.5", false],
    ["temperature", validateTemperature, "0", true],
    ["temperature", validateTemperature, "2", true],
    ["temperature", validateTemperature, "0.25", true],
    ["temperature", validateTemperature, "2.1", false],
    ["temperature", validateTemperature, "-0.1", false],
    ["temperature", validateTemperature, "", false],
    ["temperature", validateTemperature, "warm", false],
  ];
  for (const [name, validate, value, ok] of cases) {
    test(`${name} ${JSON.stringify(value)} is ${ok ? "accepted" : "rejected"}`, () => {
      const verdict = validate(value, FILLED);
      assert.equal(verdict === undefined, ok);
    });
  }
  test("max tokens is checked against the context window typed earlier", () => {
    assert.equal(validateMaxTokens("3000", { ...FILLED, contextWindow: "2048" })?.message, "Max tokens must be smaller than the context window (2048).");
  });
});

describe("other steps", () => {
  test("name is required", () => assert.equal(validateModelName("  ")?.severity, "error"));
  test("name over 100 characters is refused", () => assert.equal(validateModelName("x".repeat(101))?.severity, "error"));
  test("provider must be a known one", () => {
    assert.equal(validateProvider("anthropic-compatible"), undefined);
    assert.equal(validateProvider("openai")?.severity, "error");
  });
  test("empty API key is allowed for keyless local servers", () => assert.equal(validateApiKey(""), undefined));
  test("API key with surrounding spaces is refused", () => assert.equal(validateApiKey(" sk-1")?.severity, "error"));
  test("API key on two lines is refused", () => assert.equal(validateApiKey("sk\n1")?.severity, "error"));
  test("upstream model may contain a colon tag", () => assert.equal(validateUpstreamModel("qwen2.5-coder:7b"), undefined));
  test("upstream model cannot contain spaces", () => assert.equal(validateUpstreamModel("qwen coder")?.severity, "error"));
});

describe("form shape", () => {
  test("asks the guide's fields in order, the key in a password box", () => {
    assert.deepEqual(
      REGISTER_STEPS.map((step) => step.key),
      ["modelName", "modelId", "endpointUrl", "provider", "upstreamModel", "apiKey", "contextWindow", "maxTokens", "temperature"],
    );
    assert.deepEqual(REGISTER_STEPS.filter((step) => step.password === true).map((step) => step.key), ["apiKey"]);
    assert.deepEqual(REGISTER_STEPS.filter((step) => step.kind === "pick").map((step) => step.key), ["provider"]);
  });
  test("defaults match the registration record defaults", () => {
    assert.deepEqual(
      [DEFAULT_VALUES.contextWindow, DEFAULT_VALUES.maxTokens, DEFAULT_VALUES.temperature, DEFAULT_VALUES.provider],
      ["8192", "4000", "0.7", "openai-compatible"],
    );
  });
  test("first error names the earliest bad step", () => {
    assert.deepEqual(firstError({ ...FILLED, modelId: "Bad Id", temperature: "9" })?.step, 1);
    assert.equal(firstError(FILLED), undefined);
  });
});

describe("suggested id", () => {
  for (const [name, id] of [
    ["My Code Model", "my-code-model"],
    ["Qwen2.5 Coder (7B)", "qwen2.5-coder-7b"],
    ["  --Local--  ", "local"],
  ] as const) {
    test(`${JSON.stringify(name)} -> ${id}`, () => {
      assert.equal(suggestModelId(name), id);
      assert.equal(validateModelId(id), undefined);
    });
  }
});

describe("registerModel arguments", () => {
  test("carry the guide's field names with typed numbers", () => {
    assert.deepEqual(buildRegisterArguments(FILLED), {
      model_name: "My Code Model",
      model_id: "my-code-model",
      endpoint_url: "http://127.0.0.1:8080/v1/chat/completions",
      provider: "openai-compatible",
      api_key: "sk-test-123",
      context_window: 8192,
      max_tokens: 4000,
      temperature: 0.7,
    });
  });
  test("omit an empty key and include an upstream model name", () => {
    const args = buildRegisterArguments({ ...FILLED, apiKey: "", upstreamModel: "qwen2.5-coder:7b", contextWindow: "32_768" });
    assert.equal("api_key" in args, false);
    assert.equal(args.upstream_model, "qwen2.5-coder:7b");
    assert.equal(args.context_window, 32768);
  });
  test("refuse invalid answers with the step's title", () => {
    assert.throws(() => buildRegisterArguments({ ...FILLED, endpointUrl: "nope" }), /^Error: Endpoint URL: That is not a URL/);
  });
});

describe("server error to step", () => {
  for (const [message, key] of [
    ["Invalid endpoint_url: must be http(s)", "endpointUrl"],
    ["model_id must match [a-z0-9]...", "modelId"],
    ["max_tokens must be positive", "maxTokens"],
    ["something else went wrong", "modelName"],
  ] as const) {
    test(`${JSON.stringify(message)} reopens at ${key}`, () => {
      assert.equal(REGISTER_STEPS[stepForServerError(message)].key, key);
    });
  }
});
