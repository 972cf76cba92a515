;;; emacs_check.el --- batch check of editors/emacs/beastmode.el  -*- lexical-binding: t; -*-
;; Manual verification (not part of scripts/test-editors.sh, which does not install Emacs):
;;   BEASTMODE_HOME=... emacs --batch -Q -L DIR-OF-EGLOT... -l editors/emacs/beastmode.el \
;;       -l tests/editors/emacs_check.el FILE.py
;; (Debian bookworm: apt-get install emacs-nox elpa-eglot; -L each of
;; /usr/share/emacs/site-lisp/elpa/{eglot-1.9,project-0.8.1,seq-2.23} and elpa-src/xref-1.6.0.)
;; Seen passing with Emacs 28.2 + eglot 1.9 against the real beastmode-lsp.
;; Connects eglot to beastmode-lsp, lists models through a workspace command and asks for code
;; actions on the first lines; exits 0 when both answered.
(require 'python)
(let* ((file (car command-line-args-left))
       (eglot-sync-connect 30)
       (ok t))
  (find-file file)
  (python-mode)
  (call-interactively #'eglot)
  (let ((models (beastmode--execute "beastmode.listModels" nil)))
    (princ (format "listModels: %S\n" models))
    (unless (plist-get models :models) (setq ok nil)))
  (let* ((server (eglot--current-server-or-lose))
         (actions (jsonrpc-request
                   server :textDocument/codeAction
                   `(:textDocument (:uri ,(eglot--path-to-uri file))
                     :range (:start (:line 1 :character 0) :end (:line 3 :character 10))
                     :context (:diagnostics [])))))
    (princ (format "code actions: %S\n" (mapcar (lambda (a) (plist-get a :title)) actions)))
    (unless (seq-find (lambda (a) (equal (plist-get a :title) "BEAST MODE: Refactor selection")) actions)
      (setq ok nil)))
  (kill-emacs (if ok 0 1)))
;;; emacs_check.el ends here
