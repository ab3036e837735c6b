package bot

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
)

// The fuzz targets of the receiving side. Their seed corpora are committed
// under testdata/fuzz/<Name>/; the figures of a long run are in
// RELIABILITY.md.

// kinds is the closed set of update kinds the metrics may be labelled with.
var kinds = map[string]bool{
	kindText: true, kindCommand: true, kindButton: true, kindUnsupported: true, kindMember: true,
	kindGroup: true, kindEdited: true, kindOther: true, kindUndecodable: true, kindTimer: true,
}

// safeClass is what an error class may look like: words and JSON field paths,
// never a quote of the body.
var safeClass = regexp.MustCompile(`^[A-Za-z0-9_. ]*$`)

// FuzzDecodeUpdate feeds arbitrary bodies to what the webhook and the poller
// do with an update: probe (the id and chat the inbox files it under) and
// decode (what the turn does). Neither may panic; an error class never quotes
// the body; a turn always names the update it came from and runs in the chat
// the inbox filed it under (else a forged update could run outside its chat's
// order); a private text reaches the engine untouched.
func FuzzDecodeUpdate(f *testing.F) {
	for _, s := range decodeSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		id, chat, perr := probe(raw)
		if perr != nil {
			if c := errorClass(perr); !safeClass.MatchString(c) {
				t.Fatalf("probe error class %q may quote the body", c)
			}
			return // the webhook answers 400, the poller skips it
		}
		if id <= 0 {
			t.Fatalf("probe accepted update_id %d", id)
		}
		ev, err := decode(id, raw)
		if !kinds[ev.kind] {
			t.Fatalf("kind %q is not one of the metric labels", ev.kind)
		}
		if err != nil {
			if ev.kind != kindUndecodable {
				t.Fatalf("undecodable update has kind %q", ev.kind)
			}
			if c := errorClass(err); !safeClass.MatchString(c) {
				t.Fatalf("decode error class %q may quote the body", c)
			}
			return
		}
		if ev.updateID != id {
			t.Fatalf("decode names update %d, probe %d", ev.updateID, id)
		}
		switch ev.action {
		case actTurn:
			if ev.in.Source != source(id) || ev.in.Channel != conversation.ChannelTelegram {
				t.Fatalf("turn has source %q channel %q, want %q telegram", ev.in.Source, ev.in.Channel, source(id))
			}
			if ev.in.ChatID != ev.chatID {
				t.Fatalf("turn for chat %d, event for chat %d", ev.in.ChatID, ev.chatID)
			}
			if ev.chatID != chat {
				t.Fatalf("turn runs in chat %d but the inbox files the update under chat %d", ev.chatID, chat)
			}
			checkInput(t, raw, ev)
		case actActive:
			if ev.in.Source != source(id) || ev.chatID != chat || ev.in.ChatID != chat {
				t.Fatalf("membership change %+v filed under chat %d", ev, chat)
			}
		case actGroup:
			if ev.chatID != chat {
				t.Fatalf("group notice for chat %d, filed under chat %d", ev.chatID, chat)
			}
		case actIgnore:
			if ev.why == "" {
				t.Fatal("an ignored update says not why")
			}
		default:
			t.Fatalf("unknown action %d", ev.action)
		}
	})
}

// checkInput checks that a turn's input says what the update said.
func checkInput(t *testing.T, raw []byte, ev event) {
	t.Helper()
	var u struct {
		Message *struct {
			Text string `json:"text"`
		} `json:"message"`
		CallbackQuery *struct {
			ID   string `json:"id"`
			Data string `json:"data"`
		} `json:"callback_query"`
	}
	if err := json.Unmarshal(raw, &u); err != nil {
		t.Fatalf("decode accepted what a plain decoder refuses: %v", err)
	}
	in := ev.in.Input
	switch in.Kind {
	case dialogs.InputText:
		if u.Message == nil || in.Text != u.Message.Text {
			t.Fatalf("text input %q does not carry the message text untouched", in.Text)
		}
		if in.Text == "" {
			t.Fatal("empty text became a turn")
		}
	case dialogs.InputCommand:
		if u.Message == nil || !strings.HasPrefix(u.Message.Text, "/") || in.Command == "" || in.Command != strings.ToLower(in.Command) {
			t.Fatalf("command %q from text that is not one", in.Command)
		}
	case dialogs.InputButton:
		if u.CallbackQuery == nil || in.Data != u.CallbackQuery.Data || in.Data == "" || ev.callbackID != u.CallbackQuery.ID {
			t.Fatalf("button input %q (callback %q) does not carry the press", in.Data, ev.callbackID)
		}
	case dialogs.InputUnsupported:
		if in.Data == "" {
			t.Fatal("unsupported input does not name what it was")
		}
	default:
		t.Fatalf("a Telegram update became input kind %d", in.Kind)
	}
}

