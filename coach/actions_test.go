package coach_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/charts"
	"github.com/stilstaan/stilstaan/coach"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/privacy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestNotes(t *testing.T) {
	e := newEnv(t)
	p := e.person(101, true, "nl")
	f := e.flag(p, "elevated", "distress")
	b := e.loggedIn(anna)
	path := fmt.Sprintf("/flags/%d", f)
	b.get(path)

	res := b.postCSRF(path+"/notes", url.Values{"text": {"  "}})
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Schrijf eerst een notitie.") {
		t.Errorf("empty note: %d", res.Status)
	}
	long := strings.Repeat("é", 4001)
	res = b.postCSRF(path+"/notes", url.Values{"text": {long}})
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "te lang") || !strings.Contains(res.Body, long) {
		t.Errorf("long note: %d (the text should come back in the form)", res.Status)
	}

	res = b.postCSRF(path+"/notes", url.Values{"text": {"NOTE-TEXT: gebeld met de huisarts.\r\nMorgen weer kijken."}})
	if res.Status != http.StatusSeeOther || res.Location != path+"?ok=note#notes" {
		t.Fatalf("note: %d %q", res.Status, res.Location)
	}
	page := b.get(res.Location)
	for _, want := range []string{"Je notitie is opgeslagen.", "NOTE-TEXT: gebeld met de huisarts.\nMorgen weer kijken.", "Anna"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	var body []byte
	var coachID int64
	if err := e.db.Pool().QueryRow(e.ctx, `SELECT body, coach_id FROM coach_notes WHERE flag_id = $1`, f).Scan(&body, &coachID); err != nil {
		t.Fatal(err)
	}
	if coachID != anna || !bytes.HasPrefix(body, []byte("sealed:")) || bytes.Contains(body, []byte("NOTE-TEXT")) {
		t.Errorf("the note is stored as %q by coach %d; want it sealed with the person's key", body, coachID)
	}
	// Bram sees Anna's note.
	if page := e.loggedIn(bram).get(path); !strings.Contains(page.Body, "NOTE-TEXT") {
		t.Errorf("another coach does not see the note")
	}
	if n := e.count(`SELECT count(*) FROM coach_audit WHERE action = 'note' AND coach_id = $1 AND flag_id = $2 AND person_id = $3`, anna, f, p); n != 1 {
		t.Errorf("%d audit rows for the note, want 1", n)
	}
}

func TestReview(t *testing.T) {
	tests := []struct {
		name   string
		level  string
		note   string
		status int
		says   string
		open   bool
	}{
		{"acute without a note", "acute", "", http.StatusUnprocessableEntity, "Bij een acute melding hoort een notitie", true},
		{"acute with only spaces", "acute", " \n ", http.StatusUnprocessableEntity, "Bij een acute melding hoort een notitie", true},
		{"acute with a note", "acute", "NOTE-TEXT: gesproken, veilig voor nu.", http.StatusSeeOther, "", false},
		{"elevated without a note", "elevated", "", http.StatusSeeOther, "", false},
		{"low with a note", "low", "NOTE-TEXT: teruggebeld.", http.StatusSeeOther, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			p := e.person(101, true, "nl")
			f := e.flag(p, tt.level, "suicide")
			b := e.loggedIn(anna)
			path := fmt.Sprintf("/flags/%d", f)
			b.get(path)
			res := b.postCSRF(path+"/review", url.Values{"text": {tt.note}})
			if res.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tt.status, res.Body)
			}
			if tt.says != "" && !strings.Contains(res.Body, tt.says) {
				t.Errorf("the page does not say %q", tt.says)
			}
			var status string
			var by *int64
			if err := e.db.Pool().QueryRow(e.ctx, `SELECT status, reviewed_by FROM flags WHERE id = $1`, f).Scan(&status, &by); err != nil {
				t.Fatal(err)
			}
			if (status == "open") != tt.open {
				t.Fatalf("flag status %q", status)
			}
			reviews := e.count(`SELECT count(*) FROM coach_notes WHERE flag_id = $1 AND kind = 'review'`, f)
			audited := e.count(`SELECT count(*) FROM coach_audit WHERE action = 'review' AND flag_id = $1`, f)
			if tt.open {
				if reviews != 0 || audited != 0 {
					t.Errorf("a refused review left %d notes and %d audit rows", reviews, audited)
				}
				return
			}
			if by == nil || *by != anna {
				t.Errorf("reviewed_by %v, want %d", by, anna)
			}
			if want := min(1, len(strings.TrimSpace(tt.note))); reviews != want {
				t.Errorf("%d review notes, want %d", reviews, want)
			}
			if audited != 1 {
				t.Errorf("%d audit rows for the review", audited)
			}
			page := b.get(res.Location)
			if !strings.Contains(page.Body, "De melding is beoordeeld.") || !strings.Contains(page.Body, "Beoordeeld door Anna") {
				t.Errorf("the page does not show the review")
			}
			if strings.Contains(page.Body, `action="/flags/`+fmt.Sprint(f)+`/review"`) {
				t.Errorf("a reviewed flag still offers the review form")
			}
			// Reviewing again, e.g. from a page left open, is refused.
			again := b.postCSRF(path+"/review", url.Values{"text": {"NOTE-TEXT"}})
			if again.Status != http.StatusConflict || !strings.Contains(again.Body, "al beoordeeld") {
				t.Errorf("second review: %d", again.Status)
			}
		})
	}
}

