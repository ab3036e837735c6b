package fakebotapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Kind says what a SentMessage records.
type Kind string

// The kinds of SentMessage.
const (
	KindMessage        Kind = "message"         // sendMessage
	KindPhoto          Kind = "photo"           // sendPhoto
	KindDocument       Kind = "document"        // sendDocument
	KindEditText       Kind = "edit_text"       // editMessageText
	KindEditMarkup     Kind = "edit_markup"     // editMessageReplyMarkup
	KindDelete         Kind = "delete"          // deleteMessage
	KindChatAction     Kind = "chat_action"     // sendChatAction
	KindCallbackAnswer Kind = "callback_answer" // answerCallbackQuery
	// KindIncoming is a message a person wrote; only Current returns it.
	KindIncoming Kind = "incoming"
)

// Button is one inline keyboard button.
type Button struct {
	Text         string
	CallbackData string
	URL          string
}

// File is an uploaded file (Data, Name) or a reference to one (Ref: a file_id
// or URL the bot sent instead of bytes).
type File struct {
	Field       string // form field: "photo" or "document"
	Name        string // file name of the upload
	ContentType string // Content-Type of the upload part, if the client set one
	Data        []byte
	Ref         string
	ID          string // file_id the fake server gave it
}

// SentMessage is one thing the bot did in a chat, as it was sent.
type SentMessage struct {
	Kind      Kind
	ChatID    int64
	MessageID int    // the new message, or the one edited or deleted; 0 for chat actions and callback answers
	Text      string // text, caption, or the callback answer's text
	ParseMode string
	// Buttons is the inline keyboard (nil when there is none).
	Buttons [][]Button
	// Keyboard is a reply keyboard's button texts; RemoveKeyboard is set for
	// reply_markup {"remove_keyboard":true}.
	Keyboard       [][]string
	RemoveKeyboard bool
	ReplyMarkup    string // reply_markup as the client sent it
	ReplyTo        int    // message id from reply_parameters
	Action         string // chat action, e.g. "typing"
	// CallbackQueryID and ShowAlert are set for callback answers.
	CallbackQueryID string
	ShowAlert       bool
	File            *File
	Time            time.Time
	// Edited and Deleted are only set by Current and LastMessage, which show a
	// message as it is now.
	Edited  bool
	Deleted bool
}

// Call is one request the server received.
type Call struct {
	Seq    int64
	Method string // canonical name, e.g. "sendMessage"
	ChatID int64  // chat_id, or the chat of the pressed button for answerCallbackQuery; 0 if none
	// Params holds every parameter as text; JSON values (reply_markup,
	// allowed_updates) stay JSON. Treat Params and Files as read-only.
	Params map[string]string
	Files  map[string]*File
	Time   time.Time
	// Attempt counts identical requests (same method, parameters and file
	// names) so far, starting at 1: a client's retry has Attempt 2.
	Attempt     int
	Status      int    // HTTP status answered; 0 when the connection was dropped or the client left first
	Description string // the error description when the answer was not ok
	Fault       *Fault // the injected fault, if any
	Canceled    bool   // the client gave up before the answer was written
}

// Stats are running totals since the server started; ResetRecords keeps them.
type Stats struct {
	Calls        int // requests with the right token
	Unauthorized int // requests with a wrong token
	Sent         int // messages accepted by sendMessage, sendPhoto and sendDocument
	Edits        int // accepted editMessageText and editMessageReplyMarkup
	Deletes      int // accepted deleteMessage
	Retries429   int // 429 answers, injected or from EnforceLimits
	Limited      int // of those, answered by EnforceLimits
	ServerErrors int // 5xx answers
	Forbidden    int // 403 answers
	BadRequests  int // 400 answers
	Conflicts    int // 409 answers
	Dropped      int // connections closed without an answer
	Canceled     int // requests the client gave up on before the answer
	// Duplicates counts accepted sends whose chat, kind, text (caption),
	// file name and reply-to equal an earlier accepted send.
	Duplicates int
	// MaxChatPerSecond and MaxGlobalPerSecond are the most sends accepted for
	// one chat, and overall, within one clock second.
	MaxChatPerSecond   int
	MaxGlobalPerSecond int
	UpdatesQueued      int // updates made by SendText, PressButton, SendUpdate, ...
	UpdatesConfirmed   int // updates confirmed by a getUpdates offset or a 2xx webhook answer
	WebhookAttempts    int // POSTs to the webhook
	WebhookFailures    int // POSTs that failed (non-2xx or transport error)
	WebhookDelivered   int // updates the webhook accepted
	WebhookGaveUp      int // updates dropped after the last failed attempt
}

// SecondCount is how many sends were accepted within one clock second.
type SecondCount struct {
	Second time.Time
	Count  int
}

type dupKey struct {
	chat    int64
	kind    Kind
	text    string
	file    string
	replyTo int
}

// ErrClosed is returned by the wait helpers once the server is closed.
var ErrClosed = errors.New("fakebotapi: server closed")

// commit records a call outside any lock.
func (s *Server) commit(call *Call, rep reply, f *Fault) {
	s.mu.Lock()
	s.recordLocked(call, rep, f)
	s.mu.Unlock()
}

func (s *Server) commitCanceled(call *Call) {
	s.mu.Lock()
	call.Canceled = true
	s.stats.Canceled++
	s.recordLocked(call, reply{}, nil)
	s.mu.Unlock()
}