// decodeSeeds are updates as Telegram sends them, and the hostile kinds a
// forged or broken body may take.
func decodeSeeds() []string {
	msg := func(text string) string {
		b, _ := json.Marshal(map[string]any{"update_id": 10, "message": map[string]any{
			"message_id": 3, "date": 1700000000, "text": text,
			"from": map[string]any{"id": 77, "is_bot": false, "first_name": "Sam", "language_code": "nl"},
			"chat": map[string]any{"id": 77, "type": "private"},
		}})
		return string(b)
	}
	return []string{
		msg("Ik voel onrust in mijn buik."),
		msg("/start"),
		msg("/language@stilstaan_bot en"),
		msg(strings.Repeat("ا", 4096)),                   // the longest message Telegram allows, right to left
		msg("ik\u200bvoel\u200d\u202eiets\u202c \ufeff"), // zero-width and direction marks
		msg("\x00\x07\x1b[2J\r\n\t\u0085\u2028"),         // control characters
		msg("/" + strings.Repeat("a", 40)),               // too long for a command
		`{"update_id":11,"message":{"message_id":4,"date":1,"chat":{"id":77,"type":"private"},"from":{"id":77,"is_bot":false,"first_name":"S"},"sticker":{"file_id":"x","file_unique_id":"y","type":"regular","width":1,"height":1,"is_animated":false,"is_video":false}}}`,
		`{"update_id":12,"callback_query":{"id":"4000000000000000001","from":{"id":77,"is_bot":false,"first_name":"Sam"},"message":{"message_id":3,"date":1700000000,"chat":{"id":77,"type":"private"}},"chat_instance":"77","data":"3.o:fear"}}`,
		`{"update_id":13,"callback_query":{"id":"4000000000000000002","from":{"id":77,"is_bot":false,"first_name":"Sam"},"message":{"message_id":3,"date":0,"chat":{"id":77,"type":"private"}},"chat_instance":"77","data":"999.x:nope"}}`,
		`{"update_id":14,"callback_query":{"id":"4000000000000000003","from":{"id":78,"is_bot":false,"first_name":"Sam"},"inline_message_id":"abc","chat_instance":"1","data":"1.w"}}`,
		`{"update_id":15,"my_chat_member":{"chat":{"id":77,"type":"private"},"from":{"id":77,"is_bot":false,"first_name":"S"},"date":1,"old_chat_member":{"status":"member","user":{"id":1,"is_bot":true,"first_name":"b"}},"new_chat_member":{"status":"kicked","user":{"id":1,"is_bot":true,"first_name":"b"},"until_date":0}}}`,
		`{"update_id":16,"message":{"message_id":5,"date":1,"chat":{"id":-100123,"type":"supergroup","title":"x"},"text":"hoi"}}`,
		`{"update_id":17,"channel_post":{"message_id":5,"date":1,"chat":{"id":-100124,"type":"channel","title":"x"},"text":"hoi"}}`,
		`{"update_id":18,"edited_message":{"message_id":5,"date":1,"edit_date":2,"chat":{"id":77,"type":"private"},"text":"anders"}}`,
		`{"update_id":19,"edited_message":{"message_id":5,"date":1,"chat":{"id":5,"type":"private"}},"callback_query":{"id":"1","from":{"id":7},"message":{"message_id":1,"date":1,"chat":{"id":7,"type":"private"}},"data":"1.d"}}`,
		`{"update_id":20,"message":{"message_id":1,"date":1,"chat":{"id":0,"type":"private"},"text":"nul"}}`,
		`{"update_id":-1,"message":{"chat":{"id":1}}}`,
		`{"update_id":9223372036854775807,"poll":{"id":"p"}}`,
		`{"update_id":21,"message":null,"callback_query":null}`,
		`{"update_id":22,"message":{"message_id":1,"date":1,"chat":{"id":77,"type":"private"},"text":"\ud800"}}`,
		`{"update_id":"1"}`,
		`[{"update_id":1}]`,
		`{"update_id":23,"message":{"chat":{"id":1e400}}}`,
		"\xff\xfe{",
		``,
	}
}

