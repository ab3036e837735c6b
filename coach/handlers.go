package coach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/storage"
)

// Limits of what a coach types.
const (
	maxNoteChars    = 4000
	maxMessageChars = 3500 // the prefix and Telegram's 4096 leave room
)

// loginForm confirms a login link without using it: Telegram (and other
// apps) fetch links for previews, which must not spend a single-use link.
// The form posts the token with a CSRF token bound to a cookie set here.
func (t *Team) loginForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	claims, err := t.keys.parseLinkToken(token)
	if err != nil {
		t.log.Warn("coach: login link with a bad signature")
		t.renderLogin(w, r, http.StatusForbidden, "login.invalid")
		return
	}
	co, ok := t.coaches[claims.CoachID]
	if !ok {
		t.renderLogin(w, r, http.StatusForbidden, "login.notcoach")
		return
	}
	if !claims.Expires.After(t.now()) {
		t.renderLogin(w, r, http.StatusForbidden, "login.expired")
		return
	}
	var used bool
	err = t.db.Pool().QueryRow(r.Context(), `SELECT used_at IS NOT NULL FROM coach_login_links WHERE token_hash = $1`, hashToken(token)).Scan(&used)
	if err != nil || used {
		msg := "login.used"
		if err != nil {
			msg = "login.invalid"
		}
		t.renderLogin(w, r, http.StatusForbidden, msg)
		return
	}
	secret, err := randomToken(16)
	if err != nil {
		t.fail(w, r, nil, "login form", err)
		return
	}
	t.setCookie(w, t.loginCookie(), secret, claims.Expires)
	b := t.base(r, nil, "login.title")
	b.Message = b.L.get("login.confirm")
	t.render(w, http.StatusOK, "login", loginPage{base: b, Token: token, LoginCSRF: t.keys.csrfToken(csrfLogin, secret), Name: co.Name})
}

// loginSubmit uses a login link: checks the form's CSRF token, the link's
// signature, its coach and expiry, then consumes it and opens a session.
func (t *Team) loginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		t.renderLogin(w, r, http.StatusBadRequest, "forbidden")
		return
	}
	secret := ""
	if c, err := r.Cookie(t.loginCookie()); err == nil {
		secret = c.Value
	}
	if !t.keys.checkCSRF(csrfLogin, secret, r.PostForm.Get("csrf")) {
		t.log.Warn("coach: login POST without a valid CSRF token")
		t.renderLogin(w, r, http.StatusForbidden, "forbidden")
		return
	}
	token := r.PostForm.Get("token")
	claims, err := t.keys.parseLinkToken(token)
	if err != nil {
		t.log.Warn("coach: login link with a bad signature")
		t.renderLogin(w, r, http.StatusForbidden, "login.invalid")
		return
	}
	refuse := func(reason, msg string) {
		if err := t.audit(r.Context(), auditEntry{CoachID: claims.CoachID, Action: actLoginRefused, Detail: reason}); err != nil {
			t.fail(w, r, nil, "audit", err)
			return
		}
		t.log.Warn("coach: login refused", slog.Int64("coach_id", claims.CoachID), slog.String("reason", reason))
		t.renderLogin(w, r, http.StatusForbidden, msg)
	}
	if _, ok := t.coaches[claims.CoachID]; !ok {
		refuse(refusedNotCoach, "login.notcoach")
		return
	}
	if !claims.Expires.After(t.now()) {
		refuse(refusedExpired, "login.expired")
		return
	}
	sess, err := t.login(r.Context(), token, claims.CoachID)
	var refused *refusal
	if errors.As(err, &refused) {
		t.log.Warn("coach: login refused", slog.Int64("coach_id", claims.CoachID), slog.String("reason", refused.reason))
		t.renderLogin(w, r, http.StatusForbidden, "login."+map[string]string{
			refusedUsed: "used", refusedExpired: "expired", refusedInvalid: "invalid"}[refused.reason])
		return
	}
	if err != nil {
		t.fail(w, r, nil, "login", err)
		return
	}
	t.log.Info("coach: logged in", slog.Int64("coach_id", claims.CoachID))
	t.clearCookie(w, t.loginCookie())
	t.setCookie(w, t.sessionCookie(), sess.Token, sess.Expires)
	http.Redirect(w, r, "/flags", http.StatusSeeOther)
}

