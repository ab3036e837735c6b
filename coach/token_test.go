package coach

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLinkToken(t *testing.T) {
	k := deriveKeys([]byte("a signing key"))
	expires := time.Date(2026, 11, 20, 9, 10, 0, 0, time.UTC)
	tok, err := k.newLinkToken(9001, expires)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.parseLinkToken(tok)
	if err != nil || got.CoachID != 9001 || !got.Expires.Equal(expires) {
		t.Fatalf("parse = %+v, %v", got, err)
	}
	again, err := k.newLinkToken(9001, expires)
	if err != nil || again == tok {
		t.Errorf("two links for the same coach and time are the same")
	}

	// Every single-character change is refused (base64 is decoded
	// strictly, so not even the unused bits of the last character may
	// change).
	for i := range len(tok) {
		for _, c := range []byte{'A', 'z', '0', '_', '.'} {
			if tok[i] == c {
				continue
			}
			bad := tok[:i] + string(c) + tok[i+1:]
			if _, err := k.parseLinkToken(bad); err == nil {
				t.Errorf("changed character %d to %q: accepted", i, c)
			}
		}
	}

	tests := []struct {
		name, token string
	}{
		{"empty", ""},
		{"no dot", strings.ReplaceAll(tok, ".", "")},
		{"two dots", tok + ".x"},
		{"short payload", tok[5:]},
		{"long", strings.Repeat("A", 300) + "." + strings.Repeat("B", 43)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := k.parseLinkToken(tt.token); !errors.Is(err, errBadLink) {
				t.Errorf("parse = %v, want errBadLink", err)
			}
		})
	}

	other := deriveKeys([]byte("another signing key"))
	if _, err := other.parseLinkToken(tok); !errors.Is(err, errBadLink) {
		t.Errorf("a link signed with another key was accepted")
	}
}

func TestCSRFToken(t *testing.T) {
	k := deriveKeys([]byte("a signing key"))
	tok := k.csrfToken(csrfSession, "session-a")
	tests := []struct {
		name, purpose, secret, got string
		ok                         bool
	}{
		{"right", csrfSession, "session-a", tok, true},
		{"other session", csrfSession, "session-b", tok, false},
		{"other purpose", csrfLogin, "session-a", tok, false},
		{"empty", csrfSession, "session-a", "", false},
		{"no secret", csrfSession, "", k.csrfToken(csrfSession, ""), false},
		{"prefix", csrfSession, "session-a", tok[:10], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := k.checkCSRF(tt.purpose, tt.secret, tt.got); got != tt.ok {
				t.Errorf("checkCSRF = %v, want %v", got, tt.ok)
			}
		})
	}
	if deriveKeys([]byte("another key")).csrfToken(csrfSession, "session-a") == tok {
		t.Errorf("CSRF tokens do not depend on the signing key")
	}
}