// fuzzState is a conversation state with the buttons it shows.
type fuzzState struct {
	name  string
	st    dialogs.State
	shown map[string]bool // callback data the engine issued and still honours
}

// callbackStates plays the real exercises to a few states a press can meet:
// a new person, onboarding, the menu, and the middle of an exercise.
func callbackStates(t testing.TB, e *dialogs.Engine, now time.Time) []fuzzState {
	t.Helper()
	var out []fuzzState
	var st dialogs.State
	var shown map[string]bool
	keep := func(name string) {
		cp := map[string]bool{}
		for k := range shown {
			cp[k] = true
		}
		out = append(out, fuzzState{name: name, st: st, shown: cp})
	}
	apply := func(in dialogs.Input) {
		in.Now = now
		var o dialogs.Output
		st, o = e.Handle(st, in)
		for _, m := range o.Messages {
			if len(m.Buttons) > 0 && !m.Edit {
				shown = map[string]bool{}
				for _, row := range m.Buttons {
					for _, b := range row {
						shown[b.Data] = true
					}
				}
			}
		}
	}
	press := func(action string) {
		for data := range shown {
			if _, a, _ := strings.Cut(data, "."); a == action || strings.HasPrefix(a, action) {
				apply(dialogs.Input{Kind: dialogs.InputButton, Data: data})
				return
			}
		}
		t.Fatalf("no button %q among %v", action, shown)
	}
	keep("new")
	apply(dialogs.Input{Kind: dialogs.InputCommand, Command: "start", LangHint: "nl"})
	keep("consent")
	press("c:y")
	keep("menu")
	press("x:")
	keep("exercise")
	return out
}

