package privacy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/keyring"
	"github.com/stilstaan/stilstaan/storage"
)

// markers makes unique strings to type as free-text answers.
type markers struct {
	prefix string
	all    []string
}

func newMarkers(t testing.TB) *markers {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return &markers{prefix: "mrk" + hex.EncodeToString(b[:])}
}

func (m *markers) next(exercise, step string) string {
	s := fmt.Sprintf("%s-%d-%s-%s Ik voel het in mijn buik", m.prefix, len(m.all), exercise, step)
	m.all = append(m.all, s)
	return s
}

// runAll takes a person through every exercise, hidden ones too.
func runAll(h *harness, chat int64, m *markers) {
	h.t.Helper()
	for _, s := range h.lib.Scripts() {
		h.runExercise(chat, s.ID, func(step string) string { return m.next(s.ID, step) })
	}
}

// markerKey is the part of a marker that is unique; the rest is common text.
func markerKey(s string) string { return s[:strings.Index(s, " ")] }

func TestEverythingWrittenIsSealedExportableAndErasable(t *testing.T) {
	ctx := context.Background()
	master := testMasterKey(t)
	h := newHarness(t, newSealerT(t, master))
	const anna, bram = 101, 202
	m := newMarkers(t)

	annaID := h.onboard(anna, true)
	runAll(h, anna, m)
	if len(m.all) < len(h.lib.Scripts()) {
		t.Fatalf("only %d free-text answers over %d exercises", len(m.all), len(h.lib.Scripts()))
	}
	// An exercise left half way: its answer lives in the state only.
	st := h.state(anna)
	h.press(anna, fmt.Sprintf("%d.x:%s", st.Prompt, h.lib.Scripts()[0].ID))
	for range 20 {
		st = h.state(anna)
		step, _ := mustScript(t, h.lib, st.Run.Exercise).StepByID(st.Run.Step)
		if step.Kind == dialogs.KindText {
			break
		}
		if step.Kind == dialogs.KindPause {
			h.clock.Set(st.Run.WakeAt)
			h.handle(anna, dialogs.Input{Kind: dialogs.InputTimer})
			continue
		}
		h.say(anna, "1")
	}
	h.say(anna, m.next("current", st.Run.Step))

	// A second person, who stays.
	h.onboard(bram, true)
	bramMarkers := newMarkers(t)
	h.runExercise(bram, h.lib.Scripts()[0].ID, func(step string) string { return bramMarkers.next("bram", step) })

	// /export: a message and two documents holding every marker.
	h.command(anna, "export")
	var jsonDoc, txtDoc []byte
	for _, msg := range h.pending(annaID) {
		if msg.Kind != conversation.KindDocument {
			continue
		}
		switch {
		case strings.HasSuffix(msg.Env.FileName, ".json"):
			jsonDoc = msg.Env.File
		case strings.HasSuffix(msg.Env.FileName, ".txt"):
			txtDoc = msg.Env.File
		}
	}
	if jsonDoc == nil || txtDoc == nil {
		t.Fatalf("export sent no .json and .txt documents: %+v", h.pending(annaID))
	}
	var x Export
	if err := json.Unmarshal(jsonDoc, &x); err != nil {
		t.Fatalf("the JSON export does not parse: %v", err)
	}
	if x.Format != ExportFormat || x.Person.ID != annaID || !x.Consent.Given || len(x.Consent.History) != 1 {
		t.Errorf("export header: format %q person %d consent %+v", x.Format, x.Person.ID, x.Consent)
	}
	if x.Current == nil || len(x.Exercises) < len(h.lib.Scripts()) {
		t.Errorf("export has current %v and %d exercises, want the current one and at least %d", x.Current != nil, len(x.Exercises), len(h.lib.Scripts()))
	}
	inExercises := map[string]bool{}
	for _, r := range x.Exercises {
		for _, a := range r.Answers {
			inExercises[a.Answer] = true
			if a.Question == "" {
				t.Errorf("exercise %s step %s: no question", r.Exercise, a.Step)
			}
		}
	}
	for i, mk := range m.all {
		if !bytes.Contains(jsonDoc, []byte(mk)) {
			t.Errorf("the JSON export lacks marker %q", mk)
		}
		if !bytes.Contains(txtDoc, []byte(mk)) {
			t.Errorf("the text export lacks marker %q", mk)
		}
		if i < len(m.all)-1 && !inExercises[mk] { // the last one is in the current exercise
			t.Errorf("marker %q is not an answer in the exported exercises", mk)
		}
	}
	for _, mk := range bramMarkers.all {
		if bytes.Contains(jsonDoc, []byte(markerKey(mk))) {
			t.Errorf("Anna's export holds Bram's answer %q", mk)
		}
	}

	// Nothing readable in a dump or in the logs; the outbox (which now holds
	// the export files) included.
	dump := h.dump()
	for _, mk := range append(append([]string{}, m.all...), bramMarkers.all...) {
		for _, tr := range traces(markerKey(mk)) {
			if strings.Contains(dump, tr) {
				t.Errorf("pg_dump shows marker %q as %q", mk, tr)
			}
		}
		if strings.Contains(h.logs.String(), markerKey(mk)) {
			t.Errorf("the log shows marker %q", mk)
		}
	}
	if strings.Contains(h.logs.String(), master.Encode()) {
		t.Error("the log shows the master key")
	}

	// Everything sealed of Anna's, before she goes: what a backup taken now
	// would hold.
	annaBlobs := sealedBlobs(t, h, annaID)
	if len(annaBlobs) < 3 {
		t.Fatalf("found %d sealed values of Anna's", len(annaBlobs))
	}

	// /delete asks first; the answer to "yes" is the farewell.
	h.command(anna, "delete")
	msgs := h.pending(annaID)
	if got := msgs[len(msgs)-1].Env.Text; !strings.Contains(got, "/export") {
		t.Errorf("the confirmation does not offer /export first: %q", got)
	}
	yes := buttonData(t, msgs, ButtonPrefix+":del:")
	res := h.press(anna, yes)
	if res.Notice != text("delete.done", "nl") {
		t.Errorf("notice after erasing = %q, want the farewell", res.Notice)
	}
	if len(res.Notice) > 200 {
		t.Errorf("the farewell is %d bytes; Telegram shows at most 200 in an answer to a button", len(res.Notice))
	}
	if strings.Contains(h.logs.String(), strings.TrimPrefix(yes, ButtonPrefix+":del:")) {
		t.Error("the log shows the delete token")
	}

	// No row anywhere references Anna.
	for table, n := range rowsAbout(t, h, annaID) {
		if n != 0 {
			t.Errorf("%s still has %d row(s) about the erased person", table, n)
		}
	}
	var action, detail string
	if err := h.db.Pool().QueryRow(ctx, `SELECT action, detail FROM audit`).Scan(&action, &detail); err != nil {
		t.Fatalf("audit: %v", err)
	}
	if action != AuditPersonDeleted || strings.Contains(detail, strconv.FormatInt(annaID, 10)) {
		t.Errorf("audit row %q %q", action, detail)
	}

	// The dump holds none of her ciphertexts, and none of them opens with any
	// key left in the database.
	dump = h.dump()
	for _, b := range annaBlobs {
		if strings.Contains(dump, hex.EncodeToString(b)) {
			t.Errorf("the dump still holds a sealed value of the erased person (%d bytes)", len(b))
		}
	}
	left, err := h.db.WrappedKeys(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) == 0 {
		t.Fatal("no keys left: Bram's should be")
	}
	for _, k := range left {
		c, err := h.sealer.Cipher(ctx, k.PersonID, k.Wrapped)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range annaBlobs {
			if _, err := c.Open(b); err == nil {
				t.Errorf("person %d's key opens a sealed value of the erased person", k.PersonID)
			}
		}
	}
	// Bram is untouched.
	if tr, err := h.db.Transcript(ctx, h.command(bram, "help").PersonID, 0); err != nil || !strings.Contains(fmt.Sprint(tr), markerKey(bramMarkers.all[0])) {
		t.Errorf("Bram's transcript after Anna left: %v", err)
	}

	// The next message starts afresh.
	res = h.command(anna, "start")
	if res.PersonID == annaID {
		t.Fatal("the erased person's row came back")
	}
	if st := h.state(anna); st.Stage != dialogs.StageConsent || st.Consent {
		t.Errorf("a fresh start after erasing: stage %q consent %v", st.Stage, st.Consent)
	}
	got := h.pending(res.PersonID)
	if len(got) == 0 || !strings.Contains(got[0].Env.Text, strings.TrimSpace(h.lib.Text("welcome", "nl"))[:40]) {
		t.Errorf("a fresh start does not welcome: %+v", got)
	}
}