// recordLocked appends the call with the answer the client will see: an
// injected fault overrides the normal reply.
func (s *Server) recordLocked(call *Call, rep reply, f *Fault) {
	status, desc := rep.status, rep.desc
	limited := rep.limited
	switch {
	case f != nil && f.Drop:
		status, desc, limited = 0, "", false
		s.stats.Dropped++
	case f != nil && f.Status != 0:
		fr := f.reply()
		status, desc, limited = fr.status, fr.desc, false
	}
	call.Status, call.Description = status, desc
	s.seq++
	call.Seq = s.seq
	if status == http.StatusUnauthorized { // only a wrong token is answered 401
		s.stats.Unauthorized++
	} else {
		s.stats.Calls++
	}
	switch {
	case status == http.StatusTooManyRequests:
		s.stats.Retries429++
		if limited {
			s.stats.Limited++
		}
	case status >= 500:
		s.stats.ServerErrors++
	case status == http.StatusForbidden:
		s.stats.Forbidden++
	case status == http.StatusBadRequest:
		s.stats.BadRequests++
	case status == http.StatusConflict:
		s.stats.Conflicts++
	}
	s.calls = append(s.calls, call)
	s.byMethod[call.Method] = append(s.byMethod[call.Method], call)
	s.changed.broadcast()
}

// Calls returns copies of the recorded calls of one method (canonical name,
// e.g. "sendMessage"), oldest first; method "" returns all calls.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.calls
	if method != "" {
		src = s.byMethod[canonicalMethod(method)]
	}
	out := make([]Call, len(src))
	for i, c := range src {
		out[i] = *c
	}
	return out
}

// CallCount is len(Calls(method)) without the copy.
func (s *Server) CallCount(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if method == "" {
		return len(s.calls)
	}
	return len(s.byMethod[canonicalMethod(method)])
}

// Sent returns everything the bot did in a chat, oldest first: messages,
// photos, documents, edits, deletes, chat actions and callback answers.
func (s *Server) Sent(chatID int64) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	return slices.Clone(c.sent)
}

// Messages returns the messages, photos and documents the bot sent to a chat,
// as sent, oldest first.
func (s *Server) Messages(chatID int64) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(chatID)
}

func (s *Server) messagesLocked(chatID int64) []SentMessage {
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	out := make([]SentMessage, 0, c.outgoing)
	for _, m := range c.sent {
		if isOutgoing(m.Kind) {
			out = append(out, m)
		}
	}
	return out
}

func isOutgoing(k Kind) bool { return k == KindMessage || k == KindPhoto || k == KindDocument }

// LastMessage returns the newest message, photo or document the bot sent to a
// chat, as it is now (with later edits applied, Deleted set if deleted).
func (s *Server) LastMessage(chatID int64) (SentMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil || c.lastOutgoing == 0 {
		return SentMessage{}, false
	}
	st := c.msgs[c.lastOutgoing]
	if st == nil {
		return SentMessage{}, false
	}
	return st.m, true
}

// Current returns a message as it is now: text and keyboard after edits, and
// Deleted once deleted. It also knows the messages people wrote (Kind
// "incoming").
func (s *Server) Current(chatID int64, messageID int) (SentMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return SentMessage{}, false
	}
	st := c.msgs[messageID]
	if st == nil {
		return SentMessage{}, false
	}
	return st.m, true
}

// Chats lists the chats the server knows, in ascending order.
func (s *Server) Chats() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int64, 0, len(s.chats))
	for id := range s.chats {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Stats returns the running totals.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// SendsPerSecond returns how many sends were accepted in each clock second
// that had any, in time order.
func (s *Server) SendsPerSecond() []SecondCount {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SecondCount, 0, len(s.perSecond))
	for sec, n := range s.perSecond {
		out = append(out, SecondCount{Second: time.Unix(sec, 0), Count: n})
	}
	slices.SortFunc(out, func(a, b SecondCount) int { return a.Second.Compare(b.Second) })
	return out
}

// ResetRecords forgets recorded calls, the per-chat Sent logs, duplicate and
// attempt bookkeeping and SendsPerSecond, so a long soak run does not grow
// without bound. Stats, chats, message ids, the current state of messages
// (for edits and Current), updates and faults are kept.
func (s *Server) ResetRecords() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
	s.byMethod = map[string][]*Call{}
	s.dups = map[dupKey]int{}
	s.attempts = map[uint64]int{}
	s.perSecond = map[int64]int{}
	for _, c := range s.chats {
		c.sent = nil
		c.outgoing = 0
	}
	s.changed.broadcast()
}

// WaitFor blocks until cond reports true, the context ends, or the server is
// closed. cond runs without the server's lock (it may call any method) once
// at the start and again after every recorded call or state change.
func (s *Server) WaitFor(ctx context.Context, cond func(*Server) bool) error {
	for {
		s.mu.Lock()
		closed := s.closed
		ch := s.changed.wait()
		s.mu.Unlock()
		if cond(s) {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("fakebotapi: wait: %w", ctx.Err())
		}
	}
}

// WaitMessages waits until the bot has sent at least n messages, photos or
// documents to the chat (counted since the last ResetRecords) and returns
// them all.
func (s *Server) WaitMessages(ctx context.Context, chatID int64, n int) ([]SentMessage, error) {
	err := s.WaitFor(ctx, func(s *Server) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		c := s.chats[chatID]
		return c != nil && c.outgoing >= n
	})
	if err != nil {
		return s.Messages(chatID), fmt.Errorf("fakebotapi: wait for %d messages in chat %d: %w", n, chatID, err)
	}
	return s.Messages(chatID), nil
}

// WaitCalls waits until at least n calls of a method were recorded.
func (s *Server) WaitCalls(ctx context.Context, method string, n int) error {
	err := s.WaitFor(ctx, func(s *Server) bool { return s.CallCount(method) >= n })
	if err != nil {
		return fmt.Errorf("fakebotapi: wait for %d %s calls: %w", n, method, err)
	}
	return nil
}
