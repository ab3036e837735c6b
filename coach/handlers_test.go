package coach_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/coach"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

const (
	loginAsk    = "Stuur de bot in Telegram /dashboard"
	crisisText  = "Ik wil dood."
	forbiddenNL = "Dit formulier is verlopen"
	notFoundNL  = "Deze melding bestaat niet"
)

// noData fails when a body shows anything of a person.
func noData(t *testing.T, body string, personID int64) {
	t.Helper()
	for _, s := range []string{pseudonym(personID), crisisText, "Hij antwoordt niet"} {
		if strings.Contains(body, s) {
			t.Errorf("the page shows %q", s)
		}
	}
}

func TestNoSessionGetsTheLoginPage(t *testing.T) {
	e := newEnv(t)
	p := e.person(101, true, "nl")
	f := e.flag(p, "acute", "suicide")
	id := fmt.Sprint(f)
	tests := []struct {
		name, method, path string
	}{
		{"root", http.MethodGet, "/"},
		{"flag list", http.MethodGet, "/flags"},
		{"flag list filtered", http.MethodGet, "/flags?level=acute"},
		{"conversation", http.MethodGet, "/flags/" + id},
		{"unknown page", http.MethodGet, "/people/" + id},
		{"note", http.MethodPost, "/flags/" + id + "/notes"},
		{"review", http.MethodPost, "/flags/" + id + "/review"},
		{"message", http.MethodPost, "/flags/" + id + "/message"},
		{"logout", http.MethodPost, "/logout"},
	}
	for _, cookie := range []string{"", "not-a-session"} {
		for _, tt := range tests {
			t.Run(tt.name+" cookie="+cookie, func(t *testing.T) {
				req, err := http.NewRequest(tt.method, e.srv.URL+tt.path, strings.NewReader("text=NOTE-TEXT&nonce=AAAAAAAAAAAAAAAAAAAAAA&csrf=x"))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if cookie != "" {
					req.AddCookie(&http.Cookie{Name: "stilstaan_session", Value: cookie})
				}
				res := e.browser().do(req)
				if tt.path == "/" {
					if res.Status != http.StatusSeeOther || res.Location != "/flags" {
						t.Fatalf("GET / = %d %q, want a redirect to /flags", res.Status, res.Location)
					}
					return
				}
				if res.Status != http.StatusUnauthorized {
					t.Errorf("status %d, want 401", res.Status)
				}
				want := loginAsk
				if cookie != "" {
					want = "Je sessie is verlopen"
				}
				if !strings.Contains(res.Body, want) {
					t.Errorf("the page does not say %q:\n%s", want, res.Body)
				}
				noData(t, res.Body, p)
			})
		}
	}
	if n := e.count(`SELECT count(*) FROM coach_notes`); n != 0 {
		t.Errorf("%d notes written without a session", n)
	}
	if n := e.count(`SELECT count(*) FROM outbox WHERE person_id = $1`, p); n != 0 {
		t.Errorf("%d messages queued without a session", n)
	}
	if n := e.count(`SELECT count(*) FROM flags WHERE status <> 'open'`); n != 0 {
		t.Errorf("a flag was reviewed without a session")
	}
}

// A link from another site (Telegram Web) arrives without the SameSite=Strict
// cookie: the answer reloads the page from this site, and shows no data.
func TestCrossSiteLinkReloads(t *testing.T) {
	e := newEnv(t)
	p := e.person(101, true, "nl")
	f := e.flag(p, "acute", "suicide")
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/flags/%d", e.srv.URL, f), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res := e.browser().do(req)
	if res.Status != http.StatusOK || !strings.Contains(res.Body, `<meta http-equiv="refresh" content="0">`) {
		t.Fatalf("status %d, body %s; want a page that reloads itself", res.Status, res.Body)
	}
	noData(t, res.Body, p)
	// A POST from another site gets no such help.
	req, _ = http.NewRequest(http.MethodPost, fmt.Sprintf("%s/flags/%d/notes", e.srv.URL, f), strings.NewReader("text=x"))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := e.browser().do(req); res.Status != http.StatusUnauthorized {
		t.Errorf("cross-site POST: status %d, want 401", res.Status)
	}
}

