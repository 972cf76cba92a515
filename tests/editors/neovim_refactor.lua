-- Headless Neovim test: the editors/neovim module starts beastmode-lsp, then Neovim's own
-- code-action flow (request, pick, codeAction/resolve, apply) runs "BEAST MODE: Refactor
-- selection" on a range, and a workspace command answers. Prints "ok <name>" / "not ok <name>: why"
-- lines and exits 0 only when every check passed. Driven by tests/editors/neovim.test.mjs.
local repo = os.getenv("BEASTMODE_REPO")
local server = os.getenv("BEASTMODE_LSP")
vim.opt.runtimepath:prepend(repo .. "/editors/neovim")
vim.opt.swapfile = false
-- Filetype detection is normally switched on after the init file; this file is the whole session.
vim.cmd("filetype on")

local failures = 0
local function report(ok, name, why)
  if ok then
    io.stdout:write("ok " .. name .. "\n")
  else
    failures = failures + 1
    io.stdout:write("not ok " .. name .. ": " .. tostring(why) .. "\n")
  end
end

local function finish()
  io.stdout:flush()
  vim.cmd(failures == 0 and "qall!" or "cquit! 1")
end

local beastmode = require("beastmode")
beastmode.setup({
  cmd = { server },
  settings = { model = "custom:fake", fallback = {} },
})

vim.cmd("edit " .. vim.fn.fnameescape(os.getenv("BEASTMODE_NVIM_FILE")))
local bufnr = vim.api.nvim_get_current_buf()
local before = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")

local attached = vim.wait(30000, function()
  local client = beastmode.client()
  return client ~= nil and client.initialized ~= false and vim.lsp.buf_is_attached(bufnr, client.id)
end, 100)
report(attached, "server attaches to the buffer", "no beastmode client after 30 s")
if not attached then
  return finish()
end

-- A workspace command through the module's helper.
local listed
beastmode.execute("beastmode.listModels", {}, function(result)
  listed = result
end)
vim.wait(20000, function()
  return listed ~= nil
end, 50)
report(listed ~= nil and vim.inspect(listed):find('"fake"', 1, true) ~= nil, "listModels names the registered model", vim.inspect(listed))

-- The user's code-action flow: the picker is answered the way a person would pick the item.
local offered = {}
vim.ui.select = function(items, opts, on_choice)
  for index, item in ipairs(items) do
    local action = item.action or item[2] or item
    local title = action.title or ""
    table.insert(offered, title)
    if title == "BEAST MODE: Refactor selection" then
      return on_choice(item, index)
    end
  end
  on_choice(nil, nil)
end
if vim.fn.has("nvim-0.9") == 1 then
  vim.lsp.buf.code_action({ range = { start = { 2, 0 }, ["end"] = { 4, 100 } } })
else
  vim.lsp.buf.range_code_action(nil, { 2, 0 }, { 4, 100 })
end
local changed = vim.wait(90000, function()
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n") ~= before
end, 100)
local after = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
report(changed, "refactor code action changes the selected lines", "offered: " .. table.concat(offered, " | "))
local expected = os.getenv("BEASTMODE_FAKE_TEXT")
report(after:find(expected, 1, true) ~= nil and after:find("^def add%(a, b%):\n") ~= nil, "the model's text replaces the selection", after)
vim.cmd("silent write")
finish()
