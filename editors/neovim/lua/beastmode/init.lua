-- BEAST MODE for Neovim: starts the beastmode-lsp language server and adds user commands for
-- the server's workspace commands. Works on Neovim 0.7 to 0.12:
--   0.11+  vim.lsp.config / vim.lsp.enable; 0.12+ native inline completion (ghost text);
--   0.8-0.10  vim.lsp.start;  0.7  vim.lsp.start_client + buf_attach_client.
-- Older versions get suggestions as completion items (omnifunc, or any completion plugin).
--
--   require("beastmode").setup({ settings = { model = "custom:my-code-model" } })
local M = {}

local uv = vim.uv or vim.loop

local defaults = {
  -- The server command; `python3 -m beastmode` also works.
  cmd = { "beastmode-lsp" },
  filetypes = nil, -- nil = every file type
  root_markers = { "pyproject.toml", "setup.py", "package.json", "Cargo.toml", "go.mod", ".git" },
  -- The flat settings object of the server (model, models.*, fallback, inline.*, timeouts.*).
  settings = {},
  -- Accept an inline suggestion with this key (Neovim 0.12+); false leaves keys alone.
  accept_key = "<Tab>",
  -- Environment for the server process (e.g. { BEASTMODE_HOME = "/tmp/bm" }).
  cmd_env = nil,
}

local state = { config = nil, status = nil, chat = {} }

local function has(version)
  return vim.fn.has("nvim-" .. version) == 1
end

local function notify(message, level)
  vim.notify("BEAST MODE: " .. message, level or vim.log.levels.INFO)
end

--- The running beastmode client, if any.
function M.client()
  local clients = has("0.10") and vim.lsp.get_clients({ name = "beastmode" }) or vim.lsp.get_active_clients()
  for _, client in ipairs(clients) do
    if client.name == "beastmode" then
      return client
    end
  end
  return nil
end

local function client_request(client, method, params, handler, bufnr)
  if has("0.11") then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

--- Runs a server command with one argument object; `callback(result)` on success.
function M.execute(command, argument, callback)
  local client = M.client()
  if client == nil then
    notify("the server is not running (is beastmode-lsp installed? see :checkhealth vim.lsp)", vim.log.levels.ERROR)
    return
  end
  -- An empty Lua table would be sent as a JSON array; the server wants an object.
  if argument == nil or (type(argument) == "table" and next(argument) == nil) then
    argument = vim.empty_dict()
  end
  local params = { command = command, arguments = { argument } }
  client_request(client, "workspace/executeCommand", params, function(err, result)
    if err then
      notify(err.message or tostring(err), vim.log.levels.ERROR)
    elseif callback then
      callback(result)
    end
  end, vim.api.nvim_get_current_buf())
end

--- Text for a statusline: the last completion model and latency, "!" when the router fell back.
function M.statusline()
  local status = state.status
  if status == nil then
    return ""
  end
  local text = "BEAST " .. tostring(status.model)
  if type(status.latencyMs) == "number" then
    text = text .. string.format(" %dms", status.latencyMs)
  end
  if status.fellBack then
    text = text .. " !"
  end
  return text
end

local function scratch(name, lines, filetype)
  local buf = vim.fn.bufnr(name)
  if buf == -1 then
    buf = vim.api.nvim_create_buf(true, true)
    vim.api.nvim_buf_set_name(buf, name)
  end
  vim.api.nvim_buf_set_option(buf, "buftype", "nofile")
  vim.api.nvim_buf_set_option(buf, "filetype", filetype or "markdown")
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.cmd("vsplit")
  vim.api.nvim_win_set_buf(0, buf)
  return buf
end

local handlers = {
  ["beastmode/status"] = function(_, params)
    state.status = params
  end,
  ["beastmode/chatDelta"] = function(_, params)
    local buf = params and state.chat[params.sessionId]
    if buf == nil or not vim.api.nvim_buf_is_valid(buf) then
      return
    end
    local last = vim.api.nvim_buf_line_count(buf)
    local tail = vim.api.nvim_buf_get_lines(buf, last - 1, last, false)[1] or ""
    local pieces = vim.split(tail .. params.delta, "\n", { plain = true })
    vim.api.nvim_buf_set_lines(buf, last - 1, last, false, pieces)
  end,
}