// logout ends the session.
func (t *Team) logout(w http.ResponseWriter, r *http.Request, s *session) {
	if err := t.endSession(r.Context(), s.Token); err != nil {
		t.fail(w, r, s, "logout", err)
		return
	}
	if err := t.audit(r.Context(), auditEntry{CoachID: s.Coach.ID, Action: actLogout}); err != nil {
		t.fail(w, r, s, "audit", err)
		return
	}
	t.clearCookie(w, t.sessionCookie())
	t.renderLogin(w, r, http.StatusOK, "login.out")
}

// flagItem is one flag as a page shows it.
type flagItem struct {
	ID        int64
	Level     string
	LevelText string
	Why       string
	Pseudonym string
	Age       string
	When      string
	Status    string
	StatusTxt string
	Current   bool
}

func (t *Team) item(l lang, f flag) flagItem {
	return flagItem{
		ID: f.ID, Level: f.Level, LevelText: l.level(f.Level), Why: l.category(f.Category),
		Pseudonym: t.cfg.Pseudonym(f.PersonID), Age: l.age(t.now().Sub(f.CreatedAt)), When: t.when(l, f.CreatedAt),
		Status: f.Status, StatusTxt: l.get("status." + f.Status),
	}
}

// choice is an option of a filter.
type choice struct {
	Value, Label string
	Selected     bool
}

type listPage struct {
	base
	Levels, Statuses []choice
	Flags            []flagItem
}

var (
	levelValues  = []string{"acute", "elevated", "low"}
	statusValues = []string{"open", "reviewed"}
)

// oneOf returns v when allowed lists it, else "".
func oneOf(v string, allowed []string) string {
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	return ""
}

func choices(l lang, selected string, values []string, label func(string) string) []choice {
	out := []choice{{Value: "", Label: l.get("flags.all"), Selected: selected == ""}}
	for _, v := range values {
		out = append(out, choice{Value: v, Label: label(v), Selected: v == selected})
	}
	return out
}

// flagList shows the flags: open first, then acute, then the newest.
func (t *Team) flagList(w http.ResponseWriter, r *http.Request, s *session) {
	level := oneOf(r.URL.Query().Get("level"), levelValues)
	status := oneOf(r.URL.Query().Get("status"), statusValues)
	if err := t.audit(r.Context(), auditEntry{CoachID: s.Coach.ID, Action: actListFlags,
		Detail: fmt.Sprintf("level=%s status=%s", level, status)}); err != nil {
		t.fail(w, r, s, "audit", err)
		return
	}
	flags, err := t.listFlags(r.Context(), level, status, 500)
	if err != nil {
		t.fail(w, r, s, "list flags", err)
		return
	}
	p := listPage{base: t.base(r, s, "flags.title")}
	l := p.L
	p.Levels = choices(l, level, levelValues, l.level)
	p.Statuses = choices(l, status, statusValues, func(v string) string { return l.get("status." + v) })
	for _, f := range flags {
		p.Flags = append(p.Flags, t.item(l, f))
	}
	t.render(w, http.StatusOK, "flags", p)
}

// flagID reads the {id} of the path; anything but a positive number is not
// found.
func flagID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// visibleFlag loads the flag of the path, answering 404 (and auditing the
// attempt) when it is not there or not visible to coaches.
func (t *Team) visibleFlag(w http.ResponseWriter, r *http.Request, s *session) (flag, bool) {
	id, ok := flagID(r)
	if !ok {
		t.renderStatus(w, r, s, http.StatusNotFound, "notfound")
		return flag{}, false
	}
	f, err := t.flag(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		if err := t.audit(r.Context(), auditEntry{CoachID: s.Coach.ID, Action: actViewFlag,
			Detail: fmt.Sprintf("not found: %s %d", routeOf(r), id)}); err != nil {
			t.fail(w, r, s, "audit", err)
			return flag{}, false
		}
		t.renderStatus(w, r, s, http.StatusNotFound, "notfound")
		return flag{}, false
	}
	if err != nil {
		t.fail(w, r, s, "flag", err)
		return flag{}, false
	}
	return f, true
}

