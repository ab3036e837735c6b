package checkin

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/charts"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

// reverseSealer "seals" by reversing the bytes, so a test can tell sealed
// columns from plain ones.
type reverseSealer struct{}

func (reverseSealer) NewPersonKey(context.Context, int64) ([]byte, error) { return nil, nil }
func (reverseSealer) Cipher(context.Context, int64, []byte) (storage.Cipher, error) {
	return reverseSealer{}, nil
}
func (reverseSealer) Seal(b []byte) ([]byte, error) { return reverse(b), nil }
func (reverseSealer) Open(b []byte) ([]byte, error) { return reverse(b), nil }

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[len(b)-1-i] = c
	}
	return out
}

// lastButtons returns the buttons of the person's newest message that has
// any, and clears the pending messages.
func (e *env) lastButtons(chat int64) [][]dialogs.Button {
	e.t.Helper()
	msgs := e.pending(chat)
	e.clear(chat)
	for i := len(msgs) - 1; i >= 0; i-- {
		if len(msgs[i].env.Buttons) > 0 {
			return msgs[i].env.Buttons
		}
	}
	return nil
}

// finish runs exercise id from the menu to its end, answering scales with
// scales in turn, choices with their first option and texts with "ok".
func (e *env) finish(chat int64, id string, scales ...int) {
	e.t.Helper()
	e.command(chat, "/oefeningen")
	e.press(chat, ".x:"+id)
	n := 0
	for range 80 {
		buttons := e.lastButtons(chat)
		has := func(suffix string) (string, bool) {
			for _, row := range buttons {
				for _, b := range row {
					if strings.HasSuffix(b.Data, suffix) || (strings.HasSuffix(suffix, ":") && strings.Contains(b.Data, suffix)) {
						return b.Data, true
					}
				}
			}
			return "", false
		}
		if _, ok := has(".x:"); ok {
			return // the menu after the end
		}
		if d, ok := has(".w"); ok {
			e.handle(chat, dialogsButton(d))
			continue
		}
		if d, ok := has(".o:0"); ok { // a scale
			v := 5
			if n < len(scales) {
				v = scales[n]
			}
			n++
			e.handle(chat, dialogsButton(strings.TrimSuffix(d, "0")+itoa(v)))
			continue
		}
		if done, ok := has(".d"); ok { // multi: one option, then done
			first, _ := has(".o:")
			e.handle(chat, dialogsButton(first))
			e.handle(chat, dialogsButton(done))
			continue
		}
		if d, ok := has(".o:"); ok {
			e.handle(chat, dialogsButton(d))
			continue
		}
		e.text(chat, "ok")
	}
	e.t.Fatalf("exercise %s did not end", id)
}

func itoa(v int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + string(rune('0'+v))) }

