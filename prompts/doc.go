// Package prompts renders the text an LLM is asked to reflect on.
//
// Each language (nl, en) has an embedded set of text/template files: a
// system prompt, a default per-step reflection prompt, and optional
// overrides per exercise and step:
//
//	templates/<lang>/system.tmpl               the system prompt
//	templates/<lang>/reflect.tmpl              default user prompt for any step
//	templates/<lang>/<exercise>/reflect.tmpl   default for one exercise (optional)
//	templates/<lang>/<exercise>/<step>.tmpl    override for one step (optional)
//	templates/<lang>/<other>.tmpl              shared {{define}} blocks
//
// An operator may replace any file, or add new overrides, by putting a file
// with the same relative path (without the "templates/" prefix) in an
// override directory. What a person wrote is masked (e-mail addresses,
// phone numbers, links) before it is put into a prompt, and a prompt never
// carries a name or a Telegram handle.
package prompts
