// Package dialogs is the conversation engine of Stilstaan and the exercise
// scripts it runs.
//
// The engine is pure: Engine.Handle takes the saved State and one Input (text,
// button, command, timer, reflection, safety decision) and returns the new State
// and an Output (messages with buttons, a wake-up time, flags, a request for a
// reflective reply). It does no I/O, so it is table-tested and fuzzed without a
// network or a database.
//
// Exercises are YAML files (scripts/*.yaml, embedded; a directory given in config
// can add or replace them). Load validates them and reports problems as
// "file:line: problem", so a broken script never reaches a person.
package dialogs