func TestCheckinRecorded(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	due := time.Date(2026, 5, 4, 20, 30, 0, 0, ams)
	e := newEnv(t, due.Add(-2*time.Hour), withStorage(storage.WithSealer(reverseSealer{})))
	low, high, private := e.onboard(1, "nl"), e.onboard(2, "en"), int64(0)
	e.handle(3, dialogs.Input{Kind: dialogs.InputText, Text: "hi", LangHint: "nl"})
	private = e.press(3, ".c:n").PersonID // no consent to storing what they write
	for chat := int64(1); chat <= 3; chat++ {
		e.command(chat, "/checkin 20:30")
		e.clear(chat)
	}
	e.clock.Set(due)
	if n, err := e.scheduler().RunOnce(e.ctx, due); err != nil || n != 3 {
		t.Fatalf("RunOnce: %d, %v", n, err)
	}

	// The theme comes first, then the check-in, all at scheduled priority.
	var msgs []message
	for _, m := range e.pending(1) {
		if m.kind == conversation.KindMessage {
			msgs = append(msgs, m)
		}
	}
	theme := ThemeFor(low, "2026-05-04")
	if len(msgs) != 3 || msgs[0].env.Text != say("nl", "theme.today", "{theme}", theme.Text("nl")) ||
		!strings.HasPrefix(msgs[1].env.Text, "Tijd voor je check-in") || !strings.Contains(msgs[2].env.Text, "1 is zwaar") {
		t.Fatalf("check-in messages: %+v", msgs)
	}
	for _, m := range msgs {
		if m.priority != conversation.PriorityScheduled {
			t.Errorf("message %q at priority %d", m.env.Text, m.priority)
		}
	}
	e.press(1, ".o:2")
	e.press(1, ".o:sadness")
	e.text(1, "Moe na een lange dag")
	got := strings.Join(e.texts(1), "\n")
	if !strings.Contains(got, "zware dag") || !strings.Contains(got, "Even landen") {
		t.Errorf("a low mood is not met with the offer of an exercise or rest:\n%s", got)
	}

	e.press(2, ".o:4")
	e.command(2, "/skip")
	e.command(2, "/skip")
	if got := strings.Join(e.texts(2), "\n"); !strings.Contains(got, "Thank you for checking in") {
		t.Errorf("a good mood ends with thanks:\n%s", got)
	}

	e.press(3, ".o:3")
	e.press(3, ".o:calm")
	e.text(3, "iets persoonlijks")

	type rec struct {
		day, theme string
		mood       *int
		feeling    *string
		note       []byte
	}
	read := func(person int64) rec {
		t.Helper()
		var r rec
		if err := e.db.Pool().QueryRow(e.ctx, `SELECT local_day, theme, mood, feeling, note FROM checkins WHERE person_id = $1`,
			person).Scan(&r.day, &r.theme, &r.mood, &r.feeling, &r.note); err != nil {
			t.Fatalf("check-in of person %d: %v", person, err)
		}
		return r
	}
	if r := read(low); r.day != "2026-05-04" || r.theme != theme.ID || r.mood == nil || *r.mood != 2 ||
		r.feeling == nil || *r.feeling != "sadness" || string(r.note) != string(reverse([]byte("Moe na een lange dag"))) {
		t.Errorf("low check-in stored as %+v (note %q)", r, r.note)
	}
	if r := read(high); r.mood == nil || *r.mood != 4 || r.feeling != nil || r.note != nil {
		t.Errorf("check-in with skips stored as %+v", r)
	}
	if r := read(private); r.mood == nil || *r.mood != 3 || r.note != nil {
		t.Errorf("without consent the note must not be stored: %+v", r)
	}
	if got := e.count(`SELECT count(*) FROM exercise_runs`); got != 0 {
		t.Errorf("check-ins went to exercise_runs too: %d rows", got)
	}
}

func TestExerciseRunAndOffer(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	e := newEnv(t, time.Date(2026, 5, 4, 10, 0, 0, 0, ams))
	id := e.onboard(1, "nl")
	e.finish(1, "grounding", 7, 3)

	var scales map[string]int
	var exercise string
	if err := e.db.Pool().QueryRow(e.ctx, `SELECT exercise, scales FROM exercise_runs WHERE person_id = $1`, id).Scan(&exercise, &scales); err != nil {
		t.Fatal(err)
	}
	if exercise != "grounding" || scales["before"] != 7 || scales["after"] != 3 || len(scales) != 2 {
		t.Errorf("exercise run %s %v", exercise, scales)
	}
	// finish cleared the messages up to the menu; the offer came after it.
	offers := e.count(`SELECT count(*) FROM transcript WHERE person_id = $1 AND direction = 'out' AND body = $2`,
		id, []byte(say("nl", "offer.text")))
	if offers != 1 {
		t.Fatalf("%d offers after the first exercise, want 1", offers)
	}
	r, ok := e.row(id)
	if !ok || r.Enabled {
		t.Fatalf("after the offer: row %v %+v; want a row, still off", ok, r)
	}
	e.handle(1, dialogsButton("ci:offer:yes"))
	if r, _ := e.row(id); !r.Enabled || r.Hour != 20 || r.Minute != 30 || r.Zone != "Europe/Amsterdam" {
		t.Fatalf("after yes: %+v", r)
	}
	if got := strings.Join(e.texts(1), "\n"); !strings.Contains(got, "elke dag om 20:30") {
		t.Errorf("yes answered with %q", got)
	}

	e.finish(1, "grounding", 6, 6)
	if got := e.count(`SELECT count(*) FROM transcript WHERE person_id = $1 AND direction = 'out' AND body = $2`,
		id, []byte(say("nl", "offer.text"))); got != 1 {
		t.Errorf("%d offers after two exercises, want still 1", got)
	}
	if got := e.count(`SELECT count(*) FROM exercise_runs WHERE person_id = $1`, id); got != 2 {
		t.Errorf("%d exercise runs, want 2", got)
	}

	// Someone who set up check-ins before their first exercise is not asked.
	other := e.onboard(2, "en")
	e.command(2, "/checkin off")
	e.finish(2, "grounding", 4, 2)
	if got := e.count(`SELECT count(*) FROM transcript WHERE person_id = $1 AND direction = 'out' AND body = $2`,
		other, []byte(say("en", "offer.text"))); got != 0 {
		t.Errorf("a person who chose already was offered check-ins")
	}
}

