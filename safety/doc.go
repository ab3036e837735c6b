// Package safety is Stilstaan's crisis check: it normalises a message,
// matches it against named Dutch and English phrase rules, and says whether
// it shows acute risk (suicide, self-harm, violence at home), strong
// distress, a request for a human, or a question whether the bot is a
// person. It also holds the fixed, human-written replies for those moments
// and the helplines they show.
//
// Everything here is pure Go and deterministic: no database, no network, no
// language model. An optional second opinion (for example an LLM
// classifier) can be merged with Combine, which only ever raises a level,
// so its failure or slowness changes nothing.
//
// See docs/SAFETY.md for the protocol this package implements.
package safety