// entryItem is one transcript line as the page shows it.
type entryItem struct {
	Direction string
	Who       string
	When      string
	Where     string // exercise and step
	Text      string
	Withheld  bool
	Flagged   bool
}

type noteItem struct {
	Coach  string
	When   string
	Text   string
	Review bool
	Flag   string
}

// form is what a coach typed into a form that came back with an error.
type form struct {
	Action string // "notes", "review" or "message"
	Text   string
	Error  string
}

type flagPage struct {
	base
	Flag       flagItem
	Raised     string
	Reviewed   string
	Exercise   string
	Step       string
	RunState   string
	Inactive   bool
	Acute      bool
	Open       bool
	Entries    []entryItem
	Earlier    int
	Later      int
	Others     []flagItem
	Notes      []noteItem
	Done       string
	Alert      string
	Form       form
	Nonce      string
	Prefix     string
	Moods      int // check-ins with a mood in the chart's range
	MaxNote    int
	MaxMessage int
}

// Transcript lines shown around the flagged message.
const (
	transcriptBefore = 20
	transcriptAfter  = 200
)

// flagView shows the conversation around a flag and what a coach can do.
func (t *Team) flagView(w http.ResponseWriter, r *http.Request, s *session) {
	f, ok := t.visibleFlag(w, r, s)
	if !ok {
		return
	}
	done := map[string]string{"note": "ok.note", "review": "ok.review", "message": "ok.message", "dup": "ok.dup"}[r.URL.Query().Get("ok")]
	t.showFlag(w, r, s, f, http.StatusOK, form{}, done)
}

// showFlag renders the conversation page, with a form's error when status
// is not 200. Showing it is audited (a page that comes back with a form's
// error shows the conversation too).
func (t *Team) showFlag(w http.ResponseWriter, r *http.Request, s *session, f flag, status int, fm form, done string) {
	ctx := r.Context()
	detail := ""
	if fm.Error != "" {
		detail = "form error: " + fm.Action
	}
	if err := t.audit(ctx, auditEntry{CoachID: s.Coach.ID, Action: actViewFlag, FlagID: f.ID, PersonID: f.PersonID, Detail: detail}); err != nil {
		t.fail(w, r, s, "audit", err)
		return
	}
	p, err := t.flagPage(ctx, r, s, f)
	if err != nil {
		t.fail(w, r, s, "flag page", err)
		return
	}
	p.Form = fm
	if fm.Error != "" && fm.Action == "review" && !p.Open {
		p.Alert = fm.Error // the review form is gone: say it at the top
	}
	if done != "" {
		p.Done = p.L.get(done)
	}
	t.render(w, status, "flag", p)
}