// tamper changes one character of the signature, or re-encodes the payload
// for another coach while keeping the signature.
func tamper(t *testing.T, linkPath, how string) string {
	t.Helper()
	tok := strings.TrimPrefix(linkPath, "/login/")
	payload, sig, ok := strings.Cut(tok, ".")
	if !ok {
		t.Fatalf("token %q has no signature", tok)
	}
	switch how {
	case "signature":
		c := byte('A')
		if sig[0] == 'A' {
			c = 'B'
		}
		sig = string(c) + sig[1:]
	case "payload":
		raw, err := base64.RawURLEncoding.DecodeString(payload)
		if err != nil {
			t.Fatal(err)
		}
		raw[7] ^= byte(anna ^ bram) // the last byte of the coach id: Anna becomes Bram
		payload = base64.RawURLEncoding.EncodeToString(raw)
	case "truncated":
		sig = sig[:len(sig)-4]
	}
	return "/login/" + payload + "." + sig
}

func TestLoginLinks(t *testing.T) {
	tests := []struct {
		name string
		// run gets a fresh env and returns the final answer.
		run      func(t *testing.T, e *env) response
		status   int
		says     string
		refusals []string // audit rows of refused logins
	}{
		{
			name:   "valid link opens a session",
			run:    func(t *testing.T, e *env) response { return e.browser().login(e.linkFor(anna)) },
			status: http.StatusSeeOther,
		},
		{
			name: "a link works once",
			run: func(t *testing.T, e *env) response {
				link := e.linkFor(anna)
				if res := e.browser().login(link); res.Status != http.StatusSeeOther {
					t.Fatalf("first use: %d", res.Status)
				}
				// Replay the spent token with a valid login form of another
				// link, so that only the database's single use can refuse it.
				b := e.browser()
				page := b.get(e.linkFor(anna))
				return b.post("/login", url.Values{"token": {strings.TrimPrefix(link, "/login/")}, "csrf": {loginCSRFRE.FindStringSubmatch(page.Body)[1]}})
			},
			status:   http.StatusForbidden,
			says:     "al gebruikt",
			refusals: []string{"login_refused 9001 - - used"},
		},
		{
			name: "a used link is refused when opened again",
			run: func(t *testing.T, e *env) response {
				link := e.linkFor(anna)
				if res := e.browser().login(link); res.Status != http.StatusSeeOther {
					t.Fatalf("first use: %d", res.Status)
				}
				return e.browser().get(link)
			},
			status: http.StatusForbidden,
			says:   "al gebruikt",
		},
		{
			name: "expired link, opened late",
			run: func(t *testing.T, e *env) response {
				link := e.linkFor(anna)
				e.clock.Add(10*time.Minute + time.Second)
				return e.browser().get(link)
			},
			status: http.StatusForbidden,
			says:   "verlopen",
		},
		{
			name: "expired link, form sent late",
			run: func(t *testing.T, e *env) response {
				b := e.browser()
				page := b.get(e.linkFor(anna))
				e.clock.Add(10*time.Minute + time.Second)
				return b.post("/login", url.Values{"token": {tokenRE.FindStringSubmatch(page.Body)[1]}, "csrf": {loginCSRFRE.FindStringSubmatch(page.Body)[1]}})
			},
			status:   http.StatusForbidden,
			says:     "verlopen",
			refusals: []string{"login_refused 9001 - - expired"},
		},
		{
			name:   "tampered signature",
			run:    func(t *testing.T, e *env) response { return e.browser().login(tamper(t, e.linkFor(anna), "signature")) },
			status: http.StatusForbidden,
			says:   "klopt niet",
		},
		{
			name:   "tampered payload (another coach)",
			run:    func(t *testing.T, e *env) response { return e.browser().login(tamper(t, e.linkFor(anna), "payload")) },
			status: http.StatusForbidden,
			says:   "klopt niet",
		},
		{
			name:   "truncated",
			run:    func(t *testing.T, e *env) response { return e.browser().login(tamper(t, e.linkFor(anna), "truncated")) },
			status: http.StatusForbidden,
			says:   "klopt niet",
		},
		{
			name:   "made up",
			run:    func(t *testing.T, e *env) response { return e.browser().login("/login/hello.world") },
			status: http.StatusForbidden,
			says:   "klopt niet",
		},
		{
			name: "signed but never issued",
			run: func(t *testing.T, e *env) response {
				// A valid signature whose hash is not in the database: the
				// turn that made it rolled back, or it was pruned.
				link := e.linkFor(anna)
				if _, err := e.db.Pool().Exec(e.ctx, `DELETE FROM coach_login_links`); err != nil {
					t.Fatal(err)
				}
				return e.browser().get(link)
			},
			status: http.StatusForbidden,
			says:   "klopt niet",
		},
		{
			name: "coach removed from the config after the link was sent",
			run: func(t *testing.T, e *env) response {
				link := e.linkFor(anna)
				cfg := baseConfig()
				cfg.Coaches = cfg.Coaches[1:]
				h, err := e.newTeam(cfg).Handler()
				if err != nil {
					t.Fatal(err)
				}
				e.srv.Config.Handler = h
				return e.browser().login(link)
			},
			status: http.StatusForbidden,
			says:   "niet (meer) in de lijst",
		},
		{
			name: "login form without its CSRF token",
			run: func(t *testing.T, e *env) response {
				link := e.linkFor(anna)
				b := e.browser()
				page := b.get(link)
				res := b.post("/login", url.Values{"token": {tokenRE.FindStringSubmatch(page.Body)[1]}})
				if res.Status != http.StatusForbidden {
					t.Fatalf("no CSRF: %d, want 403", res.Status)
				}
				// The link was not spent by the refused form.
				return e.browser().login(link)
			},
			status: http.StatusSeeOther,
		},
		{
			name: "login form with the CSRF token of another browser",
			run: func(t *testing.T, e *env) response {
				link := e.linkFor(anna)
				page := e.browser().get(link)
				return e.browser().post("/login", url.Values{"token": {tokenRE.FindStringSubmatch(page.Body)[1]}, "csrf": {loginCSRFRE.FindStringSubmatch(page.Body)[1]}})
			},
			status: http.StatusForbidden,
			says:   forbiddenNL,
		},
		{
			name: "a link preview does not spend the link",
			run: func(t *testing.T, e *env) response {
				link := e.linkFor(anna)
				for range 3 {
					if res := e.browser().get(link); res.Status != http.StatusOK {
						t.Fatalf("preview: %d", res.Status)
					}
				}
				return e.browser().login(link)
			},
			status: http.StatusSeeOther,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			p := e.person(101, true, "nl")
			e.flag(p, "acute", "suicide")
			res := tt.run(t, e)
			if res.Status != tt.status {
				t.Fatalf("status %d, want %d; body: %s", res.Status, tt.status, res.Body)
			}
			if tt.says != "" && !strings.Contains(res.Body, tt.says) {
				t.Errorf("the page does not say %q: %s", tt.says, res.Body)
			}
			if tt.status == http.StatusSeeOther {
				if res.Location != "/flags" || !strings.Contains(strings.Join(res.Header.Values("Set-Cookie"), ";"), "stilstaan_session=") {
					t.Errorf("login: location %q, cookies %q", res.Location, res.Header.Values("Set-Cookie"))
				}
			} else {
				noData(t, res.Body, p)
				if strings.Contains(strings.Join(res.Header.Values("Set-Cookie"), ";"), "stilstaan_session=") &&
					!strings.Contains(strings.Join(res.Header.Values("Set-Cookie"), ";"), "Max-Age=0") {
					t.Errorf("a refused login set a session cookie")
				}
			}
			var refused []string
			for _, a := range e.audit() {
				if strings.HasPrefix(a, "login_refused") {
					refused = append(refused, a)
				}
			}
			if tt.refusals != nil && !slices.Equal(refused, tt.refusals) {
				t.Errorf("refusals audited %q, want %q", refused, tt.refusals)
			}
		})
	}
}