local function on_attach(client, bufnr)
  vim.api.nvim_buf_set_option(bufnr, "omnifunc", "v:lua.vim.lsp.omnifunc")
  if has("0.12") and vim.lsp.inline_completion and client.server_capabilities.inlineCompletionProvider then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
    local key = state.config.accept_key
    if key then
      vim.keymap.set("i", key, function()
        if not vim.lsp.inline_completion.get() then
          return key
        end
      end, { buffer = bufnr, expr = true, desc = "BEAST MODE: accept the inline suggestion" })
    end
  end
end

local function lsp_config(config)
  return {
    name = "beastmode",
    cmd = config.cmd,
    cmd_env = config.cmd_env,
    filetypes = config.filetypes,
    root_markers = config.root_markers,
    init_options = config.settings,
    -- Answers workspace/configuration for section "beastmode" with the same flat object.
    settings = { beastmode = config.settings },
    handlers = handlers,
    on_attach = on_attach,
  }
end

local function root_dir(bufnr, markers)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = name ~= "" and vim.fn.fnamemodify(name, ":p:h") or uv.cwd()
  if vim.fs and vim.fs.find then
    local found = vim.fs.find(markers, { path = dir, upward = true })[1]
    if found then
      return vim.fn.fnamemodify(found, ":h")
    end
  end
  return dir
end

local function start_legacy(config)
  -- Neovim 0.7-0.10: one client, attached to every normal buffer as it opens.
  local client_id
  local function attach(args)
    local bufnr = args.buf
    if vim.api.nvim_buf_get_option(bufnr, "buftype") ~= "" then
      return
    end
    if config.filetypes and not vim.tbl_contains(config.filetypes, vim.bo[bufnr].filetype) then
      return
    end
    local lsp = lsp_config(config)
    lsp.root_dir = root_dir(bufnr, config.root_markers)
    if vim.lsp.start then
      vim.lsp.start(lsp, { bufnr = bufnr })
      return
    end
    if client_id == nil or vim.lsp.get_client_by_id(client_id) == nil then
      client_id = vim.lsp.start_client(lsp)
    end
    if client_id then
      vim.lsp.buf_attach_client(bufnr, client_id)
    end
  end
  local group = vim.api.nvim_create_augroup("beastmode", { clear = true })
  vim.api.nvim_create_autocmd("FileType", { group = group, callback = attach })
  -- Buffers opened before setup() (a lazily loaded plugin) get the server too.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= "" then
      attach({ buf = bufnr })
    end
  end
end

--- Registers the prompts of the Register Custom Model form in sequence.
local function register_form()
  local values = {}
  local steps = {
    { key = "model_name", prompt = "Model name: " },
    { key = "model_id", prompt = "Model id (custom:<id>): " },
    { key = "endpoint_url", prompt = "Endpoint URL (e.g. http://localhost:11434/v1): " },
    { key = "provider", choices = { "openai-compatible", "anthropic-compatible" } },
    { key = "upstream_model", prompt = "Upstream model name (empty: the id): ", optional = true },
    { key = "api_key", secret = true },
    { key = "context_window", prompt = "Context window: ", default = "8192", number = true },
    { key = "max_tokens", prompt = "Max tokens: ", default = "4000", number = true },
    { key = "temperature", prompt = "Temperature (0-2): ", default = "0.7", number = true },
  }
  local function finish()
    M.execute("beastmode.registerModel", values, function(result)
      values.api_key = nil
      notify("registered custom:" .. tostring(result and result.model_id or "?"))
    end)
  end
  local function ask(index)
    local step = steps[index]
    if step == nil then
      return finish()
    end
    local function accept(value)
      if value == nil then
        return notify("registration cancelled")
      end
      if value == "" and not step.optional and not step.secret then
        notify(step.key .. " is required", vim.log.levels.WARN)
        return ask(index)
      end
      if step.key == "model_id" and not value:match("^[a-z0-9][a-z0-9._-]*$") then
        notify("the id takes lowercase letters, digits, '.', '_' and '-'", vim.log.levels.WARN)
        return ask(index)
      end
      if value ~= "" then
        values[step.key] = step.number and tonumber(value) or value
      end
      ask(index + 1)
    end
    if step.choices then
      vim.ui.select(step.choices, { prompt = "Provider" }, accept)
    elseif step.secret then
      -- inputsecret never echoes the key; it goes to the server once and is dropped here.
      accept(vim.fn.inputsecret("API key (empty if none): "))
    else
      vim.ui.input({ prompt = step.prompt, default = step.default }, accept)
    end
  end
  ask(1)
end