func TestMessageToPerson(t *testing.T) {
	tests := []struct {
		name, lang, prefix string
	}{
		{"Dutch", "nl", "Bericht van je coach:"},
		{"English", "en", "Message from your coach:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			p := e.person(101, true, tt.lang)
			f := e.flag(p, "acute", "suicide")
			b := e.loggedIn(anna)
			path := fmt.Sprintf("/flags/%d", f)
			page := b.get(path)
			if !strings.Contains(page.Body, tt.prefix) {
				t.Errorf("the form does not say the message starts with %q", tt.prefix)
			}
			nonce := regexp.MustCompile(`name="nonce" value="([^"]+)"`).FindStringSubmatch(page.Body)[1]
			text := "MESSAGE-TEXT: Hoi, ik ben Anna. Ik las je bericht. Wil je dat ik je morgen bel?"
			res := b.postCSRF(path+"/message", url.Values{"text": {text}, "nonce": {nonce}})
			if res.Status != http.StatusSeeOther || res.Location != path+"?ok=message#message" {
				t.Fatalf("message: %d %q %s", res.Status, res.Location, res.Body)
			}
			want := tt.prefix + "\n\n" + text
			if got := e.outboxTexts(p); !slices.Equal(got, []string{want}) {
				t.Errorf("outbox %q, want %q", got, want)
			}
			var chatID int64
			var priority int
			if err := e.db.Pool().QueryRow(e.ctx, `SELECT chat_id, priority FROM outbox WHERE person_id = $1`, p).Scan(&chatID, &priority); err != nil {
				t.Fatal(err)
			}
			if chatID != 101 || priority != 0 {
				t.Errorf("queued for chat %d with priority %d", chatID, priority)
			}
			entries, err := e.db.Transcript(e.ctx, p, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Direction != "coach" || entries[0].Text != want {
				t.Errorf("last transcript entry %+v, want the coach's message", entries)
			}
			// Sent twice (a double click, a reload of the POST): queued once.
			res = b.postCSRF(path+"/message", url.Values{"text": {text}, "nonce": {nonce}})
			if res.Status != http.StatusSeeOther || !strings.Contains(res.Location, "ok=dup") {
				t.Errorf("second send: %d %q", res.Status, res.Location)
			}
			if n := e.count(`SELECT count(*) FROM outbox WHERE person_id = $1`, p); n != 1 {
				t.Errorf("%d messages queued, want 1", n)
			}
			page = b.get(path)
			if !strings.Contains(page.Body, `class="entry dir-coach"`) || !strings.Contains(page.Body, "MESSAGE-TEXT: Hoi") {
				t.Errorf("the transcript on the page does not show the coach's message")
			}
			if n := e.count(`SELECT count(*) FROM coach_audit WHERE action = 'message' AND coach_id = $1 AND flag_id = $2 AND person_id = $3`, anna, f, p); n != 1 {
				t.Errorf("%d audit rows for the message, want 1", n)
			}
		})
	}
}

