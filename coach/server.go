package coach

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/style.css
var styleCSS []byte

// styleVersion changes with the stylesheet, so browsers never keep an old one.
var styleVersion = func() string {
	sum := sha256.Sum256(styleCSS)
	return hex.EncodeToString(sum[:4])
}()

// pages are the parsed templates, one set per page (layout + page).
var pages = func() map[string]*template.Template {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		panic(err) // the pattern is constant
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		out[base] = template.Must(template.New("layout.html").ParseFS(templateFiles, "templates/layout.html", n))
	}
	return out
}()

// Cookie names. On https the session cookie takes the __Host- prefix, which
// browsers accept only with Secure, Path=/ and no Domain.
const (
	sessionCookieName = "stilstaan_session"
	loginCookieName   = "stilstaan_login"
	csrfSession       = "session" // purpose of the CSRF token of a session
	csrfLogin         = "login"   // purpose of the CSRF token of the login form
	maxFormBytes      = 64 << 10
	minSigningKey     = 32 // characters of dashboard.signing_key
)

func (t *Team) sessionCookie() string {
	if t.secure() {
		return "__Host-" + sessionCookieName
	}
	return sessionCookieName
}

func (t *Team) loginCookie() string {
	if t.secure() {
		return "__Host-" + loginCookieName
	}
	return loginCookieName
}

// Handler returns the dashboard. It fails with ErrNoSigningKey when the
// config has no signing key: without it, login links could not be trusted.
//
// Routes (every page except the login pages needs a session; without one the
// answer is the login page, never data):
//
//	GET  /                     redirect to /flags
//	GET  /login/{token}        confirm a login link (does not use it up, so link previews do no harm)
//	POST /login                use the link: opens a session
//	POST /logout               end the session
//	GET  /flags                the flag list (?level=acute|elevated|low, ?status=open|reviewed)
//	GET  /flags/{id}           the conversation around a flag, notes, actions
//	GET  /flags/{id}/mood.png  the person's check-in moods (charts.RenderWeekly)
//	POST /flags/{id}/notes     add a note
//	POST /flags/{id}/review    mark reviewed (a note is required for acute flags)
//	POST /flags/{id}/message   write to the person through the bot
//	GET  /static/style.css     the stylesheet
func (t *Team) Handler() (http.Handler, error) {
	if len(t.cfg.SigningKey) == 0 {
		return nil, ErrNoSigningKey
	}
	if len(t.cfg.SigningKey) < minSigningKey {
		return nil, fmt.Errorf("coach: dashboard.signing_key is too short: use at least %d random characters (e.g. `openssl rand -base64 32`)", minSigningKey)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/flags", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /static/style.css", serveStyle)
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		t.renderLogin(w, r, http.StatusOK, "login.ask")
	})
	mux.HandleFunc("GET /login/{token}", t.loginForm)
	mux.HandleFunc("POST /login", t.loginSubmit)
	mux.HandleFunc("POST /logout", t.authed(t.logout))
	mux.HandleFunc("GET /flags", t.authed(t.flagList))
	mux.HandleFunc("GET /flags/{id}", t.authed(t.flagView))
	mux.HandleFunc("GET /flags/{id}/mood.png", t.authed(t.moodChart))
	mux.HandleFunc("POST /flags/{id}/notes", t.authed(t.noteSubmit))
	mux.HandleFunc("POST /flags/{id}/review", t.authed(t.reviewSubmit))
	mux.HandleFunc("POST /flags/{id}/message", t.authed(t.messageSubmit))
	mux.HandleFunc("/", t.authed(func(w http.ResponseWriter, r *http.Request, s *session) {
		t.renderStatus(w, r, s, http.StatusNotFound, "notfound")
	}))
	return headers(mux), nil
}

// headers sets what every answer needs: no caching of pages (they hold
// health data), a strict content security policy (no scripts at all), no
// framing, and no referrer (login links carry a token in their path).
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func serveStyle(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(styleCSS)
}

// pageFunc is a handler for a logged-in coach.
type pageFunc func(w http.ResponseWriter, r *http.Request, s *session)

