// Package coach is the coach review of Stilstaan: what the configured coaches
// (Telegram user ids) can see of flagged conversations and do about them.
//
// In Telegram a coach's private chat with the bot answers /flags (the open
// flags, acute first) and /dashboard (a login link); for anybody else those
// commands get the engine's ordinary "unknown command" answer. The web
// dashboard (Handler) lists flags, shows the transcript around a flag, keeps
// notes, marks flags reviewed and lets a coach write to the person through
// the bot. Coaches see only flagged conversations of people who consented to
// coach review, under a pseudonym, never a name.
//
// Security, in short: a login link is HMAC-signed with dashboard.signing_key,
// bound to one coach, valid ten minutes and used once (a hash of it is kept
// and consumed atomically); it opens a session whose cookie is HttpOnly,
// SameSite=Strict and Secure on https, stored (hashed) in PostgreSQL; every
// POST carries a per-session CSRF token; a coach removed from the config is
// refused at once, session or not; and everything a coach opens or does is
// written to the coach_audit table before the answer goes out.
package coach

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

// Coach is a member of the coaching team, known by Telegram user id. A
// coach's private chat with the bot has the same id.
type Coach struct {
	ID   int64
	Name string
}

// Config configures the coach review.
type Config struct {
	// Coaches who may use /flags, /dashboard and the dashboard. Whoever is
	// not in this list is refused, even with a session made earlier.
	Coaches []Coach
	// PublicURL is the dashboard's address as coaches reach it (links in
	// Telegram start with it). An https URL makes the cookies Secure.
	PublicURL string
	// SigningKey signs login links and CSRF tokens. The dashboard refuses to
	// start without one; /dashboard then says the dashboard is not set up.
	SigningKey []byte
	// SessionTTL is how long a login lasts (default 8 hours).
	SessionTTL time.Duration
	// LinkTTL is how long a login link may wait before it is used (default
	// 10 minutes).
	LinkTTL time.Duration
	// Pseudonym gives the name coaches see for a person id; the same one the
	// alerts use (care.Pseudonym). Required.
	Pseudonym func(personID int64) string
	// Location is the time zone times are shown in (default Europe/Amsterdam).
	Location *time.Location
}

// ErrNoSigningKey is returned by Handler when Config.SigningKey is empty.
var ErrNoSigningKey = errors.New("coach: dashboard.signing_key is not set: the dashboard cannot sign login links without it " +
	"(set it to a long random secret, e.g. `openssl rand -base64 32`, in the config file or STILSTAAN_DASHBOARD_SIGNING_KEY)")

// Team is the coach review: the Telegram commands and the web dashboard. It
// keeps no state of its own beyond its settings; everything is in the
// database, so any number of replicas may serve it.
type Team struct {
	cfg     Config
	db      *storage.DB
	now     func() time.Time
	log     *slog.Logger
	notify  func()
	lib     *dialogs.Library
	coaches map[int64]Coach
	keys    keys
}

// Option configures New.
type Option func(*Team)

// WithClock sets the clock (default: the store's clock).
func WithClock(now func() time.Time) Option { return func(t *Team) { t.now = now } }

// WithLogger sets the logger (default slog.Default()). Nothing a person or a
// coach wrote, and no token, is ever logged.
func WithLogger(l *slog.Logger) Option { return func(t *Team) { t.log = l } }

// WithNotify sets a function called after a coach's message was queued (it
// wakes message delivery, as conversation.WithNotify does for turns).
func WithNotify(f func()) Option { return func(t *Team) { t.notify = f } }

// WithLibrary lets the dashboard show exercise titles instead of their ids.
func WithLibrary(lib *dialogs.Library) Option { return func(t *Team) { t.lib = lib } }

// New returns the coach review for db.
func New(db *storage.DB, cfg Config, opts ...Option) (*Team, error) {
	if cfg.Pseudonym == nil {
		return nil, errors.New("coach: new: Config.Pseudonym is required")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.LinkTTL <= 0 {
		cfg.LinkTTL = 10 * time.Minute
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Europe/Amsterdam")
		if err != nil {
			loc = time.UTC
		}
		cfg.Location = loc
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("coach: new: public URL %q is not an http(s) URL", cfg.PublicURL)
		}
		cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	}
	t := &Team{cfg: cfg, db: db, now: db.Now, log: slog.Default(), notify: func() {}, coaches: map[int64]Coach{}}
	for _, c := range cfg.Coaches {
		if c.ID <= 0 {
			return nil, fmt.Errorf("coach: new: coach id %d is not a Telegram user id", c.ID)
		}
		if c.Name == "" {
			c.Name = fmt.Sprintf("coach %d", c.ID)
		}
		t.coaches[c.ID] = c
	}
	for _, o := range opts {
		o(t)
	}
	if len(cfg.SigningKey) > 0 {
		t.keys = deriveKeys(cfg.SigningKey)
	}
	return t, nil
}

// Coach returns the configured coach with the Telegram user id, if any.
func (t *Team) Coach(id int64) (Coach, bool) {
	c, ok := t.coaches[id]
	return c, ok
}

// secure reports whether cookies must be Secure (the dashboard is served
// over https).
func (t *Team) secure() bool { return strings.HasPrefix(t.cfg.PublicURL, "https://") }

// link returns the public URL of a dashboard path.
func (t *Team) link(path string) string { return t.cfg.PublicURL + path }

// coachName is the display name of a coach id, also of one no longer in
// the config (for old notes).
func (t *Team) coachName(id int64) string {
	if c, ok := t.coaches[id]; ok {
		return c.Name
	}
	return fmt.Sprintf("coach %d", id)
}
