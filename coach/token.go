package coach

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// keys are derived from dashboard.signing_key, one per use, so that a value
// signed for one purpose is never accepted for another.
type keys struct {
	link []byte // signs login links
	csrf []byte // derives CSRF tokens from the session (or login) secret
}

func deriveKeys(secret []byte) keys {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	return keys{link: derive("stilstaan coach login link v1"), csrf: derive("stilstaan coach csrf v1")}
}

// b64 decodes strictly: one token has exactly one spelling.
var b64 = base64.RawURLEncoding.Strict()

// A login link token is base64url(payload) "." base64url(HMAC(payload)),
// where the payload is the coach id, the expiry (Unix seconds) and 16 random
// bytes. The signature binds the link to the coach and the time; the
// database keeps a hash of the whole token so that it is used only once.
const (
	linkNonceSize   = 16
	linkPayloadSize = 8 + 8 + linkNonceSize
)

// linkClaims is what a verified login link says.
type linkClaims struct {
	CoachID int64
	Expires time.Time
}

// errBadLink is a login link that is malformed or whose signature does not
// match (tampered, or signed with another key).
var errBadLink = errors.New("coach: login link is not valid")

// newLinkToken makes a login link token for a coach.
func (k keys) newLinkToken(coachID int64, expires time.Time) (string, error) {
	payload := make([]byte, linkPayloadSize)
	binary.BigEndian.PutUint64(payload[0:8], uint64(coachID))
	binary.BigEndian.PutUint64(payload[8:16], uint64(expires.Unix()))
	if _, err := rand.Read(payload[16:]); err != nil {
		return "", fmt.Errorf("coach: new login link: %w", err)
	}
	return b64.EncodeToString(payload) + "." + b64.EncodeToString(k.signLink(payload)), nil
}

func (k keys) signLink(payload []byte) []byte {
	m := hmac.New(sha256.New, k.link)
	m.Write(payload)
	return m.Sum(nil)
}

// parseLinkToken checks a token's form and signature and returns what it
// says. It does not check the expiry or whether it was used.
func (k keys) parseLinkToken(tok string) (linkClaims, error) {
	p, s, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 200 {
		return linkClaims{}, errBadLink
	}
	payload, err1 := b64.DecodeString(p)
	sig, err2 := b64.DecodeString(s)
	if err1 != nil || err2 != nil || len(payload) != linkPayloadSize {
		return linkClaims{}, errBadLink
	}
	if !hmac.Equal(sig, k.signLink(payload)) {
		return linkClaims{}, errBadLink
	}
	return linkClaims{
		CoachID: int64(binary.BigEndian.Uint64(payload[0:8])),
		Expires: time.Unix(int64(binary.BigEndian.Uint64(payload[8:16])), 0),
	}, nil
}

// csrfToken derives the CSRF token of a secret (a session token, or the
// login form's cookie) for a purpose. Nothing needs storing: the server
// derives it again to check a form.
func (k keys) csrfToken(purpose, secret string) string {
	m := hmac.New(sha256.New, k.csrf)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(secret))
	return b64.EncodeToString(m.Sum(nil))
}

// checkCSRF compares a submitted token with the expected one in constant
// time. An empty token never matches.
func (k keys) checkCSRF(purpose, secret, got string) bool {
	if secret == "" || got == "" {
		return false
	}
	return hmac.Equal([]byte(k.csrfToken(purpose, secret)), []byte(got))
}

// hashToken is what the database keeps of a token.
func hashToken(tok string) []byte {
	sum := sha256.Sum256([]byte(tok))
	return sum[:]
}

// randomToken returns n random bytes, base64url encoded.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("coach: random token: %w", err)
	}
	return b64.EncodeToString(b), nil
}