func (t *Team) flagPage(ctx context.Context, r *http.Request, s *session, f flag) (flagPage, error) {
	p := flagPage{base: t.base(r, s, "title"), MaxNote: maxNoteChars, MaxMessage: maxMessageChars}
	l := p.L
	p.Title = l.getf("conv.flag", f.ID)
	p.Flag = t.item(l, f)
	p.Raised = l.getf("conv.raised", p.Flag.When, p.Flag.Age)
	if f.ReviewedAt != nil && f.ReviewedBy != nil {
		p.Reviewed = l.getf("conv.reviewed", t.coachName(*f.ReviewedBy), t.when(l, *f.ReviewedAt))
	}
	p.Exercise, p.Step = t.exerciseTitle(f.Exercise, string(l)), f.Step
	p.RunState = l.get("run." + f.RunState)
	if f.RunState == "" {
		p.RunState = l.get("run.none")
	}
	p.Inactive, p.Acute, p.Open = !f.Active, f.Level == "acute", f.Status == "open"
	p.Prefix = texts(f.Lang).get("person.prefix")
	var err error
	if p.Nonce, err = randomToken(16); err != nil {
		return p, err
	}

	entries, err := t.db.Transcript(ctx, f.PersonID, 0)
	if err != nil {
		return p, err
	}
	at := len(entries) - 1 // the flagged message, or the last entry before the flag
	for i, e := range entries {
		if f.TranscriptID != nil && e.ID == *f.TranscriptID {
			at = i
			break
		}
		if f.TranscriptID == nil && e.At.After(f.CreatedAt) {
			at = i - 1
			break
		}
	}
	from, to := max(0, at-transcriptBefore), min(len(entries), at+1+transcriptAfter)
	p.Earlier, p.Later = from, len(entries)-to
	who := map[string]string{"in": p.Flag.Pseudonym, "out": l.get("who.out"), "coach": l.get("who.coach"), "system": l.get("who.system")}
	for i := from; i < to; i++ {
		e := entries[i]
		item := entryItem{
			Direction: e.Direction, Who: who[e.Direction], When: t.when(l, e.At), Text: e.Text,
			Withheld: e.Kind == "withheld", Flagged: f.TranscriptID != nil && e.ID == *f.TranscriptID,
		}
		if e.Exercise != "" {
			item.Where = t.exerciseTitle(e.Exercise, string(l))
			if e.Step != "" {
				item.Where += " · " + e.Step
			}
		}
		p.Entries = append(p.Entries, item)
	}

	others, err := t.personFlags(ctx, f.PersonID, f.ID)
	if err != nil {
		return p, err
	}
	for _, o := range others {
		p.Others = append(p.Others, t.item(l, o))
	}
	moodFrom, moodTo, err := t.moodRange(ctx, f.PersonID)
	if err != nil {
		return p, err
	}
	if p.Moods, err = t.moodCount(ctx, f.PersonID, moodFrom, moodTo); err != nil {
		return p, err
	}
	notes, err := t.notes(ctx, f.PersonID)
	if err != nil {
		return p, err
	}
	for _, n := range notes {
		p.Notes = append(p.Notes, noteItem{Coach: t.coachName(n.CoachID), When: t.when(l, n.At), Text: n.Text,
			Review: n.Kind == "review", Flag: l.getf("notes.flag", n.FlagID)})
	}
	return p, nil
}

// exerciseTitle is an exercise's title in a language, or its id when the
// library does not know it.
func (t *Team) exerciseTitle(id, lang string) string {
	if t.lib != nil {
		if s, ok := t.lib.Script(id); ok {
			if title := s.Title.In(lang); title != "" {
				return title
			}
		}
	}
	return id
}

// text reads a form field: trimmed, and checked for length.
func text(r *http.Request, field string) string {
	return strings.TrimSpace(strings.ReplaceAll(r.PostForm.Get(field), "\r\n", "\n"))
}

