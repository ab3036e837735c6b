package coach_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/care"
	"github.com/stilstaan/stilstaan/coach"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// Coaches of the tests, by Telegram user id.
const (
	anna = int64(9001)
	bram = int64(9002)
)

var (
	signingKey   = []byte("test signing key, long and random in production")
	pseudonymKey = []byte("test pseudonym key")
	start        = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
)

func pseudonym(id int64) string { return care.Pseudonym(pseudonymKey, id) }

// clock is a clock the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testSealer seals by flipping bits and tagging, so a test can tell sealed
// bytes from plain text in the database.
type testSealer struct{}

func (testSealer) NewPersonKey(context.Context, int64) ([]byte, error) { return []byte("wrapped"), nil }

func (testSealer) Cipher(_ context.Context, _ int64, wrapped []byte) (storage.Cipher, error) {
	if string(wrapped) != "wrapped" {
		return nil, fmt.Errorf("test sealer: unexpected wrapped key %q", wrapped)
	}
	return testCipher{}, nil
}

type testCipher struct{}

func (testCipher) Seal(b []byte) ([]byte, error) {
	out := []byte("sealed:")
	for _, c := range b {
		out = append(out, c^0x5a)
	}
	return out, nil
}

func (testCipher) Open(b []byte) ([]byte, error) {
	rest, ok := bytes.CutPrefix(b, []byte("sealed:"))
	if !ok {
		return nil, errors.New("test sealer: not sealed")
	}
	out := make([]byte, len(rest))
	for i, c := range rest {
		out[i] = c ^ 0x5a
	}
	return out, nil
}

// env is one test's world: its own database, a clock, the coach review with
// its dashboard served by httptest, and a conversation service with the
// coach commands.
type env struct {
	t     *testing.T
	ctx   context.Context
	db    *storage.DB
	clock *clock
	team  *coach.Team
	srv   *httptest.Server
	svc   *conversation.Service
	logs  *syncBuffer
	cfg   coach.Config
	input int
	// tokens are the login link tokens handed out, which must never be
	// logged.
	tokens []string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func baseConfig() coach.Config {
	return coach.Config{
		Coaches:    []coach.Coach{{ID: anna, Name: "Anna"}, {ID: bram, Name: "Bram"}},
		PublicURL:  "http://dashboard.test",
		SigningKey: signingKey,
		SessionTTL: 8 * time.Hour,
		Pseudonym:  pseudonym,
		Location:   time.UTC,
	}
}

// newEnv builds the world; edit changes the coach config first.
func newEnv(t *testing.T, edit ...func(*coach.Config)) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), clock: &clock{now: start}, logs: &syncBuffer{}}
	e.db = storagetest.New(t, storage.WithClock(e.clock.Now), storage.WithSealer(testSealer{}))
	e.cfg = baseConfig()
	for _, f := range edit {
		f(&e.cfg)
	}
	e.team = e.newTeam(e.cfg)
	h, err := e.team.Handler()
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	e.svc = e.serviceWith(e.team)
	t.Cleanup(e.checkLogs)
	return e
}

// serviceWith returns a conversation service with the team's commands.
func (e *env) serviceWith(team *coach.Team) *conversation.Service {
	e.t.Helper()
	lib, err := dialogs.LoadEmbedded()
	if err != nil {
		e.t.Fatal(err)
	}
	engine := dialogs.NewEngine(lib)
	opts := append([]conversation.Option{conversation.WithClock(e.clock.Now)}, team.CommandOptions(engine.Handle)...)
	return conversation.New(e.db, engine, opts...)
}