// The database keeps a hash of a login link, never the link itself.
func TestLoginLinkStoredAsHash(t *testing.T) {
	e := newEnv(t)
	tok := strings.TrimPrefix(e.linkFor(anna), "/login/")
	var hash []byte
	var coachID int64
	if err := e.db.Pool().QueryRow(e.ctx, `SELECT token_hash, coach_id FROM coach_login_links`).Scan(&hash, &coachID); err != nil {
		t.Fatal(err)
	}
	if coachID != anna || len(hash) != 32 || strings.Contains(string(hash), tok) {
		t.Errorf("stored link: coach %d, hash of %d bytes", coachID, len(hash))
	}
	var expires time.Time
	if err := e.db.Pool().QueryRow(e.ctx, `SELECT expires_at FROM coach_login_links`).Scan(&expires); err != nil {
		t.Fatal(err)
	}
	if !expires.Equal(start.Add(10 * time.Minute)) {
		t.Errorf("link expires %v, want 10 minutes after %v", expires, start)
	}
}

func TestSessionCookie(t *testing.T) {
	tests := []struct {
		name, publicURL, cookie string
		secure                  bool
	}{
		{"http", "http://dashboard.test", "stilstaan_session", false},
		{"https", "https://dashboard.test", "__Host-stilstaan_session", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *coach.Config) { c.PublicURL = tt.publicURL })
			link := e.linkFor(anna)
			// By hand: a cookie jar does not send Secure cookies over http.
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := client.Get(e.srv.URL + link)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			login := cookieNamed(res.Cookies(), strings.Replace(tt.cookie, "session", "login", 1))
			if login == nil || !login.HttpOnly || login.SameSite != http.SameSiteStrictMode || login.Secure != tt.secure {
				t.Fatalf("login cookie %+v", login)
			}
			form := url.Values{"token": {tokenRE.FindStringSubmatch(string(body))[1]}, "csrf": {loginCSRFRE.FindStringSubmatch(string(body))[1]}}
			post, err := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			post.AddCookie(&http.Cookie{Name: login.Name, Value: login.Value})
			res, err = client.Do(post)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("login: %d", res.StatusCode)
			}
			sess := cookieNamed(res.Cookies(), tt.cookie)
			if sess == nil {
				t.Fatalf("no %s cookie in %q", tt.cookie, res.Header.Values("Set-Cookie"))
			}
			if !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Secure != tt.secure || sess.Path != "/" || sess.Domain != "" {
				t.Errorf("session cookie %+v", sess)
			}
			if sess.MaxAge != int((8 * time.Hour).Seconds()) {
				t.Errorf("session cookie Max-Age %d, want 8h", sess.MaxAge)
			}
			if len(sess.Value) < 40 {
				t.Errorf("session token of %d characters is too short", len(sess.Value))
			}
			if n := e.count(`SELECT count(*) FROM coach_sessions WHERE coach_id = $1 AND expires_at = $2`, anna, start.Add(8*time.Hour)); n != 1 {
				t.Errorf("%d sessions stored, want 1 expiring after session_ttl", n)
			}
			if n := e.count(`SELECT count(*) FROM coach_sessions WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, sess.Value); n != 1 {
				t.Errorf("the session is not stored by the hash of its token")
			}
		})
	}
}

func cookieNamed(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t)
	b := e.loggedIn(anna)
	e.clock.Add(8*time.Hour - time.Minute)
	if res := b.get("/flags"); res.Status != http.StatusOK {
		t.Fatalf("before the session ends: %d", res.Status)
	}
	e.clock.Add(2 * time.Minute)
	res := b.get("/flags")
	if res.Status != http.StatusUnauthorized || !strings.Contains(res.Body, "Je sessie is verlopen") {
		t.Errorf("after session_ttl: %d %s", res.Status, res.Body)
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	b := e.loggedIn(anna)
	res := b.postCSRF("/logout", nil)
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "Je bent uitgelogd") {
		t.Fatalf("logout: %d %s", res.Status, res.Body)
	}
	if n := e.count(`SELECT count(*) FROM coach_sessions`); n != 0 {
		t.Errorf("%d sessions left after logout", n)
	}
	if res := b.get("/flags"); res.Status != http.StatusUnauthorized {
		t.Errorf("after logout: %d", res.Status)
	}
}

// A coach removed from the config is refused even with a valid session, in
// the dashboard and in Telegram.
func TestRemovedCoachRefused(t *testing.T) {
	e := newEnv(t)
	p := e.person(101, true, "nl")
	f := e.flag(p, "acute", "suicide")
	b := e.loggedIn(anna)
	csrf := b.csrf

	cfg := baseConfig()
	cfg.Coaches = []coach.Coach{{ID: bram, Name: "Bram"}}
	team := e.newTeam(cfg)
	h, err := team.Handler()
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = h

	res := b.post(fmt.Sprintf("/flags/%d/notes", f), url.Values{"csrf": {csrf}, "text": {"NOTE-TEXT"}})
	if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "niet (meer) in de lijst") {
		t.Errorf("POST with the old session: %d %s", res.Status, res.Body)
	}
	noData(t, res.Body, p)
	if n := e.count(`SELECT count(*) FROM coach_notes`); n != 0 {
		t.Errorf("the removed coach wrote %d notes", n)
	}
	if n := e.count(`SELECT count(*) FROM coach_sessions WHERE coach_id = $1`, anna); n != 0 {
		t.Errorf("the removed coach's session is still there")
	}
	if res := b.get("/flags"); res.Status != http.StatusUnauthorized {
		t.Errorf("GET after the refusal: %d", res.Status)
	}
	if a := e.audit(); !slices.Contains(a, "refused_not_a_coach 9001 - - POST /flags/{id}/notes") {
		t.Errorf("the refusal is not audited: %q", a)
	}

	// In Telegram the removed coach is answered like anybody else.
	svc := e.serviceWith(team)
	for _, cmd := range []string{"flags", "dashboard"} {
		got := e.send(svc, anna, command(cmd))
		want := e.send(svc, 555, command("bestaatniet"))
		if !slices.Equal(got, want) {
			t.Errorf("/%s for a removed coach = %q, want the answer to an unknown command %q", cmd, got, want)
		}
	}
}

// command is a /command input.
func command(name string) dialogs.Input {
	return dialogs.Input{Kind: dialogs.InputCommand, Command: name, LangHint: "nl"}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	p := e.person(101, true, "nl")
	f := e.flag(p, "elevated", "distress")
	b := e.loggedIn(anna)
	other := e.loggedIn(bram)
	routes := []string{fmt.Sprintf("/flags/%d/notes", f), fmt.Sprintf("/flags/%d/review", f), fmt.Sprintf("/flags/%d/message", f), "/logout"}
	tokens := []struct {
		name, csrf string
		set        bool
	}{
		{"missing", "", false},
		{"empty", "", true},
		{"wrong", "bm90LXRoZS10b2tlbg", true},
		{"another session's", other.csrf, true},
		{"almost right", b.csrf[:len(b.csrf)-1] + "x", true},
	}
	for _, route := range routes {
		for _, tok := range tokens {
			t.Run(route+" "+tok.name, func(t *testing.T) {
				form := url.Values{"text": {"NOTE-TEXT MESSAGE-TEXT"}, "nonce": {"AAAAAAAAAAAAAAAAAAAAAA"}}
				if tok.set {
					form.Set("csrf", tok.csrf)
				}
				res := b.post(route, form)
				if res.Status != http.StatusForbidden || !strings.Contains(res.Body, forbiddenNL) {
					t.Errorf("status %d, want 403; body: %s", res.Status, res.Body)
				}
			})
		}
	}
	if n := e.count(`SELECT count(*) FROM coach_notes`); n != 0 {
		t.Errorf("%d notes written without a valid CSRF token", n)
	}
	if n := e.count(`SELECT count(*) FROM outbox WHERE person_id = $1`, p); n != 0 {
		t.Errorf("%d messages queued without a valid CSRF token", n)
	}
	if n := e.count(`SELECT count(*) FROM flags WHERE status = 'open'`); n != 1 {
		t.Errorf("the flag was reviewed without a valid CSRF token")
	}
	if n := e.count(`SELECT count(*) FROM coach_sessions`); n != 2 {
		t.Errorf("a logout without a valid CSRF token ended a session")
	}
	// The right token still works.
	if res := b.postCSRF(fmt.Sprintf("/flags/%d/notes", f), url.Values{"text": {"NOTE-TEXT"}}); res.Status != http.StatusSeeOther {
		t.Errorf("with the session's token: %d", res.Status)
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	consenting := e.person(101, true, "nl")
	visible := e.flag(consenting, "acute", "suicide")
	noConsent := e.person(102, false, "nl")
	hidden := e.flag(noConsent, "acute", "suicide")
	withdrawn := e.person(103, true, "nl")
	gone := e.flag(withdrawn, "elevated", "distress")
	// A person with a transcript but no flag at all.
	unflagged := e.person(104, true, "nl")
	b := e.loggedIn(anna)
	if _, err := e.db.Turn(e.ctx, storage.PersonKey{Channel: conversation.ChannelTelegram, ExternalID: 103}, "", func(tx *storage.Tx) error {
		tx.SetConsent(nil, "test")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	list := b.get("/flags")
	if !strings.Contains(list.Body, fmt.Sprintf(`href="/flags/%d"`, visible)) {
		t.Errorf("the list lacks the visible flag")
	}
	for _, id := range []int64{hidden, gone} {
		if strings.Contains(list.Body, fmt.Sprintf(`href="/flags/%d"`, id)) {
			t.Errorf("the list shows flag %d of a person without consent", id)
		}
	}
	for _, p := range []int64{noConsent, withdrawn, unflagged} {
		noData(t, list.Body, p)
	}
	paths := []struct{ name, path string }{
		{"no such flag", "/flags/999999"},
		{"person id instead of a flag", fmt.Sprintf("/flags/%d", unflagged+1000)},
		{"not a number", "/flags/abc"},
		{"zero", "/flags/0"},
		{"no consent", fmt.Sprintf("/flags/%d", hidden)},
		{"consent withdrawn", fmt.Sprintf("/flags/%d", gone)},
	}
	for _, tt := range paths {
		t.Run(tt.name, func(t *testing.T) {
			for _, suffix := range []string{"", "/notes", "/review", "/message"} {
				var res response
				if suffix == "" {
					res = b.get(tt.path)
				} else {
					res = b.postCSRF(tt.path+suffix, url.Values{"text": {"NOTE-TEXT"}, "nonce": {"AAAAAAAAAAAAAAAAAAAAAA"}})
				}
				if res.Status != http.StatusNotFound || !strings.Contains(res.Body, notFoundNL) {
					t.Errorf("%s%s: status %d, want 404", tt.path, suffix, res.Status)
				}
				for _, p := range []int64{noConsent, withdrawn} {
					noData(t, res.Body, p)
				}
			}
		})
	}
	if n := e.count(`SELECT count(*) FROM coach_notes`); n != 0 {
		t.Errorf("%d notes written on hidden flags", n)
	}
	if n := e.count(`SELECT count(*) FROM outbox o JOIN people p ON p.id = o.person_id WHERE p.external_id IN (102, 103)`); n != 0 {
		t.Errorf("%d messages queued for people without consent", n)
	}
	if n := e.count(`SELECT count(*) FROM flags WHERE status <> 'open'`); n != 0 {
		t.Errorf("a hidden flag was reviewed")
	}
}

// Two browsers that send the same link at the same moment: exactly one gets
// a session (the link is consumed by one atomic update).
func TestLoginLinkUsedOnceUnderRace(t *testing.T) {
	e := newEnv(t)
	for round := range 5 {
		link := e.linkFor(anna)
		type attempt struct {
			b    *browser
			form url.Values
		}
		var attempts []attempt
		for range 4 {
			b := e.browser()
			page := b.get(link)
			attempts = append(attempts, attempt{b, url.Values{
				"token": {tokenRE.FindStringSubmatch(page.Body)[1]}, "csrf": {loginCSRFRE.FindStringSubmatch(page.Body)[1]}}})
		}
		results := make(chan int, len(attempts))
		gate := make(chan struct{})
		for _, a := range attempts {
			go func() {
				<-gate
				req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(a.form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				res, err := a.b.client.Do(req)
				if err != nil {
					results <- 0
					return
				}
				res.Body.Close()
				results <- res.StatusCode
			}()
		}
		close(gate)
		ok := 0
		for range attempts {
			if <-results == http.StatusSeeOther {
				ok++
			}
		}
		if ok != 1 {
			t.Errorf("round %d: %d logins with one link, want 1", round, ok)
		}
	}
	if n := e.count(`SELECT count(*) FROM coach_sessions`); n != 5 {
		t.Errorf("%d sessions after 5 links, want 5", n)
	}
}