// noteSubmit adds a note to a flag.
func (t *Team) noteSubmit(w http.ResponseWriter, r *http.Request, s *session) {
	f, ok := t.visibleFlag(w, r, s)
	if !ok {
		return
	}
	body := text(r, "text")
	l := browserLang(r)
	switch {
	case body == "":
		t.showFlag(w, r, s, f, http.StatusUnprocessableEntity, form{Action: "notes", Error: l.get("note.empty")}, "")
		return
	case utf8.RuneCountInString(body) > maxNoteChars:
		t.showFlag(w, r, s, f, http.StatusUnprocessableEntity, form{Action: "notes", Text: body, Error: l.getf("note.long", maxNoteChars)}, "")
		return
	}
	if err := t.addNote(r.Context(), s.Coach.ID, f, "note", body); err != nil {
		t.fail(w, r, s, "add note", err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/flags/%d?ok=note#notes", f.ID), http.StatusSeeOther)
}

// reviewSubmit marks a flag reviewed; an acute flag needs a note.
func (t *Team) reviewSubmit(w http.ResponseWriter, r *http.Request, s *session) {
	f, ok := t.visibleFlag(w, r, s)
	if !ok {
		return
	}
	body := text(r, "text")
	l := browserLang(r)
	switch {
	case f.Status != "open":
		t.showFlag(w, r, s, f, http.StatusConflict, form{Action: "review", Error: l.get("review.already")}, "")
		return
	case f.Level == "acute" && body == "":
		t.showFlag(w, r, s, f, http.StatusUnprocessableEntity, form{Action: "review", Error: l.get("review.neednote")}, "")
		return
	case utf8.RuneCountInString(body) > maxNoteChars:
		t.showFlag(w, r, s, f, http.StatusUnprocessableEntity, form{Action: "review", Text: body, Error: l.getf("note.long", maxNoteChars)}, "")
		return
	}
	err := t.review(r.Context(), s.Coach.ID, f, body)
	if errors.Is(err, errAlreadyReviewed) {
		f.Status = "reviewed"
		t.showFlag(w, r, s, f, http.StatusConflict, form{Action: "review", Error: l.get("review.already")}, "")
		return
	}
	if err != nil {
		t.fail(w, r, s, "review", err)
		return
	}
	t.log.Info("coach: flag reviewed", slog.Int64("coach_id", s.Coach.ID), slog.Int64("flag_id", f.ID))
	http.Redirect(w, r, fmt.Sprintf("/flags/%d?ok=review", f.ID), http.StatusSeeOther)
}

// errGone means the person was deleted, or withdrew consent, or the flag is
// gone, between the page and the message.
var errGone = errors.New("coach: person or flag is gone")

// messageSubmit writes to the person through the bot: one turn on the
// person's key that queues the message (marked as coming from the coach, in
// the person's language), records it in the transcript as "coach" and
// audits it. The form's nonce names the turn's input, so a form sent twice
// sends once.
func (t *Team) messageSubmit(w http.ResponseWriter, r *http.Request, s *session) {
	f, ok := t.visibleFlag(w, r, s)
	if !ok {
		return
	}
	body := text(r, "text")
	l := browserLang(r)
	switch {
	case body == "":
		t.showFlag(w, r, s, f, http.StatusUnprocessableEntity, form{Action: "message", Error: l.get("msg.empty")}, "")
		return
	case utf8.RuneCountInString(body) > maxMessageChars:
		t.showFlag(w, r, s, f, http.StatusUnprocessableEntity, form{Action: "message", Text: body, Error: l.getf("msg.long", maxMessageChars)}, "")
		return
	}
	nonce := r.PostForm.Get("nonce")
	if _, err := b64.DecodeString(nonce); err != nil || len(nonce) < 16 || len(nonce) > 64 {
		t.renderStatus(w, r, s, http.StatusBadRequest, "forbidden")
		return
	}
	key := storage.PersonKey{Channel: f.Channel, ExternalID: f.ExternalID}
	dup, err := t.db.Turn(r.Context(), key, "coach:"+nonce, func(tx *storage.Tx) error {
		p := tx.Person()
		if tx.New() || p.ID != f.PersonID || p.ConsentAt == nil {
			return errGone // rolls back: a deleted person is not created again
		}
		var one int
		if err := tx.QueryRow(`SELECT 1 FROM flags WHERE id = $1 AND person_id = $2`, f.ID, f.PersonID).Scan(&one); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return errGone
			}
			return err
		}
		msg := texts(p.Lang).get("person.prefix") + "\n\n" + body
		payload, err := json.Marshal(conversation.Envelope{Text: msg})
		if err != nil {
			return err
		}
		tx.Enqueue(storage.Outgoing{Kind: conversation.KindMessage, Payload: payload, Priority: conversation.PriorityInteractive})
		tx.AddTranscript(storage.Entry{Direction: "coach", Kind: "message", Text: msg})
		return tx.Exec(r.Context(), sqlAudit, auditEntry{CoachID: s.Coach.ID, Action: actMessage, FlagID: f.ID, PersonID: f.PersonID}.args(tx.Now())...)
	})
	switch {
	case errors.Is(err, errGone):
		t.renderStatus(w, r, s, http.StatusNotFound, "gone")
		return
	case err != nil:
		t.fail(w, r, s, "message", err)
		return
	case dup:
		http.Redirect(w, r, fmt.Sprintf("/flags/%d?ok=dup#message", f.ID), http.StatusSeeOther)
		return
	}
	t.notify()
	t.log.Info("coach: message to a person queued", slog.Int64("coach_id", s.Coach.ID), slog.Int64("flag_id", f.ID))
	http.Redirect(w, r, fmt.Sprintf("/flags/%d?ok=message#message", f.ID), http.StatusSeeOther)
}
