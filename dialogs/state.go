package dialogs

import "time"

// Stage is where a person is in onboarding.
type Stage string

// Onboarding stages.
const (
	StageNew     Stage = ""        // nothing said yet
	StageConsent Stage = "consent" // welcome sent, waiting for the consent answer
	StageReady   Stage = "ready"   // onboarded
)

// State is everything the engine remembers about one person's conversation.
// It is saved as JSON (sealed at rest) after every turn.
type State struct {
	Lang    string `json:"lang,omitempty"`
	Stage   Stage  `json:"stage,omitempty"`
	Consent bool   `json:"consent,omitempty"`
	// Prompt is the nonce of the latest message with buttons; a button carrying
	// another nonce is stale.
	Prompt int `json:"prompt,omitempty"`
	// Menu marks that the latest buttons are a menu (not a step question).
	Menu bool `json:"menu,omitempty"`
	Run  *Run `json:"run,omitempty"`
	// Stash keeps a stopped exercise while a scheduled one (a check-in) runs;
	// it comes back, still stopped, when that one ends.
	Stash *Run `json:"stash,omitempty"`
	// Done counts finished exercises.
	Done int `json:"done,omitempty"`
}

// Run is one exercise in progress (or stopped, waiting to be resumed).
type Run struct {
	Exercise string            `json:"exercise"`
	Version  string            `json:"version"`
	Step     string            `json:"step"`
	Answers  map[string]Answer `json:"answers,omitempty"`
	Selected []string          `json:"selected,omitempty"` // multi-select in progress
	Stopped  bool              `json:"stopped,omitempty"`
	// StoppedBy says why the run stopped: "person", "pause" or "safety".
	StoppedBy string `json:"stopped_by,omitempty"`
	// WakeAt is when a pause step ends.
	WakeAt time.Time `json:"wake_at,omitzero"`
	// Awaiting is the token of a reflective reply being written; zero when none.
	Awaiting int `json:"awaiting,omitempty"`
	// Held means a concern message was shown; Step has not been entered yet and
	// is entered when the person chooses to go on.
	Held      bool      `json:"held,omitempty"`
	High      int       `json:"high,omitempty"` // scale answers of 9 or more
	StartedAt time.Time `json:"started_at,omitzero"`
}

// Answer is the answer to one step.
type Answer struct {
	Text    string   `json:"text,omitempty"`
	Options []string `json:"options,omitempty"`
	Value   *int     `json:"value,omitempty"`
	Skipped bool     `json:"skipped,omitempty"`
	// Withheld marks free text that was not kept because the person did not
	// consent to storing it.
	Withheld bool `json:"withheld,omitempty"`
}

// Active reports whether an exercise is running and not stopped.
func (s *State) Active() bool { return s.Run != nil && !s.Run.Stopped }

// WakeAt is when the engine wants a Timer input; zero when it does not.
func (s *State) WakeAt() time.Time {
	if s.Run != nil && !s.Run.Stopped {
		return s.Run.WakeAt
	}
	return time.Time{}
}

func (s State) clone() State {
	if s.Run != nil {
		r := *s.Run
		r.Answers = make(map[string]Answer, len(s.Run.Answers))
		for k, v := range s.Run.Answers {
			r.Answers[k] = v
		}
		r.Selected = append([]string(nil), s.Run.Selected...)
		s.Run = &r
	}
	if s.Stash != nil {
		r := *s.Stash
		r.Answers = make(map[string]Answer, len(s.Stash.Answers))
		for k, v := range s.Stash.Answers {
			r.Answers[k] = v
		}
		r.Selected = append([]string(nil), s.Stash.Selected...)
		s.Stash = &r
	}
	return s
}