func TestMessageRefused(t *testing.T) {
	e := newEnv(t)
	p := e.person(101, true, "nl")
	f := e.flag(p, "acute", "suicide")
	b := e.loggedIn(anna)
	path := fmt.Sprintf("/flags/%d", f)
	page := b.get(path)
	nonce := regexp.MustCompile(`name="nonce" value="([^"]+)"`).FindStringSubmatch(page.Body)[1]
	tests := []struct {
		name   string
		form   url.Values
		status int
	}{
		{"empty", url.Values{"text": {""}, "nonce": {nonce}}, http.StatusUnprocessableEntity},
		{"too long", url.Values{"text": {strings.Repeat("a", 3501)}, "nonce": {nonce}}, http.StatusUnprocessableEntity},
		{"no nonce", url.Values{"text": {"MESSAGE-TEXT"}}, http.StatusBadRequest},
		{"bad nonce", url.Values{"text": {"MESSAGE-TEXT"}, "nonce": {"!!!!!!!!!!!!!!!!!!!!"}}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if res := b.postCSRF(path+"/message", tt.form); res.Status != tt.status {
				t.Errorf("status %d, want %d", res.Status, tt.status)
			}
		})
	}
	if n := e.count(`SELECT count(*) FROM outbox WHERE person_id = $1`, p); n != 0 {
		t.Errorf("%d messages queued", n)
	}

	// The person is deleted while the page is open: nothing is sent, and the
	// person is not created again by the message's turn.
	if _, err := e.db.Pool().Exec(e.ctx, `DELETE FROM people WHERE id = $1`, p); err != nil {
		t.Fatal(err)
	}
	res := b.postCSRF(path+"/message", url.Values{"text": {"MESSAGE-TEXT"}, "nonce": {nonce}})
	if res.Status != http.StatusNotFound {
		t.Errorf("message to a deleted person: %d", res.Status)
	}
	if n := e.count(`SELECT count(*) FROM people WHERE external_id = 101`); n != 0 {
		t.Errorf("the message recreated the deleted person")
	}
}