local function model_refs(result)
  local refs = {}
  for _, item in ipairs((result and result.models) or {}) do
    if type(item) == "string" then
      table.insert(refs, item)
    elseif type(item) == "table" and item.model_id then
      table.insert(refs, item.ref or ("custom:" .. item.model_id))
    elseif type(item) == "table" and item.ref then
      table.insert(refs, item.ref)
    end
  end
  return refs
end

local function create_commands()
  local command = vim.api.nvim_create_user_command
  command("BeastRegister", register_form, { desc = "BEAST MODE: register a custom model" })
  command("BeastModels", function()
    M.execute("beastmode.listModels", {}, function(result)
      vim.ui.select(model_refs(result), { prompt = "Models" }, function(ref)
        if ref == nil then
          return
        end
        vim.ui.select({ "test", "make default", "remove" }, { prompt = ref }, function(action)
          if action == "test" then
            vim.cmd("BeastTest " .. ref)
          elseif action == "make default" then
            vim.cmd("BeastUseModel " .. ref)
          elseif action == "remove" and ref:match("^custom:") then
            M.execute("beastmode.removeModel", { model_id = ref:sub(8) }, function()
              notify("removed " .. ref)
            end)
          end
        end)
      end)
    end)
  end, { desc = "BEAST MODE: list models" })
  command("BeastTest", function(opts)
    M.execute("beastmode.testModel", { model = opts.args }, function(result)
      if result and result.ok then
        notify(string.format("%s answered in %d ms", opts.args, result.latency_ms or 0))
      else
        notify(opts.args .. " failed: " .. tostring(result and result.error), vim.log.levels.ERROR)
      end
    end)
  end, { nargs = 1, desc = "BEAST MODE: test a model (custom:<id>, openai:<m>, local)" })
  command("BeastUseModel", function(opts)
    local args = { model = opts.fargs[1], task = opts.fargs[2] }
    M.execute("beastmode.setDefaultModel", args, function(result)
      notify(string.format("%s is the model for %s", result.model, result.task or "every task"))
    end)
  end, { nargs = "+", desc = "BEAST MODE: set the default model [task]" })
  command("BeastChat", function(opts)
    local session = string.format("nvim-%d-%d", vim.fn.getpid(), uv.hrtime())
    local file = vim.uri_from_bufnr(vim.api.nvim_get_current_buf())
    local buf = scratch("beastmode://chat/" .. session, { "> " .. opts.args, "" })
    state.chat[session] = buf
    M.execute("beastmode.chat", { sessionId = session, message = opts.args, files = { file } }, function(result)
      local reply = vim.split(result.reply or "", "\n", { plain = true })
      vim.api.nvim_buf_set_lines(buf, 1, -1, false, reply)
      vim.api.nvim_buf_set_lines(buf, -1, -1, false, { "", "-- " .. tostring(result.model) })
    end)
  end, { nargs = "+", desc = "BEAST MODE: ask about your code" })
  command("BeastFeature", function(opts)
    M.execute("beastmode.generateFeature", { featureRequest = opts.args }, function(result)
      notify(string.format("wrote %d file(s)", #(result.files or {})))
    end)
  end, { nargs = "+", desc = "BEAST MODE: generate a feature" })
  command("BeastRefactor", function(opts)
    local bufnr = vim.api.nvim_get_current_buf()
    local last = vim.fn.getline(opts.line2)
    local args = {
      uri = vim.uri_from_bufnr(bufnr),
      range = { start = { line = opts.line1 - 1, character = 0 }, ["end"] = { line = opts.line2 - 1, character = #last } },
    }
    if opts.args ~= "" then
      args.instruction = opts.args
    end
    M.execute("beastmode.refactor", args)
  end, { range = true, nargs = "*", desc = "BEAST MODE: refactor the selected lines" })
  command("BeastUsage", function()
    M.execute("beastmode.usage", {}, function(result)
      scratch("beastmode://usage", vim.split(result.markdown or "", "\n", { plain = true }))
    end)
  end, { desc = "BEAST MODE: usage report" })
end

--- Starts BEAST MODE with the given options (see `defaults`).
function M.setup(opts)
  local config = vim.tbl_deep_extend("force", defaults, opts or {})
  state.config = config
  create_commands()
  if has("0.11") then
    vim.lsp.config("beastmode", lsp_config(config))
    vim.lsp.enable("beastmode")
  else
    start_legacy(config)
  end
end

return M
