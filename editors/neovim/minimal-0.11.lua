-- BEAST MODE in Neovim 0.11+ without the plugin module: paste into init.lua.
-- 0.12 adds native inline completion (ghost text); 0.11 gets completion items.
vim.lsp.config("beastmode", {
  cmd = { "beastmode-lsp" },
  -- No filetypes: attach to every file.
  root_markers = { "pyproject.toml", "package.json", "Cargo.toml", "go.mod", ".git" },
  init_options = { model = "custom:my-code-model", fallback = { "local" } },
  settings = { beastmode = { model = "custom:my-code-model", fallback = { "local" } } },
})
vim.lsp.enable("beastmode")

vim.api.nvim_create_autocmd("LspAttach", {
  callback = function(event)
    local client = vim.lsp.get_client_by_id(event.data.client_id)
    if client == nil or client.name ~= "beastmode" then
      return
    end
    if vim.lsp.inline_completion then -- Neovim 0.12+
      vim.lsp.inline_completion.enable(true, { bufnr = event.buf })
      vim.keymap.set("i", "<Tab>", function()
        if not vim.lsp.inline_completion.get() then
          return "<Tab>"
        end
      end, { buffer = event.buf, expr = true, desc = "Accept the inline suggestion" })
    else -- 0.11: suggestions as completion items (<C-x><C-o>, or automatically)
      vim.lsp.completion.enable(true, client.id, event.buf, { autotrigger = false })
    end
  end,
})

-- Workspace commands, e.g. :BeastUsage
vim.api.nvim_create_user_command("BeastUsage", function()
  local client = vim.lsp.get_clients({ name = "beastmode" })[1]
  client:request("workspace/executeCommand", { command = "beastmode.usage", arguments = { vim.empty_dict() } }, function(err, result)
    if err then
      return vim.notify(err.message, vim.log.levels.ERROR)
    end
    vim.cmd("vnew")
    vim.bo.buftype, vim.bo.filetype = "nofile", "markdown"
    vim.api.nvim_buf_set_lines(0, 0, -1, false, vim.split(result.markdown, "\n"))
  end)
end, {})
