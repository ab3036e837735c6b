// Package reflection gets a person a reflective reply from the LLM without
// ever making them wait for it (DESIGN.md rule 5).
//
// When a free-text answer asks for a reflection, the conversation turn that
// took the answer also writes a row to the reflections table (Worker.Hook):
// the exercise, step and language, and the prompt request (the current
// exercise's questions and answers only, sealed with the person's key), with
// a deadline of the turn's time plus the LLM timeout. Because the row commits
// with the turn, a restart loses nothing.
//
// A Worker then claims the row with a lease, shows a typing indicator, renders
// the prompt (prompts masks e-mail addresses, phone numbers and links), asks
// the llm.Client with the row's deadline, and answers the person with exactly
// one turn (input source "reflect:<id>") that shows the model's reply, or the
// step's scripted reflection when the model was slow, failed, or said
// something the Guard rejected. That same turn marks the row done with the
// model, the token counts, the latency and the fallback reason, and empties
// the sealed request. A row whose deadline has passed when a worker gets to
// it (after a restart) is answered at once with the scripted reflection.
//
// Workers find work in two ways: the hook wakes the worker of its own process
// right away, and every second a worker looks for rows left by a crash or by
// another replica. Several replicas may run workers; the lease and the input
// source keep each reflection answered once.
//
// Nothing in this package logs what a person wrote or what the model said.
package reflection
