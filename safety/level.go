package safety

import (
	"fmt"
	"strconv"
)

// Level is how urgent a message is.
type Level int

// Risk levels, in increasing order of urgency.
const (
	// None: nothing that needs the safety protocol.
	None Level = iota
	// Elevated: strong distress without signs of intent ("I can't take this
	// anymore"). Support and helplines are offered; the exercise may go on.
	Elevated
	// Acute: suicidal thoughts or plans, self-harm, or danger from a partner
	// or family member. The exercise stops and the safety reply is sent.
	Acute
)

// Categories a Result can carry.
const (
	CategorySuicide      = "suicide"
	CategorySelfHarm     = "self_harm"
	CategoryViolence     = "violence"
	CategoryDistress     = "distress"
	CategoryHumanRequest = "human_request"
	CategoryBotQuestion  = "bot_question"
)

var levelNames = [...]string{None: "none", Elevated: "elevated", Acute: "acute"}

// Valid reports whether l is one of None, Elevated and Acute.
func (l Level) Valid() bool { return l >= None && l <= Acute }

// String returns "none", "elevated" or "acute".
func (l Level) String() string {
	if !l.Valid() {
		return "Level(" + strconv.Itoa(int(l)) + ")"
	}
	return levelNames[l]
}

// MarshalText encodes the level as "none", "elevated" or "acute".
func (l Level) MarshalText() ([]byte, error) {
	if !l.Valid() {
		return nil, fmt.Errorf("safety: marshal level: unknown level %d", int(l))
	}
	return []byte(levelNames[l]), nil
}

// UnmarshalText decodes "none", "elevated" or "acute".
func (l *Level) UnmarshalText(b []byte) error {
	lv, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = lv
	return nil
}

// ParseLevel parses "none", "elevated" or "acute".
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if s == n {
			return Level(i), nil
		}
	}
	return None, fmt.Errorf("safety: parse level: %q is not none, elevated or acute", s)
}

// Result is the outcome of classifying one message.
type Result struct {
	// Level is the urgency.
	Level Level `json:"level"`
	// Category is one of the Category constants, or "" when nothing was
	// found. Requests for a human and questions about the bot have Level
	// None and a category.
	Category string `json:"category"`
	// Rule names what matched (a keyword rule, or a second opinion), for the
	// flag and the coach; it never contains the message text.
	Rule string `json:"rule"`
}