// TestDumpCheckSeesPlaintextWithoutEncryption shows that the dump check of the
// test above can fail: without a sealer the same words are in the dump.
func TestDumpCheckSeesPlaintextWithoutEncryption(t *testing.T) {
	h := newHarness(t, nil)
	m := newMarkers(t)
	h.onboard(1, true)
	id := h.lib.Scripts()[0].ID
	h.runExercise(1, id, func(step string) string { return m.next(id, step) })
	dump := h.dump()
	for _, mk := range m.all {
		found := false
		for _, tr := range traces(markerKey(mk)) {
			found = found || strings.Contains(dump, tr)
		}
		if !found {
			t.Errorf("without encryption the dump should show %q", mk)
		}
	}
}

func mustScript(t testing.TB, lib *dialogs.Library, id string) *dialogs.Script {
	t.Helper()
	s, ok := lib.Script(id)
	if !ok {
		t.Fatalf("no exercise %s", id)
	}
	return s
}

// sealedBlobs returns every sealed value of a person, and their wrapped key.
func sealedBlobs(t testing.TB, h *harness, personID int64) [][]byte {
	t.Helper()
	var out [][]byte
	for _, q := range []string{
		`SELECT data_key FROM people WHERE id = $1`,
		`SELECT state FROM conversations WHERE person_id = $1`,
		`SELECT body FROM transcript WHERE person_id = $1 AND length(body) > 0`,
		`SELECT payload FROM outbox WHERE person_id = $1`,
	} {
		rows, err := h.db.Pool().Query(context.Background(), q, personID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// rowsAbout counts, in every table with a person_id column and in people,
// the rows about a person.
func rowsAbout(t testing.TB, h *harness, personID int64) map[string]int {
	t.Helper()
	ctx := context.Background()
	rows, err := h.db.Pool().Query(ctx, `SELECT table_name FROM information_schema.columns
WHERE table_schema = current_schema() AND column_name = 'person_id' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 5 {
		t.Fatalf("only %d tables with a person_id column: %v", len(tables), tables)
	}
	out := map[string]int{}
	for _, table := range tables {
		var n int
		if err := h.db.Pool().QueryRow(ctx, `SELECT count(*) FROM `+quoteIdent(table)+` WHERE person_id = $1`, personID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	var n int
	if err := h.db.Pool().QueryRow(ctx, `SELECT count(*) FROM people WHERE id = $1`, personID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	out["people"] = n
	return out
}

func TestEveryTableAboutAPersonCascades(t *testing.T) {
	h := newHarness(t, nil)
	rows, err := h.db.Pool().Query(context.Background(), `SELECT conrelid::regclass::text, confdeltype FROM pg_constraint
WHERE contype = 'f' AND confrelid = 'people'::regclass ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var table string
		var action byte
		if err := rows.Scan(&table, &action); err != nil {
			t.Fatal(err)
		}
		n++
		// CASCADE takes the row with the person; SET NULL keeps an anonymous
		// row (an audit). Anything else makes erasing the person fail.
		if action != 'c' && action != 'n' {
			t.Errorf("%s references people without ON DELETE CASCADE or SET NULL (action %q): erasing a person would fail", table, action)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 6 {
		t.Errorf("only %d foreign keys to people", n)
	}
}

func TestConsentSwitch(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, newSealerT(t, testMasterKey(t)))
	const chat = 7
	id := h.onboard(chat, true)
	consentRow := func() (*time.Time, string) {
		t.Helper()
		var at *time.Time
		var version *string
		if err := h.db.Pool().QueryRow(ctx, `SELECT consent_at, consent_version FROM people WHERE id = $1`, id).Scan(&at, &version); err != nil {
			t.Fatal(err)
		}
		if version == nil {
			return at, ""
		}
		return at, *version
	}
	if at, v := consentRow(); at == nil || v != conversation.ConsentVersion {
		t.Fatalf("after onboarding consent_at %v version %q", at, v)
	}

	h.clock.Advance(time.Hour)
	h.command(chat, "privacy")
	msgs := h.pending(id)
	info := msgs[len(msgs)-1].Env.Text
	for _, want := range []string{"AES-256-GCM", "coach", "/export", "/delete", "26 november 2026", conversation.ConsentVersion, "365"} {
		if !strings.Contains(info, want) {
			t.Errorf("/privacy does not say %q:\n%s", want, info)
		}
	}
	withdraw := buttonData(t, msgs, ButtonPrefix+":c:")
	if withdraw != ButtonPrefix+":c:n" {
		t.Fatalf("with consent the switch is %q, want withdraw", withdraw)
	}

	res := h.press(chat, withdraw)
	if res.Notice != text("notice.withdrawn", "nl") {
		t.Errorf("notice %q", res.Notice)
	}
	if st := h.state(chat); st.Consent {
		t.Error("the state still has consent")
	}
	if at, _ := consentRow(); at != nil {
		t.Errorf("people.consent_at = %v after withdrawing", at)
	}
	if res := h.press(chat, withdraw); res.Notice != text("notice.same", "nl") {
		t.Errorf("withdrawing twice: notice %q", res.Notice)
	}

	// From now on free text is not kept.
	ex := h.lib.Scripts()[0].ID
	secret := "geheim-" + strconv.Itoa(int(time.Now().UnixNano()))
	typed := h.runExercise(chat, ex, func(string) string { return secret })
	if len(typed) == 0 {
		t.Fatalf("exercise %s has no free-text step", ex)
	}
	tr, err := h.db.Transcript(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	withheld := 0
	for _, e := range tr {
		if strings.Contains(e.Text, secret) && e.Direction == "in" {
			t.Errorf("free text kept without consent: %+v", e)
		}
		if e.Kind == "withheld" {
			withheld++
		}
	}
	if withheld < len(typed) {
		t.Errorf("%d withheld entries for %d answers", withheld, len(typed))
	}

	h.command(chat, "privacy")
	give := buttonData(t, h.pending(id), ButtonPrefix+":c:")
	if give != ButtonPrefix+":c:y" {
		t.Fatalf("without consent the switch is %q, want give", give)
	}
	h.clock.Advance(time.Hour)
	if res := h.press(chat, give); res.Notice != text("notice.given", "nl") {
		t.Errorf("notice %q", res.Notice)
	}
	if at, _ := consentRow(); at == nil || !at.Equal(h.clock.Now()) {
		t.Errorf("consent_at = %v, want %v", at, h.clock.Now())
	}
	if !h.state(chat).Consent {
		t.Error("the state has no consent after giving it")
	}
	var history []bool
	rows, err := h.db.Pool().Query(ctx, `SELECT given FROM consent_events WHERE person_id = $1 ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var g bool
		if err := rows.Scan(&g); err != nil {
			t.Fatal(err)
		}
		history = append(history, g)
	}
	if fmt.Sprint(history) != "[true false true]" {
		t.Errorf("consent history %v, want [true false true]", history)
	}

	// Before onboarding there is nothing to switch.
	h.command(99, "start")
	h.command(99, "privacy")
	newcomer := h.pending(h.command(99, "privacy").PersonID)
	for _, b := range lastButtons(newcomer) {
		if strings.HasPrefix(b.Data, ButtonPrefix+":c:") {
			t.Errorf("a person who has not chosen yet gets a consent switch %q", b.Data)
		}
	}
	if res := h.press(99, ButtonPrefix+":c:y"); res.Notice != text("notice.pending", "nl") || h.state(99).Consent {
		t.Errorf("consent before onboarding: notice %q consent %v", res.Notice, h.state(99).Consent)
	}
}

func TestDeleteConfirmationIsSingleUseAndExpires(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, newSealerT(t, testMasterKey(t)))
	const chat = 8
	id := h.onboard(chat, true)
	exists := func() bool {
		var n int
		if err := h.db.Pool().QueryRow(ctx, `SELECT count(*) FROM people WHERE id = $1`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}

	tests := []struct {
		name   string
		act    func() conversation.Result
		notice string
		erased bool
	}{
		{name: "no keeps everything", act: func() conversation.Result {
			h.command(chat, "delete")
			return h.press(chat, buttonData(t, h.pending(id), ButtonPrefix+":keep:"))
		}, notice: text("notice.kept", "nl")},
		{name: "yes after no does nothing", act: func() conversation.Result {
			h.command(chat, "delete")
			msgs := h.pending(id)
			yes := buttonData(t, msgs, ButtonPrefix+":del:")
			h.press(chat, buttonData(t, msgs, ButtonPrefix+":keep:"))
			return h.press(chat, yes)
		}, notice: text("notice.expired", "nl")},
		{name: "a newer /delete voids the older button", act: func() conversation.Result {
			h.command(chat, "delete")
			old := buttonData(t, h.pending(id), ButtonPrefix+":del:")
			h.command(chat, "delete")
			return h.press(chat, old)
		}, notice: text("notice.expired", "nl")},
		{name: "a forged token does nothing", act: func() conversation.Result {
			return h.press(chat, ButtonPrefix+":del:AAAAAAAAAAAAAAAAAAAAAA")
		}, notice: text("notice.expired", "nl")},
		{name: "expired after ten minutes", act: func() conversation.Result {
			h.command(chat, "delete")
			yes := buttonData(t, h.pending(id), ButtonPrefix+":del:")
			h.clock.Advance(DefaultTokenTTL + time.Second)
			return h.press(chat, yes)
		}, notice: text("notice.expired", "nl")},
		{name: "another person's button does nothing", act: func() conversation.Result {
			other := h.onboard(9, true)
			h.command(9, "delete")
			return h.press(chat, buttonData(t, h.pending(other), ButtonPrefix+":del:"))
		}, notice: text("notice.expired", "nl")},
		{name: "yes in time erases", act: func() conversation.Result {
			h.command(chat, "delete")
			yes := buttonData(t, h.pending(id), ButtonPrefix+":del:")
			h.clock.Advance(DefaultTokenTTL - time.Second)
			return h.press(chat, yes)
		}, notice: text("delete.done", "nl"), erased: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.act()
			if res.Notice != tc.notice {
				t.Errorf("notice %q, want %q", res.Notice, tc.notice)
			}
			if exists() == tc.erased {
				t.Errorf("person exists: %v, want %v", exists(), !tc.erased)
			}
		})
	}
	var n int
	if err := h.db.Pool().QueryRow(ctx, `SELECT count(*) FROM privacy_tokens WHERE person_id = $1`, id).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d tokens left (%v)", n, err)
	}
}

func TestTamperedCiphertextIsAnErrorNeverText(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, newSealerT(t, testMasterKey(t)))
	a := h.onboard(11, true)
	b := h.onboard(12, true)
	h.say(11, "iets persoonlijks")
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := h.db.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	outbox := func(id int64) int {
		var n int
		if err := h.db.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox WHERE person_id = $1`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// A flipped bit in the transcript.
	exec(`UPDATE transcript SET body = set_byte(body, 20, get_byte(body, 20) # 1)
WHERE id = (SELECT max(id) FROM transcript WHERE person_id = $1 AND length(body) > 20)`, a)
	if _, err := h.db.Transcript(ctx, a, 0); !errors.Is(err, keyring.ErrTampered) {
		t.Errorf("reading a tampered transcript: %v, want ErrTampered", err)
	}
	before := outbox(a)
	if _, err := h.svc.Handle(ctx, conversation.Incoming{Channel: conversation.ChannelShell, ChatID: 11,
		Input: dialogs.Input{Kind: dialogs.InputCommand, Command: "export"}}); !errors.Is(err, keyring.ErrTampered) {
		t.Errorf("/export over a tampered transcript: %v, want ErrTampered", err)
	}
	if outbox(a) != before {
		t.Error("a failed export still queued something")
	}

	// A flipped bit in the conversation state: the turn fails, nothing is sent.
	exec(`UPDATE conversations SET state = set_byte(state, 30, get_byte(state, 30) # 128) WHERE person_id = $1`, b)
	before = outbox(b)
	if _, err := h.svc.Handle(ctx, conversation.Incoming{Channel: conversation.ChannelShell, ChatID: 12,
		Input: dialogs.Input{Kind: dialogs.InputText, Text: "hallo"}}); !errors.Is(err, keyring.ErrTampered) {
		t.Errorf("a turn over a tampered state: %v, want ErrTampered", err)
	}
	if outbox(b) != before {
		t.Error("a turn over a tampered state queued a message")
	}

	// Another person's key or state in one's row does not open.
	c := h.onboard(13, true)
	d := h.onboard(14, true)
	exec(`UPDATE people SET data_key = (SELECT data_key FROM people WHERE id = $2) WHERE id = $1`, c, d)
	if _, err := h.svc.Handle(ctx, conversation.Incoming{Channel: conversation.ChannelShell, ChatID: 13,
		Input: dialogs.Input{Kind: dialogs.InputCommand, Command: "help"}}); !errors.Is(err, keyring.ErrTampered) {
		t.Errorf("a turn with another person's wrapped key: %v, want ErrTampered", err)
	}
	e := h.onboard(15, true)
	exec(`UPDATE conversations SET state = (SELECT state FROM conversations WHERE person_id = $2) WHERE person_id = $1`, e, d)
	if _, err := h.svc.Handle(ctx, conversation.Incoming{Channel: conversation.ChannelShell, ChatID: 15,
		Input: dialogs.Input{Kind: dialogs.InputCommand, Command: "help"}}); !errors.Is(err, keyring.ErrTampered) {
		t.Errorf("a turn with another person's state: %v, want ErrTampered", err)
	}
}

func TestRotationKeepsDataReadableAndRetiresTheOldKey(t *testing.T) {
	ctx := context.Background()
	oldKey, newKey := testMasterKey(t), testMasterKey(t)
	// The running bot, told about the new key before the rotation (step 2 of
	// `stilstaan keys rotate --help`).
	h := newHarness(t, newSealerT(t, oldKey, newKey))
	m := newMarkers(t)
	var ids []int64
	for chat := int64(1); chat <= 5; chat++ {
		ids = append(ids, h.onboard(chat, true))
		h.say(chat, "/niets") // free text outside an exercise
		ex := h.lib.Scripts()[0].ID
		h.runExercise(chat, ex, func(step string) string { return m.next(strconv.FormatInt(chat, 10), step) })
	}

	st, err := Rotate(ctx, h.db, keyring.NewRing(newKey, oldKey), 2, h.log)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rewrapped != len(ids) || st.AlreadyCurrent != 0 || st.Failed != 0 {
		t.Errorf("rotation %+v, want %d re-wrapped", st, len(ids))
	}
	for _, k := range mustKeys(t, h.db) {
		if by, _ := keyring.WrappedBy(k.Wrapped); by != newKey.ID() {
			t.Errorf("person %d's key is wrapped by %s, want %s", k.PersonID, by, newKey.ID())
		}
	}
	again, err := Rotate(ctx, h.db, keyring.NewRing(newKey, oldKey), 2, h.log)
	if err != nil || again.Rewrapped != 0 || again.AlreadyCurrent != len(ids) {
		t.Errorf("second rotation %+v %v, want everything already current", again, err)
	}

	// The running bot goes on (its cached keys no longer match the stored
	// blobs, and its ring opens the new ones).
	h.say(1, "nog steeds hier")

	// With only the new key everything reads, and a new turn works.
	newOnly := h.open(newSealerT(t, newKey))
	all := ""
	for _, id := range ids {
		tr, err := newOnly.Transcript(ctx, id, 0)
		if err != nil {
			t.Fatalf("person %d with the new key: %v", id, err)
		}
		all += fmt.Sprint(tr)
	}
	for _, mk := range m.all {
		if !strings.Contains(all, mk) {
			t.Errorf("marker %q unreadable after rotation", mk)
		}
	}
	svc, _ := h.service(newOnly)
	if _, err := svc.Handle(ctx, conversation.Incoming{Channel: conversation.ChannelShell, ChatID: 2,
		Input: dialogs.Input{Kind: dialogs.InputCommand, Command: "help"}}); err != nil {
		t.Errorf("a turn with only the new key: %v", err)
	}

	// The old key alone opens nothing.
	oldOnly := h.open(newSealerT(t, oldKey))
	for _, id := range ids {
		if _, err := oldOnly.Transcript(ctx, id, 0); !errors.Is(err, keyring.ErrUnknownMaster) {
			t.Errorf("person %d with the old key alone: %v, want ErrUnknownMaster", id, err)
		}
	}
	oldSealer := newSealerT(t, oldKey)
	for _, k := range mustKeys(t, h.db) {
		if _, err := oldSealer.Cipher(ctx, k.PersonID, k.Wrapped); err == nil {
			t.Errorf("the old key unwraps person %d's data key", k.PersonID)
		}
	}

	// A key that no configured master key unwraps is reported, not skipped silently.
	stranger := newSealerT(t, testMasterKey(t))
	wrapped, err := stranger.NewPersonKey(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.Pool().Exec(ctx, `UPDATE people SET data_key = $2 WHERE id = $1`, ids[0], wrapped); err != nil {
		t.Fatal(err)
	}
	if st, err := Rotate(ctx, h.db, keyring.NewRing(testMasterKey(t), newKey), 100, h.log); err == nil || st.Failed != 1 {
		t.Errorf("rotation over a foreign key: %+v %v, want one failure and an error", st, err)
	}
}

func mustKeys(t testing.TB, db *storage.DB) []storage.WrappedKey {
	t.Helper()
	keys, err := db.WrappedKeys(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestExportIncludesTablesOfOtherFeatures(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, newSealerT(t, testMasterKey(t)))
	// A table as a later feature might add: coach notes, one sealed column.
	if _, err := h.db.Pool().Exec(ctx, `CREATE TABLE test_coach_notes (
  id bigserial PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  written_at timestamptz NOT NULL,
  note bytea NOT NULL,
  foreign_blob bytea)`); err != nil {
		t.Fatal(err)
	}
	id := h.onboard(21, true)
	other := h.onboard(22, true)
	note := "coachnotitie-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	for _, p := range []struct {
		id   int64
		note string
	}{{id, note}, {other, "niet van jou"}} {
		_, err := h.db.Turn(ctx, storage.PersonKey{Channel: conversation.ChannelShell, ExternalID: map[int64]int64{id: 21, other: 22}[p.id]}, "",
			func(tx *storage.Tx) error {
				sealed, err := tx.Seal([]byte(p.note))
				if err != nil {
					return err
				}
				return tx.Exec(ctx, `INSERT INTO test_coach_notes (person_id, written_at, note, foreign_blob) VALUES ($1, $2, $3, $4)`,
					p.id, tx.Now(), sealed, []byte("sealed with some other key, 32 bytes or more"))
			})
		if err != nil {
			t.Fatal(err)
		}
	}
	h.command(21, "export")
	var doc []byte
	for _, msg := range h.pending(id) {
		if strings.HasSuffix(msg.Env.FileName, ".json") {
			doc = msg.Env.File
		}
	}
	var x Export
	if err := json.Unmarshal(doc, &x); err != nil {
		t.Fatal(err)
	}
	var notes *ExportTable
	for i := range x.Other {
		if x.Other[i].Table == "test_coach_notes" {
			notes = &x.Other[i]
		}
	}
	if notes == nil || len(notes.Rows) != 1 {
		t.Fatalf("the export's other tables: %+v", x.Other)
	}
	row := notes.Rows[0]
	if row["note"] != note {
		t.Errorf("the sealed note exported as %v, want %q", row["note"], note)
	}
	if fb, ok := row["foreign_blob"].(map[string]any); !ok || fb["unreadable"] != true {
		t.Errorf("a blob the person's key does not open exported as %v", row["foreign_blob"])
	}
	if fmt.Sprint(row["person_id"]) != strconv.FormatInt(id, 10) {
		t.Errorf("row %v", row)
	}
}