func TestMoodPicture(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	now := time.Date(2026, 5, 10, 12, 0, 0, 0, ams) // Sunday
	e := newEnv(t, now)
	id := e.onboard(1, "nl")
	day := func(d, h int) time.Time { return time.Date(2026, 5, d, h, 0, 0, 0, ams) }
	for _, c := range []struct {
		at   time.Time
		mood int
	}{{day(10, 9), 4}, {day(8, 20), 2}, {day(4, 20), 3}, {day(2, 20), 1}, {day(1, 20), 3}, {day(3, 20), 5} /* last week */, {time.Date(2026, 3, 1, 20, 0, 0, 0, ams), 5} /* too old */} {
		e.exec(`INSERT INTO checkins (person_id, local_day, mood, at) VALUES ($1, $2, $3, $4)`, id, c.at.Format(time.DateOnly), c.mood, c.at)
	}
	e.exec(`INSERT INTO exercise_runs (person_id, exercise, started_at, ended_at, scales) VALUES
($1, 'abandonment', $2, $2, '{"before": 8, "after": 5}'), ($1, 'balance', $3, $3, '{"overall": 6}'),
($1, 'grounding', $4, $4, '{"before": 6, "after": 2}')`, id, day(9, 21), day(6, 21), day(2, 21))

	e.command(1, "/mood")
	msgs := e.pending(1)
	if len(msgs) != 1 || msgs[0].kind != conversation.KindPhoto || msgs[0].priority != conversation.PriorityInteractive {
		t.Fatalf("/mood sent %+v", msgs)
	}
	m := msgs[0].env
	img, err := png.Decode(bytes.NewReader(m.File))
	if err != nil {
		t.Fatalf("the photo is not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got != (image.Point{X: charts.WidthPixels, Y: charts.HeightPixels}) {
		t.Errorf("picture is %v, want %dx%d", got, charts.WidthPixels, charts.HeightPixels)
	}
	if m.FileName != "stemming-2026-05-10.png" {
		t.Errorf("file name %q", m.FileName)
	}
	// This week: 4, 2, 3 (4-10 May); last week: 1, 3, 5 (27 Apr-3 May).
	for _, want := range []string{"Je afgelopen zes weken.", "Gemiddelde stemming deze week: 3,0 van 5 (3× ingecheckt).",
		"Vorige week: 3,0.", "Oefeningen deze week: 2."} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("caption %q lacks %q", m.Text, want)
		}
	}
	// The same picture as the charts package draws from the same data.
	want, err := charts.RenderWeekly(charts.Weekly{Lang: "nl",
		Mood: []charts.MoodPoint{{At: day(1, 20), Mood: 3}, {At: day(2, 20), Mood: 1}, {At: day(3, 20), Mood: 5}, {At: day(4, 20), Mood: 3},
			{At: day(8, 20), Mood: 2}, {At: day(10, 9), Mood: 4}},
		Intensities: []charts.IntensityPair{{At: day(2, 21), Exercise: "Even landen", Before: 6, After: 2},
			{At: day(9, 21), Exercise: e.title("abandonment", "nl"), Before: 8, After: 5}},
		From: time.Date(2026, 3, 30, 0, 0, 0, 0, ams), To: time.Date(2026, 5, 11, 0, 0, 0, 0, ams)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.File, want) {
		t.Errorf("the picture differs from charts.RenderWeekly of the person's data")
	}
	if e.count(`SELECT count(*) FROM transcript WHERE person_id = $1 AND kind = 'photo'`, id) != 1 {
		t.Errorf("the caption is not in the transcript")
	}
}

func (e *env) title(id, lang string) string {
	s, ok := e.lib.Script(id)
	if !ok {
		e.t.Fatalf("no script %s", id)
	}
	return s.Title.In(lang)
}
