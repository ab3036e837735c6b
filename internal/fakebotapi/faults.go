package fakebotapi

import (
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Fault is an injected failure. The zero Fault does nothing; build one with
// the constructors below and adjust the fields if needed.
//
// Without AfterProcessing the fault replaces the request: the server waits
// Delay, then drops the connection (Drop) or answers Status, or, when neither
// is set, handles the request normally after the delay. With AfterProcessing
// the request takes effect first (the message is sent), and only then does
// the answer wait, drop or turn into Status: the "Telegram sent it but the
// client never heard" case that makes retries send duplicates.
type Fault struct {
	Status          int           // HTTP status and error_code to answer, 0 for none
	Description     string        // error description; a Telegram-like default when empty
	RetryAfter      int           // parameters.retry_after for a 429
	Delay           time.Duration // wait before answering; ends early when the client gives up
	Drop            bool          // close the connection without an answer
	AfterProcessing bool          // apply the request before the fault
}

// TooManyRequests answers 429 with parameters.retry_after.
func TooManyRequests(retryAfter int) Fault {
	return Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter}
}

// ServerError answers 500 {"ok":false,"error_code":500,...}.
func ServerError() Fault { return Fault{Status: http.StatusInternalServerError} }

// BadGateway answers 502 with the HTML page Telegram's nginx front serves, so
// a client sees a body that is not JSON, as in production.
func BadGateway() Fault { return Fault{Status: http.StatusBadGateway} }

// BadRequest answers 400 "Bad Request: <description>".
func BadRequest(description string) Fault {
	return Fault{Status: http.StatusBadRequest, Description: description}
}

// Forbidden answers 403 "Forbidden: bot was blocked by the user".
func Forbidden() Fault { return Fault{Status: http.StatusForbidden} }

// Slow handles the request normally after d, or not at all if the client
// gives up first.
func Slow(d time.Duration) Fault { return Fault{Delay: d} }

// Drop closes the connection without handling the request.
func Drop() Fault { return Fault{Drop: true} }

// LostResponse handles the request (the message is sent) and then closes the
// connection without an answer.
func LostResponse() Fault { return Fault{Drop: true, AfterProcessing: true} }

const badGatewayPage = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
	"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"

// reply is the answer the fault gives (for a Status fault).
func (f *Fault) reply() reply {
	switch f.Status {
	case http.StatusTooManyRequests:
		d := f.Description
		if d == "" {
			d = "Too Many Requests: retry after " + strconv.Itoa(f.RetryAfter)
		}
		return errReplyRetry(f.Status, d, f.RetryAfter)
	case http.StatusBadGateway:
		if f.Description == "" {
			return reply{status: f.Status, body: []byte(badGatewayPage), desc: "Bad Gateway", html: true}
		}
	case http.StatusBadRequest:
		d := f.Description
		if !strings.HasPrefix(d, "Bad Request") {
			d = "Bad Request: " + d
		}
		return errReply(f.Status, d)
	case http.StatusForbidden:
		if f.Description == "" {
			return errReply(f.Status, "Forbidden: bot was blocked by the user")
		}
	}
	d := f.Description
	if d == "" {
		d = http.StatusText(f.Status)
	}
	return errReply(f.Status, d)
}

// FailNext makes the next n calls of method (canonical or any case; "*" for
// any method) fail with f. Calls to FailNext queue up in order; a queued
// fault for the method itself is used before a "*" one.
func (s *Server) FailNext(method string, n int, f Fault) {
	key := "*"
	if method != "*" {
		key = canonicalMethod(method)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failNext[key] = append(s.failNext[key], f)
	}
}

// SetFault installs a function asked about every request that no FailNext
// fault claimed; it returns the fault to apply, or nil. attempt counts
// identical requests (same method, parameters and file names) starting at 1,
// so "fail the first two attempts of every message" is
// `if method == "sendMessage" && attempt <= 2`. The function runs without the
// server's lock and may run concurrently. nil removes it.
func (s *Server) SetFault(fn func(method string, chatID int64, attempt int) *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultFn = fn
}