func TestFlagList(t *testing.T) {
	e := newEnv(t)
	var ids []int64
	add := func(chat int64, level string, age time.Duration, consent bool) int64 {
		p := e.person(chat, consent, "nl")
		id := e.flag(p, level, "suicide")
		if _, err := e.db.Pool().Exec(e.ctx, `UPDATE flags SET created_at = $2 WHERE id = $1`, id, start.Add(-age)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		return id
	}
	lowOld := add(101, "low", 50*time.Hour, true)
	acuteOld := add(102, "acute", 3*time.Hour, true)
	elevated := add(103, "elevated", time.Hour, true)
	reviewedAcute := add(104, "acute", 10*time.Minute, true)
	acuteNew := add(105, "acute", 5*time.Minute, true)
	hidden := add(106, "acute", time.Minute, false)
	if _, err := e.db.Pool().Exec(e.ctx, `UPDATE flags SET status = 'reviewed', reviewed_at = $2, reviewed_by = $3 WHERE id = $1`, reviewedAcute, start, bram); err != nil {
		t.Fatal(err)
	}
	b := e.loggedIn(anna)
	hrefs := regexp.MustCompile(`href="/flags/(\d+)"`)
	order := func(body string) []int64 {
		var out []int64
		for _, m := range hrefs.FindAllStringSubmatch(body, -1) {
			var id int64
			fmt.Sscan(m[1], &id)
			out = append(out, id)
		}
		return out
	}
	tests := []struct {
		name, query string
		want        []int64
	}{
		{"open first, acute first, newest first", "", []int64{acuteNew, acuteOld, elevated, lowOld, reviewedAcute}},
		{"acute", "?level=acute", []int64{acuteNew, acuteOld, reviewedAcute}},
		{"open", "?status=open", []int64{acuteNew, acuteOld, elevated, lowOld}},
		{"reviewed", "?status=reviewed", []int64{reviewedAcute}},
		{"open low", "?status=open&level=low", []int64{lowOld}},
		{"unknown values are ignored", "?level=%27;DROP&status=nope", []int64{acuteNew, acuteOld, elevated, lowOld, reviewedAcute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := b.get("/flags" + tt.query)
			if res.Status != http.StatusOK {
				t.Fatalf("status %d", res.Status)
			}
			if got := order(res.Body); !slices.Equal(got, tt.want) {
				t.Errorf("flags %v, want %v", got, tt.want)
			}
			if strings.Contains(res.Body, fmt.Sprintf("/flags/%d\"", hidden)) {
				t.Errorf("the list shows the flag of a person without consent")
			}
		})
	}
	page := b.get("/flags").Body
	for _, want := range []string{"acuut", "verhoogd", "laag", "2 d", "3 u", "5 min", "suïcidale gedachten", "beoordeeld", pseudonym(1)} {
		if !strings.Contains(page, want) {
			t.Errorf("the list lacks %q", want)
		}
	}
	if n := e.count(`SELECT count(*) FROM coach_audit WHERE action = 'list_flags' AND detail = 'level=low status=open'`); n != 1 {
		t.Errorf("the filtered list is not audited with its filter")
	}
}

// Every action of a coach is in the audit, with coach, flag and person.
func TestEveryActionAudited(t *testing.T) {
	e := newEnv(t)
	p := e.person(101, true, "nl")
	f := e.flag(p, "acute", "suicide")
	e.command(anna, "flags")
	b := e.loggedIn(anna)
	path := fmt.Sprintf("/flags/%d", f)
	b.get("/flags?level=acute&status=open")
	page := b.get(path)
	b.get(path + "/mood.png")
	b.postCSRF(path+"/notes", url.Values{"text": {"NOTE-TEXT"}})
	nonce := regexp.MustCompile(`name="nonce" value="([^"]+)"`).FindStringSubmatch(page.Body)[1]
	b.postCSRF(path+"/message", url.Values{"text": {"MESSAGE-TEXT"}, "nonce": {nonce}})
	b.postCSRF(path+"/review", url.Values{"text": {""}}) // refused: acute needs a note; the page shown again is audited
	b.postCSRF(path+"/review", url.Values{"text": {"NOTE-TEXT"}})
	b.get("/flags/99999")
	b.postCSRF("/logout", nil)

	id := func(n int64) string { return fmt.Sprint(n) }
	want := []string{
		"telegram_flags 9001 - - shown=1",
		"telegram_login_link 9001 - -",
		"login 9001 - -",
		"list_flags 9001 - - level= status=",
		"list_flags 9001 - - level=acute status=open",
		"view_flag 9001 " + id(f) + " " + id(p),
		"view_mood 9001 " + id(f) + " " + id(p),
		"note 9001 " + id(f) + " " + id(p),
		"message 9001 " + id(f) + " " + id(p),
		"view_flag 9001 " + id(f) + " " + id(p) + " form error: review",
		"review 9001 " + id(f) + " " + id(p),
		"view_flag 9001 - - not found: GET /flags/{id} 99999",
		"logout 9001 - -",
	}
	if got := e.audit(); !slices.Equal(got, want) {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Deleting a person (privacy's /delete removes the row) removes them from the
// dashboard; the audit keeps who did what and that a deletion happened, but
// no longer whom it was about.
func TestPersonDeletion(t *testing.T) {
	e := newEnv(t)
	p := e.person(101, true, "nl")
	f := e.flag(p, "acute", "suicide")
	other := e.person(102, true, "nl")
	keep := e.flag(other, "low", "human_request")
	b := e.loggedIn(anna)
	b.get(fmt.Sprintf("/flags/%d", f))
	b.postCSRF(fmt.Sprintf("/flags/%d/notes", f), url.Values{"text": {"NOTE-TEXT"}})
	b.get(fmt.Sprintf("/flags/%d", keep))

	// The person deletes everything with /delete and the confirmation button.
	lib, err := dialogs.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	svc := conversation.New(e.db, dialogs.NewEngine(lib), append(privacy.New(e.db).ServiceOptions(), conversation.WithClock(e.clock.Now))...)
	e.input++
	if _, err := svc.Handle(e.ctx, conversation.Incoming{Channel: conversation.ChannelTelegram, ChatID: 101, Source: fmt.Sprintf("tg:%d", e.input),
		Input: command("delete")}); err != nil {
		t.Fatal(err)
	}
	var confirm string
	msgs, err := e.db.PendingFor(e.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		env, err := conversation.DecodeEnvelope(m.Payload)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range env.Buttons {
			for _, b := range row {
				if strings.HasPrefix(b.Data, privacy.ButtonPrefix+":del:") {
					confirm = b.Data
				}
			}
		}
	}
	if confirm == "" {
		t.Fatal("/delete offered no confirmation button")
	}
	e.input++
	if _, err := svc.Handle(e.ctx, conversation.Incoming{Channel: conversation.ChannelTelegram, ChatID: 101, Source: fmt.Sprintf("tg:%d", e.input),
		Input: dialogs.Input{Kind: dialogs.InputButton, Data: confirm}}); err != nil {
		t.Fatal(err)
	}
	if n := e.count(`SELECT count(*) FROM people WHERE id = $1`, p); n != 0 {
		t.Fatalf("/delete left the person")
	}

	if n := e.count(`SELECT count(*) FROM coach_notes WHERE person_id = $1`, p); n != 0 {
		t.Errorf("%d notes about the deleted person remain", n)
	}
	if n := e.count(`SELECT count(*) FROM coach_audit WHERE person_id = $1 OR flag_id = $2 OR detail LIKE '%' || $3 || '%'`, p, f, fmt.Sprint(f)); n != 0 {
		t.Errorf("%d audit rows still name the deleted person or their flag", n)
	}
	if n := e.count(`SELECT count(*) FROM coach_audit WHERE action = 'person_deleted' AND coach_id IS NULL AND person_id IS NULL AND flag_id IS NULL AND detail = ''`); n != 1 {
		t.Errorf("%d person_deleted rows, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM coach_audit WHERE action IN ('view_flag', 'note') AND coach_id = $1 AND person_id IS NULL`, anna); n != 2 {
		t.Errorf("the coach's actions about the deleted person: %d rows, want 2 (the view and the note)", n)
	}
	if n := e.count(`SELECT count(*) FROM coach_audit WHERE person_id = $1 AND flag_id = $2`, other, keep); n != 1 {
		t.Errorf("the audit of the other person changed")
	}
	// The dashboard no longer shows them. (Asking for the old flag id is
	// audited as a request for a flag that does not exist.)
	if res := b.get(fmt.Sprintf("/flags/%d", f)); res.Status != http.StatusNotFound {
		t.Errorf("the deleted person's flag: %d", res.Status)
	}
	list := b.get("/flags").Body
	if strings.Contains(list, pseudonym(p)) || !strings.Contains(list, pseudonym(other)) {
		t.Errorf("the list still shows the deleted person, or lost the other one")
	}
	// A person coaches never saw leaves no trace in the coach audit.
	stranger := e.person(103, true, "nl")
	if _, err := e.db.Pool().Exec(e.ctx, `DELETE FROM people WHERE id = $1`, stranger); err != nil {
		t.Fatal(err)
	}
	if n := e.count(`SELECT count(*) FROM coach_audit WHERE action = 'person_deleted'`); n != 1 {
		t.Errorf("%d person_deleted rows after deleting a person coaches never saw, want still 1", n)
	}
}

func TestTelegramCommands(t *testing.T) {
	e := newEnv(t)
	add := func(chat int64, level string, age time.Duration, consent bool) int64 {
		p := e.person(chat, consent, "nl")
		id := e.flag(p, level, "suicide")
		if _, err := e.db.Pool().Exec(e.ctx, `UPDATE flags SET created_at = $2 WHERE id = $1`, id, start.Add(-age)); err != nil {
			t.Fatal(err)
		}
		return id
	}

	t.Run("no open flags", func(t *testing.T) {
		if got := e.command(bram, "flags"); !slices.Equal(got, []string{"Er staan geen open meldingen."}) {
			t.Errorf("/flags = %q", got)
		}
	})

	add(101, "low", 50*time.Hour, true)
	add(102, "acute", 3*time.Hour, true)
	add(103, "elevated", time.Hour, true)
	reviewed := add(104, "acute", 10*time.Minute, true)
	add(105, "acute", 5*time.Minute, true)
	add(106, "acute", time.Minute, false)
	if _, err := e.db.Pool().Exec(e.ctx, `UPDATE flags SET status = 'reviewed' WHERE id = $1`, reviewed); err != nil {
		t.Fatal(err)
	}

	for _, lang := range []string{"nl", "en"} {
		t.Run("open flags "+lang, func(t *testing.T) {
			coachID := anna
			if lang == "en" {
				coachID = bram + 100 // a third coach, who speaks English
			}
			e2 := e
			svc := e.svc
			if lang == "en" {
				cfg := baseConfig()
				cfg.Coaches = append(cfg.Coaches, coach.Coach{ID: coachID, Name: "Chris"})
				svc = e2.serviceWith(e2.newTeam(cfg))
			}
			got := e.send(svc, coachID, dialogs.Input{Kind: dialogs.InputCommand, Command: "flags", LangHint: lang})
			if len(got) != 1 {
				t.Fatalf("/flags queued %q", got)
			}
			golden(t, "flags."+lang+".golden", got[0])
		})
	}

	t.Run("login link", func(t *testing.T) {
		got := e.command(anna, "dashboard")
		if len(got) != 1 || !strings.Contains(got[0], "werkt 10 minuten en één keer") || !linkRE.MatchString(got[0]) {
			t.Errorf("/dashboard = %q", got)
		}
		if m := linkRE.FindStringSubmatch(got[0]); m != nil {
			e.tokens = append(e.tokens, strings.TrimPrefix(m[1], "/login/"))
		}
	})

	t.Run("not a coach", func(t *testing.T) {
		// A new person and a person past onboarding: /flags and /dashboard
		// get exactly the answer to any unknown command.
		for _, cmd := range []string{"flags", "dashboard"} {
			got := e.command(201, cmd)
			want := e.command(202, "bestaatniet")
			if !slices.Equal(got, want) || len(got) == 0 {
				t.Errorf("/%s from a new person = %q, want %q", cmd, got, want)
			}
		}
		e.send(e.svc, 203, dialogs.Input{Kind: dialogs.InputText, Text: "hoi", LangHint: "nl"})
		e.send(e.svc, 203, dialogs.Input{Kind: dialogs.InputText, Text: "ja", LangHint: "nl"})
		for _, cmd := range []string{"flags", "dashboard"} {
			got := e.command(203, cmd)
			if len(got) != 1 || got[0] != "Dat commando ken ik niet. Met /help zie je wat ik kan." {
				t.Errorf("/%s from a person = %q", cmd, got)
			}
		}
		if n := e.count(`SELECT count(*) FROM coach_login_links WHERE coach_id NOT IN ($1)`, anna); n != 0 {
			t.Errorf("%d login links made for people who are not coaches", n)
		}
	})

	t.Run("dashboard not set up", func(t *testing.T) {
		cfg := baseConfig()
		cfg.SigningKey = nil
		team := e.newTeam(cfg)
		if _, err := team.Handler(); !errors.Is(err, coach.ErrNoSigningKey) {
			t.Errorf("Handler without a signing key: %v", err)
		}
		cfg.SigningKey = []byte("short")
		if _, err := e.newTeam(cfg).Handler(); err == nil || !strings.Contains(err.Error(), "too short") {
			t.Errorf("Handler with a short signing key: %v", err)
		}
		cfg.SigningKey = nil
		before := e.count(`SELECT count(*) FROM coach_login_links`)
		got := e.send(e.serviceWith(team), anna, dialogs.Input{Kind: dialogs.InputCommand, Command: "dashboard", LangHint: "nl"})
		if len(got) != 1 || !strings.Contains(got[0], "nog niet ingesteld") {
			t.Errorf("/dashboard without a signing key = %q", got)
		}
		if n := e.count(`SELECT count(*) FROM coach_login_links`); n != before {
			t.Errorf("a login link was made without a signing key")
		}
	})
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func TestMoodChart(t *testing.T) {
	e := newEnv(t)
	p := e.person(101, true, "nl")
	f := e.flag(p, "elevated", "distress")
	b := e.loggedIn(anna)
	path := fmt.Sprintf("/flags/%d", f)
	if page := b.get(path); !strings.Contains(page.Body, "Geen check-ins in de laatste zes weken.") || strings.Contains(page.Body, "mood.png") {
		t.Errorf("without check-ins the page should say so and show no chart")
	}
	moods := []charts.MoodPoint{
		{At: start.Add(-9 * 24 * time.Hour), Mood: 2},
		{At: start.Add(-5 * 24 * time.Hour), Mood: 3},
		{At: start.Add(-2 * 24 * time.Hour), Mood: 1},
		{At: start.Add(-time.Hour), Mood: 4},
	}
	for i, m := range moods {
		if _, err := e.db.Pool().Exec(e.ctx, `INSERT INTO checkins (person_id, local_day, mood, at) VALUES ($1, $2, $3, $4)`,
			p, m.At.Format("2006-01-02"), m.Mood, m.At); err != nil {
			t.Fatal(err)
		}
		_ = i
	}
	// A check-in older than six weeks is left out; one of another person too.
	if _, err := e.db.Pool().Exec(e.ctx, `INSERT INTO checkins (person_id, local_day, mood, at) VALUES ($1, 'x', 5, $2)`, p, start.AddDate(0, 0, -50)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Pool().Exec(e.ctx, `INSERT INTO exercise_runs (person_id, exercise, started_at, ended_at, scales) VALUES ($1, 'grounding', $2, $2, '{"before": 8, "after": 4}')`,
		p, start.Add(-3*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	page := b.get(path)
	if !strings.Contains(page.Body, fmt.Sprintf(`src="/flags/%d/mood.png"`, f)) {
		t.Fatalf("the page has no chart")
	}
	res := b.get(path + "/mood.png")
	if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "image/png" || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("chart: %d %q %q", res.Status, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
	}
	today := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	want, err := charts.RenderWeekly(charts.Weekly{
		Lang: "nl", Mood: moods, From: today.AddDate(0, 0, -41), To: today.AddDate(0, 0, 1),
		Intensities: []charts.IntensityPair{{At: start.Add(-3 * 24 * time.Hour), Exercise: "grounding", Before: 8, After: 4}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal([]byte(res.Body), want) {
		t.Errorf("the chart is not the weekly picture of the person's check-ins (%d bytes, want %d)", len(res.Body), len(want))
	}
	// Not for a flag coaches cannot see.
	hidden := e.flag(e.person(102, false, "nl"), "acute", "suicide")
	if res := b.get(fmt.Sprintf("/flags/%d/mood.png", hidden)); res.Status != http.StatusNotFound {
		t.Errorf("chart of a person without consent: %d", res.Status)
	}
	if res := e.browser().get(path + "/mood.png"); res.Status != http.StatusUnauthorized {
		t.Errorf("chart without a session: %d", res.Status)
	}
}

// Every page renders in both languages with all its texts, and carries the
// security headers.
func TestPagesAndHeaders(t *testing.T) {
	e := newEnv(t)
	p := e.person(101, true, "nl")
	f := e.flag(p, "acute", "suicide")
	e.flag(p, "low", "human_request")
	keyRE := regexp.MustCompile(`\b(login|flags|conv|notes|review|msg|run|who|status|level|mood|ok|note)\.[a-z]+\b`)
	for _, lang := range []struct{ header, says, html string }{
		{"nl-NL,nl;q=0.9", "Gesprek rond de melding", `lang="nl"`},
		{"en-GB,en;q=0.9", "Conversation around the flag", `lang="en"`},
		{"fr-FR", "Gesprek rond de melding", `lang="nl"`},
	} {
		t.Run(lang.header, func(t *testing.T) {
			b := e.loggedIn(anna)
			b.lang = lang.header
			for _, path := range []string{"/flags", fmt.Sprintf("/flags/%d", f), "/flags/424242", "/login"} {
				res := b.get(path)
				if m := keyRE.FindString(res.Body); m != "" {
					t.Errorf("%s shows the raw text key %q", path, m)
				}
				if !strings.Contains(res.Body, lang.html) {
					t.Errorf("%s is not in the browser's language", path)
				}
				h := res.Header
				if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || h.Get("X-Content-Type-Options") != "nosniff" ||
					h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" || h.Get("X-Frame-Options") != "DENY" {
					t.Errorf("%s lacks a security header: %v", path, h)
				}
			}
			if res := b.get(fmt.Sprintf("/flags/%d", f)); !strings.Contains(res.Body, lang.says) {
				t.Errorf("the conversation page does not say %q", lang.says)
			}
		})
	}
	css := e.browser().get("/static/style.css")
	if css.Status != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %q", css.Status, css.Header.Get("Content-Type"))
	}
}

func TestNewValidates(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		edit func(*coach.Config)
	}{
		{"no pseudonym", func(c *coach.Config) { c.Pseudonym = nil }},
		{"bad public URL", func(c *coach.Config) { c.PublicURL = "dashboard.test" }},
		{"bad coach id", func(c *coach.Config) { c.Coaches = []coach.Coach{{ID: -1, Name: "x"}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			tt.edit(&cfg)
			if _, err := coach.New(e.db, cfg); err == nil {
				t.Errorf("New accepted a bad config")
			}
		})
	}
}
