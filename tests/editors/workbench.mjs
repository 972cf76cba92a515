// Playwright steps on the VS Code workbench (code-server), written the way a person uses it:
// the Command Palette, Quick Open, the keyboard, the right-click menu. Every wait is bounded.

/** Opens a fresh window on the workspace and waits until the workbench and extension are up. */
export async function openWorkbench(browser, url, folder) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15_000);
  await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`, { timeout: 30_000 });
  await page.locator(".monaco-workbench").waitFor({ timeout: 30_000 });
  await statusItem(page, "").waitFor({ timeout: 30_000 });
  return page;
}

/** The extension's status bar item (its text contains `text`). */
export function statusItem(page, text) {
  return page.locator('.statusbar-item[id="beastmode.beastmode.status"], .statusbar-item[id$="beastmode.status"]', { hasText: text }).first();
}

/** Waits for the status item to leave its "starting" state (the server answered initialize). */
export async function waitForServer(page, timeoutMs = 30_000) {
  const item = statusItem(page, "");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const html = await item.innerHTML().catch(() => "");
    if (html.includes("codicon-error")) throw new Error(`the language server failed to start: ${await item.getAttribute("aria-label")}`);
    if (!html.includes("codicon-sync")) return;
    await page.waitForTimeout(200);
  }
  throw new Error("the language server did not start in time");
}

/** Quick Open (Ctrl+P) a workspace file and wait for its editor to have focus. */
export async function openFile(page, name) {
  await page.keyboard.press("Control+P");
  await page.locator(".quick-input-widget input").waitFor();
  await page.keyboard.type(name);
  await page.locator(".quick-input-widget .monaco-list-row", { hasText: name }).first().waitFor();
  await page.keyboard.press("Enter");
  await page.locator(`.tab.active[aria-label^="${name}"]`).waitFor();
  await page.locator(".monaco-editor.focused").waitFor();
}

/** Runs a command from the Command Palette (F1) by its title. */
export async function runCommand(page, title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator(".quick-input-widget .monaco-list-row", { hasText: title }).first().waitFor();
  await page.keyboard.press("Enter");
}

/** The open quick input (the Register form uses it for every step). */
export function quickInput(page) {
  return {
    title: page.locator(".quick-input-widget .quick-input-title"),
    input: page.locator(".quick-input-widget input.input, .quick-input-widget .quick-input-box input").first(),
    message: page.locator(".quick-input-widget .quick-input-message"),
    back: page.locator('.quick-input-widget .quick-input-titlebar a[aria-label="Back"], .quick-input-widget .quick-input-titlebar .codicon-quick-input-back').first(),
    row: (text) => page.locator(".quick-input-widget .monaco-list-row", { hasText: text }).first(),
  };
}

/** Waits for a quick input step whose title contains `title`, fills it (if given) and accepts it. */
export async function answerStep(page, title, value) {
  const form = quickInput(page);
  await page.locator(".quick-input-widget .quick-input-title", { hasText: title }).waitFor();
  if (value !== undefined) await form.input.fill(value);
  await page.keyboard.press("Enter");
}

/** Waits for a notification toast containing `text`. */
export async function notification(page, text, timeoutMs = 20_000) {
  const toast = page.locator(".notifications-toasts .notification-list-item", { hasText: text }).first();
  await toast.waitFor({ timeout: timeoutMs });
  return toast;
}

/** The ghost text currently shown in the editor ("" when none). */
export async function ghostText(page) {
  const parts = await page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text").allInnerTexts();
  return parts.join("").replace(/\u00a0/g, " ");
}

/** Asks for an inline suggestion from the palette until ghost text appears (the server may still be starting). */
export async function triggerInlineSuggestion(page, attempts = 4) {
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    await runCommand(page, "Trigger Inline Suggestion");
    try {
      await page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text").first().waitFor({ timeout: 6000 });
      return ghostText(page);
    } catch (error) {
      if (attempt === attempts) throw error;
    }
  }
  return "";
}

/** Saves the active editor (Ctrl+S) and waits until its tab is no longer dirty. */
export async function save(page) {
  await page.keyboard.press("Control+S");
  await page.locator(".tab.active.dirty").waitFor({ state: "detached", timeout: 10_000 });
}