// authed lets a request through only with a valid session of a coach who is
// still in the config, and, for a POST, with the session's CSRF token.
// Otherwise it answers with the login page (401), a refusal (403), and never
// with data.
func (t *Team) authed(h pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(t.sessionCookie())
		if err != nil || c.Value == "" {
			// A link followed from another site (a Telegram alert in Telegram
			// Web) arrives without the SameSite=Strict cookie. Reloading from
			// this page is a same-site navigation that carries it; if there
			// is no session, the reload finds the login page.
			if r.Method == http.MethodGet && r.Header.Get("Sec-Fetch-Site") == "cross-site" {
				t.renderReload(w, r)
				return
			}
			t.renderLogin(w, r, http.StatusUnauthorized, "login.ask")
			return
		}
		coachID, expires, err := t.lookupSession(r.Context(), c.Value)
		if errors.Is(err, errNoSession) {
			t.clearCookie(w, t.sessionCookie())
			t.renderLogin(w, r, http.StatusUnauthorized, "login.ended")
			return
		}
		if err != nil {
			t.fail(w, r, nil, "session", err)
			return
		}
		co, ok := t.coaches[coachID]
		if !ok {
			if err := t.endSession(r.Context(), c.Value); err != nil {
				t.fail(w, r, nil, "end session", err)
				return
			}
			if err := t.audit(r.Context(), auditEntry{CoachID: coachID, Action: actRefusedNoCoach, Detail: routeOf(r)}); err != nil {
				t.fail(w, r, nil, "audit", err)
				return
			}
			t.log.Warn("coach: session of a coach no longer in the config refused", slog.Int64("coach_id", coachID))
			t.clearCookie(w, t.sessionCookie())
			t.renderLogin(w, r, http.StatusForbidden, "login.notcoach")
			return
		}
		s := &session{Coach: co, Token: c.Value, Expires: expires}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				t.renderStatus(w, r, s, http.StatusBadRequest, "forbidden")
				return
			}
			if !t.keys.checkCSRF(csrfSession, s.Token, r.PostForm.Get("csrf")) {
				t.log.Warn("coach: POST without a valid CSRF token", slog.Int64("coach_id", co.ID), slog.String("route", routeOf(r)))
				t.renderStatus(w, r, s, http.StatusForbidden, "forbidden")
				return
			}
		}
		h(w, r, s)
	}
}

// routeOf is the request's route pattern (never a token from the path).
func routeOf(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return "unknown"
}

func (t *Team) setCookie(w http.ResponseWriter, name, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", Expires: expires, MaxAge: max(1, int(expires.Sub(t.now()).Seconds())),
		HttpOnly: true, Secure: t.secure(), SameSite: http.SameSiteStrictMode,
	})
}

func (t *Team) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: t.secure(), SameSite: http.SameSiteStrictMode})
}

// base is what every page shows.
type base struct {
	L       lang
	Title   string
	Coach   *Coach
	CSRF    string
	Style   string
	Message string // a notice (login refused, ...)
}

func (t *Team) base(r *http.Request, s *session, title string) base {
	b := base{L: browserLang(r), Style: "/static/style.css?v=" + styleVersion}
	b.Title = b.L.get(title)
	if s != nil {
		co := s.Coach
		b.Coach, b.CSRF = &co, t.keys.csrfToken(csrfSession, s.Token)
	}
	return b
}

// render writes a page. A template error is logged; the page is then cut
// short, which a test would catch.
func (t *Team) render(w http.ResponseWriter, status int, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages[page].Execute(w, data); err != nil {
		t.log.Error("coach: render", slog.String("page", page), slog.Any("error", err))
	}
}

// loginPage is the login page, or a login link's confirmation.
type loginPage struct {
	base
	Token     string // the link's token, in the confirmation form
	LoginCSRF string
	Name      string
}

func (t *Team) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	b := t.base(r, nil, "login.title")
	b.Message = b.L.get(msg)
	t.render(w, status, "login", loginPage{base: b})
}

// renderStatus shows a short message page (not found, forbidden, error).
func (t *Team) renderStatus(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	b := t.base(r, s, "title")
	b.Message = b.L.get(msg)
	t.render(w, status, "status", b)
}

// renderReload answers a cross-site GET without cookie with a page that
// loads the same address again, now as a same-site navigation.
func (t *Team) renderReload(w http.ResponseWriter, r *http.Request) {
	b := t.base(r, nil, "reload")
	t.render(w, http.StatusOK, "reload", b)
}

// fail logs an internal error (never what anybody wrote) and shows a plain
// error page.
func (t *Team) fail(w http.ResponseWriter, r *http.Request, s *session, op string, err error) {
	attrs := []any{slog.String("op", op), slog.String("route", routeOf(r)), slog.Any("error", err)}
	if s != nil {
		attrs = append(attrs, slog.Int64("coach_id", s.Coach.ID))
	}
	t.log.Error("coach: dashboard", attrs...)
	t.renderStatus(w, r, s, http.StatusInternalServerError, "error")
}

// T returns a text of the page's language (for templates).
func (l lang) T(key string) string { return l.get(key) }

// Tf formats a text of the page's language (for templates).
func (l lang) Tf(key string, args ...any) string { return l.getf(key, args...) }

// Code is the language code (for the html lang attribute).
func (l lang) Code() string { return string(l) }

// Months per language, for dates coaches read at a glance.
var months = map[lang][12]string{
	"nl": {"jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"},
	"en": {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
}

// when formats a time in the team's zone: "26 nov 14:03".
func (t *Team) when(l lang, at time.Time) string {
	at = at.In(t.cfg.Location)
	return fmt.Sprintf("%d %s %02d:%02d", at.Day(), months[l][at.Month()-1], at.Hour(), at.Minute())
}
