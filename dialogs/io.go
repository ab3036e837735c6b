package dialogs

import "time"

// InputKind says what kind of thing happened.
type InputKind int

// Input kinds.
const (
	InputText        InputKind = iota + 1 // free text typed by the person
	InputButton                           // a button press; Data is the button's data
	InputCommand                          // a /command; Command without the slash, Args the rest
	InputTimer                            // the wake-up time of a pause has come
	InputReflection                       // a reflective reply is ready (Token, Text; empty Text = use the scripted one)
	InputSafety                           // the safety check found acute risk: stop and show Text
	InputUnsupported                      // a sticker, photo, voice note, ... (Text names the kind)
	InputStart                            // start the exercise named by Data (a scheduled check-in)
)

// Input is one thing the person (or a timer) did.
type Input struct {
	Kind    InputKind
	Text    string
	Data    string // button data
	Command string // lower case, without "/"
	Args    string
	Token   int // reflection token
	// LangHint is the language the client reports (Telegram's language_code),
	// used for a new person.
	LangHint string
	// Concern, when set on a text input, is a supportive message (elevated
	// distress): the answer is kept, and before going on the person chooses to
	// continue or pause.
	Concern string
	Now     time.Time
}

// Output is what the engine wants done after one input.
type Output struct {
	Messages []Message
	// Notice is a short answer to a button press (shown as a toast in Telegram).
	Notice string
	// Heard is how the input reads in the transcript (the text, or the label of
	// the button pressed); empty when nothing is to be recorded.
	Heard string
	// FreeText marks Heard as words the person wrote (stored only with consent).
	FreeText bool
	// Exercise and Step locate the input in the exercise, when it answered one.
	Exercise, Step string
	Flags          []Flag
	Reflect        *ReflectRequest
	Ended          *RunSummary
	Started        string // id of the exercise that started
	ConsentChanged bool
	LangChanged    bool
	// Unknown is set when the input was not understood (for metrics).
	Unknown bool
	// Busy is set when an InputStart was not started because another
	// exercise is running.
	Busy bool
}

// Message is one message to the person.
type Message struct {
	Text    string
	Buttons [][]Button
	// Prompt is the nonce the buttons carry (0 when there are none). With Edit,
	// it names the earlier message whose buttons are replaced.
	Prompt int
	// Edit replaces the buttons of the message that carried Prompt instead of
	// sending a new message; no Buttons removes them.
	Edit bool
	// Choice lists the options of the question by number, for terminals; it
	// follows Buttons (without the skip button).
	Choice bool
}

// Button is one inline button.
type Button struct {
	Label string
	Data  string
}

// Flag asks the service to flag the conversation for a coach.
type Flag struct {
	Level string // "elevated" or "acute"
	Rule  string
}

// QA is an earlier question and its answer within the same exercise.
type QA struct {
	Question, Answer string
}

// ReflectRequest asks for a reflective reply on a free-text answer. When the
// reply is ready (or not in time), the service sends an InputReflection with
// the same Token.
type ReflectRequest struct {
	Token    int
	Exercise string
	Step     string
	Lang     string
	Question string
	Answer   string
	Earlier  []QA
	Fallback string
}

// RunSummary describes a finished exercise, for mood history.
type RunSummary struct {
	Exercise  string
	StartedAt time.Time
	EndedAt   time.Time
	Scales    map[string]int
	Options   map[string][]string
	// Texts holds free-text answers (empty without consent).
	Texts map[string]string
}