// ClearFaults drops queued FailNext faults, the SetFault function and
// EnforceLimits.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = map[string][]Fault{}
	s.faultFn = nil
	s.perChatLimit, s.globalLimit = 0, 0
}

// EnforceLimits answers sendMessage, sendPhoto and sendDocument with 429
// (retry_after 1) once a chat got perChatPerSec sends, or all chats together
// got globalPerSec sends, within the current clock second. Telegram's limits
// are about 1 per chat and 30 overall. 0 turns a limit off.
func (s *Server) EnforceLimits(perChatPerSec, globalPerSec int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perChatLimit, s.globalLimit = max(perChatPerSec, 0), max(globalPerSec, 0)
}

// pickFault finds the call's chat and attempt number and the fault to apply.
func (s *Server) pickFault(call *Call) *Fault {
	fp := fingerprint(call)
	s.mu.Lock()
	call.ChatID = s.callChatLocked(call)
	s.attempts[fp]++
	call.Attempt = s.attempts[fp]
	var f *Fault
	for _, key := range []string{call.Method, "*"} {
		if q := s.failNext[key]; len(q) > 0 {
			ff := q[0]
			f = &ff
			if len(q) == 1 {
				delete(s.failNext, key)
			} else {
				s.failNext[key] = q[1:]
			}
			break
		}
	}
	fn := s.faultFn
	s.mu.Unlock()
	if f == nil && fn != nil {
		if ff := fn(call.Method, call.ChatID, call.Attempt); ff != nil {
			cp := *ff
			f = &cp
		}
	}
	if f != nil && *f == (Fault{}) {
		return nil
	}
	call.Fault = f
	return f
}

// callChatLocked is the chat a call is about.
func (s *Server) callChatLocked(call *Call) int64 {
	if call.Method == "answerCallbackQuery" {
		return s.callbacks[call.Params["callback_query_id"]]
	}
	id, err := strconv.ParseInt(strings.TrimSpace(call.Params["chat_id"]), 10, 64)
	if err != nil {
		return 0
	}
	return id
}

// fingerprint identifies identical requests, so a retry can be told apart
// from a new message.
func fingerprint(call *Call) uint64 {
	h := fnv.New64a()
	write := func(s string) {
		_, _ = h.Write([]byte(s))
		_, _ = h.Write([]byte{0})
	}
	write(call.Method)
	keys := make([]string, 0, len(call.Params))
	for k := range call.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		write(k)
		write(call.Params[k])
	}
	fileKeys := make([]string, 0, len(call.Files))
	for k := range call.Files {
		fileKeys = append(fileKeys, k)
	}
	slices.Sort(fileKeys)
	for _, k := range fileKeys {
		write(k)
		write(call.Files[k].Name)
		write(strconv.Itoa(len(call.Files[k].Data)))
	}
	return h.Sum64()
}

// admitLocked applies EnforceLimits to a send to chat c.
func (s *Server) admitLocked(c *chat, now time.Time) *reply {
	sec := now.Unix()
	if c.rateSec != sec {
		c.rateSec, c.rateCount = sec, 0
	}
	if s.globalSec != sec {
		s.globalSec, s.globalCount = sec, 0
	}
	if (s.perChatLimit > 0 && c.rateCount >= s.perChatLimit) ||
		(s.globalLimit > 0 && s.globalCount >= s.globalLimit) {
		r := retryReply(1)
		r.limited = true
		return &r
	}
	return nil
}

// countSendLocked adds an accepted send to the rate accounting (after
// admitLocked moved the windows to the current second).
func (s *Server) countSendLocked(c *chat) {
	c.rateCount++
	s.globalCount++
	s.perSecond[c.rateSec]++
	s.stats.MaxChatPerSecond = max(s.stats.MaxChatPerSecond, c.rateCount)
	s.stats.MaxGlobalPerSecond = max(s.stats.MaxGlobalPerSecond, s.globalCount)
}