// FuzzCallbackData presses buttons with arbitrary callback data: data no
// button ever carried, data of another person's buttons, data longer than
// Telegram's 64 bytes. The press goes through decoding into the real engine
// with the built-in exercises, in each of a few states. Nothing may panic,
// the press must reach the engine as it was sent, and data the engine did
// not issue must never answer a step, finish an exercise or onboarding,
// unless a button on the question does exactly the same ("1.c:0" declines,
// as the "no" button does).
//
// Data with the current prompt's nonce and an action that a command offers
// too (start an exercise, pause, resume, the menu, language, consent) does
// take effect, whether or not the prompt showed that button: only a modified
// client can send it, it touches nobody but the sender, and it does no more
// than typing the command. The fuzzer found this (seed
// forged-consent-at-menu); RELIABILITY.md lists it.
func FuzzCallbackData(f *testing.F) {
	for _, s := range []string{
		"1.c:y", "2.x:abandonment", "3.o:fear", "3.o:", "3.w", "3.d", "3.s", "0.c:y", "-1.c:y", "99999999999999999999.c:y",
		"3.o:fear:extra", "privacy:delete:abc", "p:", ":", ".", "", "x", strings.Repeat("9", 64) + ".s",
		"3.o:\u202efear", "3.o:fe\u200bar", "3.\x00", "\xff\xfe", "1.l:xx", "1.l:en", "1.c:n",
	} {
		f.Add(s)
	}
	lib, err := dialogs.LoadEmbedded()
	if err != nil {
		f.Fatal(err)
	}
	e := dialogs.NewEngine(lib)
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	states := callbackStates(f, e, now)
	f.Fuzz(func(t *testing.T, data string) {
		raw, err := json.Marshal(map[string]any{"update_id": 42, "callback_query": map[string]any{
			"id": "4000000000000000042", "chat_instance": "77", "data": data,
			"from":    map[string]any{"id": 77, "is_bot": false, "first_name": "Sam", "language_code": "nl"},
			"message": map[string]any{"message_id": 3, "date": 1700000000, "chat": map[string]any{"id": 77, "type": "private"}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		// What Telegram would hand over: JSON carries valid UTF-8 only.
		var sent string
		if b, err := json.Marshal(data); err != nil || json.Unmarshal(b, &sent) != nil {
			t.Fatalf("data does not survive JSON: %v", err)
		}
		ev, err := decode(42, raw)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if ev.callbackID != "4000000000000000042" {
			t.Fatalf("the press is not answered: callback id %q", ev.callbackID)
		}
		if sent == "" {
			if ev.action != actIgnore {
				t.Fatalf("a press without data became action %d", ev.action)
			}
			return
		}
		if ev.action != actTurn || ev.in.Input.Kind != dialogs.InputButton || ev.in.Input.Data != sent || ev.chatID != 77 {
			t.Fatalf("press %q became %+v", sent, ev)
		}
		for _, fs := range states {
			in := ev.in.Input
			in.Now = now.Add(time.Minute)
			got, out := e.Handle(fs.st, in)
			if !utf8.ValidString(out.Notice) {
				t.Fatalf("%s: notice is not UTF-8", fs.name)
			}
			for _, m := range out.Messages {
				if !m.Edit && strings.TrimSpace(m.Text) == "" {
					t.Fatalf("%s: press %q made an empty message", fs.name, sent)
				}
				for _, row := range m.Buttons {
					for _, b := range row {
						if len(b.Data) > maxCallbackData {
							t.Fatalf("%s: a button's data is %d bytes", fs.name, len(b.Data))
						}
					}
				}
			}
			if fs.shown[sent] {
				continue // a real press: it may move the person on
			}
			if fs.st.Stage == dialogs.StageNew {
				// Anything a new person does is greeted with the welcome
				// and the consent question, and goes no further.
				if got.Stage != dialogs.StageConsent || got.Consent || got.Run != nil || got.Done != 0 {
					t.Fatalf("new: press %q went past the welcome: %s", sent, dump(got))
				}
				continue
			}
			if moved(fs.st, got) && !reachable(e, fs, in).has(got) { // unless a shown button does the same
				t.Fatalf("%s: press %q the engine never issued moved the person on:\nbefore %s\nafter  %s",
					fs.name, sent, dump(fs.st), dump(got))
			}
		}
	})
}

// states is a set of states, by their JSON.
type states map[string]bool

func (s states) has(st dialogs.State) bool { return s[dump(st)] }

// reachable is where the shown buttons lead from fs, pressed as in is.
func reachable(e *dialogs.Engine, fs fuzzState, in dialogs.Input) states {
	out := states{}
	for data := range fs.shown {
		in.Data = data
		got, _ := e.Handle(fs.st, in)
		out[dump(got)] = true
	}
	return out
}

// moved reports whether the press made progress no command could: a step
// answered or passed (the same run at another step, or with other answers),
// an exercise finished, onboarding finished. Prompt nonces may change (a
// stale press is answered by asking again), and so may what commands change:
// another run started, the run paused or resumed, language, consent.
func moved(a, b dialogs.State) bool {
	if a.Stage != b.Stage || a.Done != b.Done {
		return true
	}
	ra, rb := a.Run, b.Run
	if ra == nil || rb == nil || ra.Exercise != rb.Exercise || !ra.StartedAt.Equal(rb.StartedAt) {
		return false // no run, or another one: what /exercises does
	}
	return ra.Step != rb.Step || !reflect.DeepEqual(ra.Answers, rb.Answers) || !reflect.DeepEqual(ra.Selected, rb.Selected)
}

func dump(st dialogs.State) string {
	b, _ := json.Marshal(st)
	return string(b)
}

// TestCallbackStates keeps the fuzz target's states honest: each later state
// shows buttons, and pressing one of them moves the person on.
func TestCallbackStates(t *testing.T) {
	lib, err := dialogs.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	e := dialogs.NewEngine(lib)
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	states := callbackStates(t, e, now)
	if len(states) != 4 {
		t.Fatalf("%d states", len(states))
	}
	for _, fs := range []fuzzState{states[1], states[3]} { // onboarding and a step
		if len(fs.shown) == 0 {
			t.Fatalf("%s: no buttons shown", fs.name)
		}
		progressed := false
		for data := range fs.shown {
			got, _ := e.Handle(fs.st, dialogs.Input{Kind: dialogs.InputButton, Data: data, Now: now.Add(time.Minute)})
			progressed = progressed || moved(fs.st, got)
		}
		if !progressed {
			t.Errorf("%s: no shown button moves the person on, so the fuzz target's check could not fail", fs.name)
		}
	}
	if states[3].st.Run == nil {
		t.Fatal("the last state is not inside an exercise")
	}
}
