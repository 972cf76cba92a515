-- BEAST MODE in Neovim 0.7-0.10 without the plugin module: paste into init.lua.
-- These versions have no inline completion: suggestions come as completion items
-- (<C-x><C-o> with the omnifunc below, or nvim-cmp's LSP source).
local client_id
vim.api.nvim_create_autocmd("FileType", {
  callback = function(args)
    if vim.bo[args.buf].buftype ~= "" then
      return
    end
    if client_id == nil or vim.lsp.get_client_by_id(client_id) == nil then
      client_id = vim.lsp.start_client({
        name = "beastmode",
        cmd = { "beastmode-lsp" },
        root_dir = vim.fn.getcwd(),
        init_options = { model = "custom:my-code-model", inline = { completionItems = true } },
        settings = { beastmode = { model = "custom:my-code-model", inline = { completionItems = true } } },
      })
    end
    vim.lsp.buf_attach_client(args.buf, client_id)
    vim.bo[args.buf].omnifunc = "v:lua.vim.lsp.omnifunc"
  end,
})
