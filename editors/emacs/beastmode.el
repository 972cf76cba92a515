;;; beastmode.el --- BEAST MODE language server with eglot  -*- lexical-binding: t; -*-

;; Load from your init file: (load "/path/to/editors/emacs/beastmode.el")
;; Needs Emacs 29+ (eglot built in) or the eglot package from GNU ELPA on Emacs 26.3+.
;; Suggestions arrive as completion items (M-x completion-at-point, or corfu/company);
;; code actions with M-x eglot-code-actions; workspace commands with the functions below.

(require 'eglot)
(require 'json)

(defgroup beastmode nil "BEAST MODE: your own code models." :group 'tools)

(defcustom beastmode-server-command '("beastmode-lsp")
  "Command line of the BEAST MODE language server."
  :type '(repeat string))

(defcustom beastmode-settings '(:model "custom:my-code-model" :fallback ["local"])
  "The server's flat settings object, as a plist."
  :type 'sexp)

;; eglot runs one server per major mode; this entry makes BEAST MODE the server for Python.
;; To keep another Python server, use it for the language and BEAST MODE for its code actions
;; from a second buffer, or see editors/README.md (multi-server with the `rassumfrassum' proxy).
(add-to-list 'eglot-server-programs
             `((python-mode python-ts-mode) . (,@beastmode-server-command
                                               :initializationOptions ,beastmode-settings)))

(setq-default eglot-workspace-configuration `(:beastmode ,beastmode-settings))

(defun beastmode--execute (command argument)
  "Run server COMMAND with ARGUMENT (a plist) and return its result."
  (let ((server (eglot--current-server-or-lose)))
    (jsonrpc-request server :workspace/executeCommand
                     `(:command ,command :arguments [,(or argument (make-hash-table))])
                     :timeout 120)))

(defun beastmode-list-models ()
  "Show the models the server knows."
  (interactive)
  (let ((result (beastmode--execute "beastmode.listModels" nil)))
    (with-current-buffer (get-buffer-create "*BEAST MODE models*")
      (erase-buffer)
      (insert (json-encode result))
      (json-pretty-print-buffer)
      (display-buffer (current-buffer)))))

(defun beastmode-register-model ()
  "Register a custom model; the key is read without echo and sent once to the server."
  (interactive)
  (let* ((name (read-string "Model name: "))
         (id (read-string "Model id (custom:<id>): "))
         (endpoint (read-string "Endpoint URL (e.g. http://localhost:11434/v1): "))
         (provider (completing-read "Provider: " '("openai-compatible" "anthropic-compatible") nil t))
         (key (read-passwd "API key (empty if none): "))
         (args `(:model_name ,name :model_id ,id :endpoint_url ,endpoint :provider ,provider)))
    (unless (string-empty-p key) (setq args (append args `(:api_key ,key))))
    (let ((stored (beastmode--execute "beastmode.registerModel" args)))
      (message "BEAST MODE: registered custom:%s" (plist-get stored :model_id)))))

(defun beastmode-chat (message)
  "Ask the model MESSAGE about the current file."
  (interactive "sAsk BEAST MODE: ")
  (let* ((uri (eglot--path-to-uri (buffer-file-name)))
         (result (beastmode--execute "beastmode.chat"
                                     `(:sessionId ,(format "emacs-%s" (emacs-pid))
                                       :message ,message :files [,uri]))))
    (with-current-buffer (get-buffer-create "*BEAST MODE chat*")
      (goto-char (point-max))
      (insert "> " message "\n\n" (plist-get result :reply) "\n\n")
      (display-buffer (current-buffer)))))

(defun beastmode-usage ()
  "Show the usage report."
  (interactive)
  (let ((result (beastmode--execute "beastmode.usage" nil)))
    (with-current-buffer (get-buffer-create "*BEAST MODE usage*")
      (erase-buffer)
      (insert (plist-get result :markdown))
      (display-buffer (current-buffer)))))

(provide 'beastmode)
;;; beastmode.el ends here
