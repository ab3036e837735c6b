// Package llm asks an OpenAI-compatible chat endpoint for a short
// reflective reply and checks that reply before anyone sees it.
//
// The LLM is optional and never blocks a person (DESIGN.md rule 5): a
// Client without an API key is disabled and every failure (too slow, rate
// limited, down, a garbled answer, or a reply the Guard rejects) comes back
// as an *Error whose Reason says why, so the caller can send the scripted
// reflection instead and record the reason. Any endpoint that speaks the
// OpenAI chat completions API works through Config.BaseURL: OpenAI, Azure
// OpenAI (its v1 API, or the deployment API through WithAzure), Ollama,
// vLLM, LM Studio, OpenRouter.
//
// Nothing in this package logs or puts into an error what a person wrote,
// what the model answered, or the API key.
package llm
