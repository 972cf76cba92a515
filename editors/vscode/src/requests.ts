/**
 * Argument objects of the server's generation commands (DESIGN.md "Workspace commands"), built
 * from what the user typed. Pure: positions are plain LSP objects, URIs plain strings.
 */

/** An LSP position (zero-based line and UTF-16 character). */
export interface Position {
  line: number;
  character: number;
}

/** An LSP range. */
export interface Range {
  start: Position;
  end: Position;
}

/** Arguments of `beastmode.chat`. */
export interface ChatArguments {
  sessionId: string;
  message: string;
  model?: string;
  files?: string[];
}

/** Builds chat arguments; refuses an empty message. */
export function chatArguments(sessionId: string, message: string, files: readonly string[], model?: string): ChatArguments {
  const text = message.trim();
  if (text === "") throw new Error("Type a message first.");
  const args: ChatArguments = { sessionId, message: text };
  const unique = [...new Set(files.filter((uri) => uri !== ""))];
  if (unique.length > 0) args.files = unique;
  if (model !== undefined && model !== "") args.model = model;
  return args;
}

/** Validates a feature request typed in the input box (blocking message, or undefined). */
export function validateFeatureRequest(value: string): string | undefined {
  const text = value.trim();
  if (text === "") return "Describe the feature, e.g. add a /health endpoint that returns the version.";
  if (text.length < 10) return "Say a little more: the model only sees this sentence and your workspace.";
  return undefined;
}

/** Arguments of `beastmode.generateFeature`. */
export function featureArguments(request: string, model?: string): { featureRequest: string; model?: string } {
  const problem = validateFeatureRequest(request);
  if (problem !== undefined) throw new Error(problem);
  const args: { featureRequest: string; model?: string } = { featureRequest: request.trim() };
  if (model !== undefined && model !== "") args.model = model;
  return args;
}

/** Arguments of `beastmode.refactor`; an empty selection is refused, an empty instruction omitted. */
export function refactorArguments(
  uri: string,
  range: Range,
  instruction: string,
): { uri: string; range: Range; instruction?: string } {
  if (range.start.line === range.end.line && range.start.character === range.end.character) {
    throw new Error("Select the code to refactor first.");
  }
  const args: { uri: string; range: Range; instruction?: string } = { uri, range };
  if (instruction.trim() !== "") args.instruction = instruction.trim();
  return args;
}

/** Arguments of `beastmode.generateTests`: the whole file when nothing is selected. */
export function testsArguments(uri: string, range: Range | undefined): { uri: string; range?: Range } {
  if (range === undefined) return { uri };
  const empty = range.start.line === range.end.line && range.start.character === range.end.character;
  return empty ? { uri } : { uri, range };
}

/** A usage report's markdown, or a readable stand-in when the server sent none. */
export function usageMarkdown(result: unknown): string {
  if (typeof result === "object" && result !== null) {
    const markdown = (result as Record<string, unknown>).markdown;
    if (typeof markdown === "string" && markdown.trim() !== "") return markdown;
  }
  return "# BEAST MODE usage\n\nNo usage recorded yet.\n";
}