// newTeam makes a coach review on the env's database with cfg.
func (e *env) newTeam(cfg coach.Config) *coach.Team {
	e.t.Helper()
	log := slog.New(slog.NewTextHandler(io.MultiWriter(e.t.Output(), e.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	team, err := coach.New(e.db, cfg, coach.WithClock(e.clock.Now), coach.WithLogger(log))
	if err != nil {
		e.t.Fatal(err)
	}
	return team
}

// secrets are strings that must never reach the logs.
var secrets = []string{"Ik wil dood", "Hij antwoordt niet", "NOTE-TEXT", "MESSAGE-TEXT", string(signingKey)}

func (e *env) checkLogs() {
	logs := e.logs.String()
	for _, s := range append(secrets, e.tokens...) {
		if strings.Contains(logs, s) {
			e.t.Errorf("the logs contain %q", s)
		}
	}
}

// person creates a person on Telegram with a few transcript lines: what they
// wrote and the bot's answer, then a crisis message. consent says whether
// they agreed to coach review.
func (e *env) person(externalID int64, consent bool, lang string) int64 {
	e.t.Helper()
	var id int64
	_, err := e.db.Turn(e.ctx, storage.PersonKey{Channel: conversation.ChannelTelegram, ExternalID: externalID}, "", func(tx *storage.Tx) error {
		id = tx.Person().ID
		tx.SetLang(lang)
		if consent {
			at := tx.Now()
			tx.SetConsent(&at, "test")
		}
		tx.AddTranscript(
			storage.Entry{Direction: "in", Exercise: "abandonment", Step: "what", Kind: "text", Text: "Hij antwoordt niet op mijn berichten."},
			storage.Entry{Direction: "out", Exercise: "abandonment", Step: "what", Kind: "message", Text: "Dank je dat je het opschrijft."},
			storage.Entry{Direction: "in", Exercise: "abandonment", Step: "ground", Kind: "text", Text: "Ik wil dood."},
		)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// flag raises a flag on the person's last message, as the care protocol does.
func (e *env) flag(personID int64, level, category string) int64 {
	e.t.Helper()
	var id int64
	err := e.db.Pool().QueryRow(e.ctx, `INSERT INTO flags (person_id, created_at, level, category, rule, transcript_id, exercise, step, run_state)
VALUES ($1, $2, $3, $4, 'test_rule', (SELECT max(id) FROM transcript WHERE person_id = $1 AND direction = 'in'), 'abandonment', 'ground', 'stopped')
RETURNING id`, personID, e.clock.Now(), level, category).Scan(&id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// command sends a /command from a Telegram chat and returns the texts the
// turn queued for that chat.
func (e *env) command(chatID int64, name string) []string {
	e.t.Helper()
	return e.send(e.svc, chatID, dialogs.Input{Kind: dialogs.InputCommand, Command: name, LangHint: "nl"})
}

// send handles one input from a Telegram chat with svc and returns the texts
// the turn queued for that chat.
func (e *env) send(svc *conversation.Service, chatID int64, in dialogs.Input) []string {
	e.t.Helper()
	e.input++
	res, err := svc.Handle(e.ctx, conversation.Incoming{
		Channel: conversation.ChannelTelegram, ChatID: chatID, Source: fmt.Sprintf("tg:%d", e.input), Input: in,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.pendingTexts(res.PersonID)
}

// pendingTexts returns the texts queued for a person and marks them sent.
func (e *env) pendingTexts(personID int64) []string {
	e.t.Helper()
	msgs, err := e.db.PendingFor(e.ctx, personID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		env, err := conversation.DecodeEnvelope(m.Payload)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, env.Text)
		if err := e.db.MarkSent(e.ctx, m.ID, m.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	return out
}

var linkRE = regexp.MustCompile(`https?://dashboard\.test(/login/\S+)`)

// linkFor asks the bot for /dashboard as a coach and returns the path of the
// login link it sent.
func (e *env) linkFor(coachID int64) string {
	e.t.Helper()
	texts := e.command(coachID, "dashboard")
	if len(texts) != 1 {
		e.t.Fatalf("/dashboard queued %d messages, want 1: %q", len(texts), texts)
	}
	m := linkRE.FindStringSubmatch(texts[0])
	if m == nil {
		e.t.Fatalf("/dashboard answer has no login link: %q", texts[0])
	}
	e.tokens = append(e.tokens, strings.TrimPrefix(m[1], "/login/"))
	return m[1]
}

// browser is an HTTP client with its own cookies that does not follow
// redirects.
type browser struct {
	e      *env
	client *http.Client
	csrf   string
	base   string // the server's URL
	lang   string // Accept-Language
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{e: e, base: e.srv.URL, lang: "nl-NL,nl;q=0.9,en;q=0.8", client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is what a request got.
type response struct {
	Status   int
	Body     string
	Header   http.Header
	Location string
}

func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	req.Header.Set("Accept-Language", b.lang)
	res, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if m := csrfRE.FindStringSubmatch(string(body)); m != nil && !strings.Contains(string(body), `action="/login"`) {
		b.csrf = m[1]
	}
	return response{Status: res.StatusCode, Body: string(body), Header: res.Header, Location: res.Header.Get("Location")}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) get(path string) response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// postCSRF posts a form with the session's CSRF token.
func (b *browser) postCSRF(path string, form url.Values) response {
	b.e.t.Helper()
	if b.csrf == "" {
		b.e.t.Fatal("no CSRF token seen yet: GET a page first")
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf)
	return b.post(path, form)
}

var (
	tokenRE     = regexp.MustCompile(`name="token" value="([^"]+)"`)
	loginCSRFRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// login opens a login link and submits its form; it returns the answer to
// the submission.
func (b *browser) login(linkPath string) response {
	b.e.t.Helper()
	page := b.get(linkPath)
	if page.Status != http.StatusOK {
		return page
	}
	tok, csrf := tokenRE.FindStringSubmatch(page.Body), loginCSRFRE.FindStringSubmatch(page.Body)
	if tok == nil || csrf == nil {
		b.e.t.Fatalf("login form lacks token or csrf: %s", page.Body)
	}
	return b.post("/login", url.Values{"token": {tok[1]}, "csrf": {csrf[1]}})
}

// loggedIn returns a browser with a session of the coach, and its CSRF token.
func (e *env) loggedIn(coachID int64) *browser {
	e.t.Helper()
	b := e.browser()
	res := b.login(e.linkFor(coachID))
	if res.Status != http.StatusSeeOther || res.Location != "/flags" {
		e.t.Fatalf("login: status %d, location %q, want 303 to /flags; body: %s", res.Status, res.Location, res.Body)
	}
	if page := b.get("/flags"); page.Status != http.StatusOK {
		e.t.Fatalf("GET /flags after login: %d", page.Status)
	}
	return b
}

// audit returns the audit rows as "action coach flag person detail" lines,
// in order; absent ids show as "-".
func (e *env) audit() []string {
	e.t.Helper()
	rows, err := e.db.Pool().Query(e.ctx, `SELECT action, coach_id, flag_id, person_id, detail FROM coach_audit ORDER BY id`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var action, detail string
		var coachID, flagID, personID *int64
		if err := rows.Scan(&action, &coachID, &flagID, &personID, &detail); err != nil {
			e.t.Fatal(err)
		}
		id := func(p *int64) string {
			if p == nil {
				return "-"
			}
			return fmt.Sprint(*p)
		}
		out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s %s %s", action, id(coachID), id(flagID), id(personID), detail)))
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// count runs a count query.
func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Pool().QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// outboxTexts returns the opened texts of everything queued for a person.
func (e *env) outboxTexts(personID int64) []string {
	e.t.Helper()
	msgs, err := e.db.PendingFor(e.ctx, personID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		var env conversation.Envelope
		if err := json.Unmarshal(m.Payload, &env); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, env.Text)
	}
	return out
}
