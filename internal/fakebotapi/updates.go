package fakebotapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"
)

type updateState uint8

const (
	stateQueued updateState = iota
	stateInflight
	stateDone
)

// update is one queued update, kept as the exact JSON the bot receives.
type update struct {
	id    int64
	typ   string // "message", "callback_query", ...
	chat  int64  // chat the update belongs to, 0 if none; webhook delivery keeps each chat in order
	raw   []byte
	state updateState
}

const (
	errConflictWebhook = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	errConflictPoll    = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)

// defaultExcluded are the update types Telegram leaves out unless they are
// asked for in allowed_updates.
var defaultExcluded = map[string]bool{"chat_member": true, "message_reaction": true, "message_reaction_count": true}

func (s *Server) allowedLocked(typ string) bool {
	if s.allowed == nil {
		return !defaultExcluded[typ]
	}
	return s.allowed[typ]
}

func (s *Server) setAllowedLocked(list []string) {
	if len(list) == 0 {
		s.allowed = nil
		return
	}
	s.allowed = map[string]bool{}
	for _, t := range list {
		s.allowed[t] = true
	}
}

// enqueueLocked adds an update holding payload under the field typ.
func (s *Server) enqueueLocked(typ string, chatID int64, payload any) int64 {
	raw, err := json.Marshal(payload)
	if err != nil {
		// Only the server's own types reach here, and they always encode.
		panic(fmt.Sprintf("fakebotapi: encode %s update: %v", typ, err))
	}
	return s.enqueueRawLocked(map[string]json.RawMessage{typ: raw}, typ, chatID)
}

func (s *Server) enqueueRawLocked(obj map[string]json.RawMessage, typ string, chatID int64) int64 {
	s.nextUpdateID++
	id := s.nextUpdateID
	obj["update_id"] = json.RawMessage(strconv.FormatInt(id, 10))
	raw, err := json.Marshal(obj)
	if err != nil {
		panic(fmt.Sprintf("fakebotapi: encode %s update: %v", typ, err))
	}
	s.queue = append(s.queue, &update{id: id, typ: typ, chat: chatID, raw: raw})
	s.stats.UpdatesQueued++
	s.updSig.broadcast()
	s.changed.broadcast()
	return id
}

// confirmLocked drops the updates a getUpdates offset confirms: ids below a
// positive offset, or all but the last -offset updates for a negative one.
func (s *Server) confirmLocked(offset int64) {
	n := 0
	switch {
	case offset > 0:
		for n < len(s.queue) && s.queue[n].id < offset {
			n++
		}
	case offset < 0:
		n = max(len(s.queue)-int(-offset), 0)
	}
	s.dropHeadLocked(n)
}

func (s *Server) dropHeadLocked(n int) {
	for i := range n {
		if s.queue[i].state != stateDone {
			s.stats.UpdatesConfirmed++
		}
		s.queue[i] = nil
	}
	s.queue = s.queue[n:]
	if n > 0 {
		s.changed.broadcast()
	}
}

// trimDoneLocked drops delivered updates from the head of the queue.
func (s *Server) trimDoneLocked() {
	n := 0
	for n < len(s.queue) && s.queue[n].state == stateDone {
		s.queue[n] = nil
		n++
	}
	s.queue = s.queue[n:]
}

func (s *Server) collectLocked(limit int) []*update {
	var out []*update
	for _, u := range s.queue {
		if len(out) == limit {
			break
		}
		if u.state == stateDone || !s.allowedLocked(u.typ) {
			continue
		}
		out = append(out, u)
	}
	return out
}

// getUpdates is a real long poll: it confirms by offset, then holds the
// request until an update is there or timeout seconds passed. A newer
// getUpdates ends an older waiting one with 409, as Telegram does.
func (s *Server) getUpdates(ctx context.Context, call *Call, f *Fault) reply {
	p := call.Params
	fail := func(rep reply) reply {
		s.commit(call, rep, f)
		return rep
	}
	offset, _, err := intParam(p, "offset")
	if err != nil {
		return fail(badRequest(err.Error()))
	}
	limit64, hasLimit, err := intParam(p, "limit")
	if err != nil {
		return fail(badRequest(err.Error()))
	}
	limit := 100
	if hasLimit {
		limit = int(min(max(limit64, 1), 100))
	}
	timeout, _, err := intParam(p, "timeout")
	if err != nil {
		return fail(badRequest(err.Error()))
	}
	var allowed []string
	_, setAllowed := p["allowed_updates"]
	if setAllowed && strings.TrimSpace(p["allowed_updates"]) != "" {
		if allowed, err = stringList(p["allowed_updates"]); err != nil {
			return fail(badRequest("can't parse allowed_updates JSON array"))
		}
	}

	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	s.mu.Lock()
	if s.hook != nil {
		rep := errReply(http.StatusConflict, errConflictWebhook)
		s.recordLocked(call, rep, f)
		s.mu.Unlock()
		return rep
	}
	s.pollGen++
	gen := s.pollGen
	s.updSig.broadcast() // an older waiting poll ends with a conflict
	if setAllowed {
		s.setAllowedLocked(allowed)
	}
	s.confirmLocked(offset)
	var ups []*update
	expired := false
	for {
		if s.closed {
			break
		}
		if s.pollGen != gen {
			rep := errReply(http.StatusConflict, errConflictPoll)
			s.recordLocked(call, rep, f)
			s.mu.Unlock()
			return rep
		}
		if s.hook != nil {
			rep := errReply(http.StatusConflict, errConflictWebhook)
			s.recordLocked(call, rep, f)
			s.mu.Unlock()
			return rep
		}
		ups = s.collectLocked(limit)
		if len(ups) > 0 || timeout <= 0 || expired {
			break
		}
		if timer == nil {
			timer = time.NewTimer(time.Duration(timeout) * time.Second)
		}
		ch := s.updSig.wait()
		s.polling++
		s.changed.broadcast()
		s.mu.Unlock()
		var gone bool
		select {
		case <-ch:
		case <-timer.C:
			expired = true // one last look, then answer
		case <-ctx.Done():
			gone = true
		case <-s.closing:
		}
		s.mu.Lock()
		s.polling--
		s.changed.broadcast()
		if gone {
			call.Canceled = true
			s.stats.Canceled++
			s.recordLocked(call, reply{}, nil)
			s.mu.Unlock()
			return reply{}
		}
	}
	var b bytes.Buffer
	b.WriteString(`{"ok":true,"result":[`)
	for i, u := range ups {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(u.raw)
	}
	b.WriteString("]}")
	rep := reply{status: http.StatusOK, body: b.Bytes()}
	s.recordLocked(call, rep, f)
	s.mu.Unlock()
	return rep
}

// PendingUpdates is the number of updates not yet confirmed (by offset) or
// delivered (by webhook).
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pendingLocked()
}

func (s *Server) pendingLocked() int {
	n := 0
	for _, u := range s.queue {
		if u.state != stateDone {
			n++
		}
	}
	return n
}

// Polling is the number of getUpdates requests waiting right now; a test can
// WaitFor it to know the bot is polling.
func (s *Server) Polling() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polling
}

// SetUser sets who writes in a chat: the first name and language_code of the
// "from" user of the updates the server makes for it. The default is
// first name "Tester", language "nl", user id = chat id (for groups, the
// absolute value).
func (s *Server) SetUser(chatID int64, firstName, languageCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatLocked(chatID)
	c.user.FirstName = firstName
	c.user.LanguageCode = languageCode
}

// User returns who writes in a chat (see SetUser).
func (s *Server) User(chatID int64) models.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chatLocked(chatID).user
}

// incomingLocked registers a message a person wrote and returns its state.
func (s *Server) incomingLocked(c *chat, text string) *msgState {
	c.nextMsgID++
	now := s.now()
	st := &msgState{
		m:    SentMessage{Kind: KindIncoming, ChatID: c.id, MessageID: c.nextMsgID, Text: text, Time: now},
		date: now.Unix(),
	}
	c.msgs[st.m.MessageID] = st
	return st
}

// SendText makes the chat's person write text, and returns the update id.
func (s *Server) SendText(chatID int64, text string) int64 {
	return s.sendIncoming(chatID, text, nil)
}

// SendCommand makes the chat's person send a command such as "start",
// "/start" or "/start payload", with its bot_command entity, and returns the
// update id.
func (s *Server) SendCommand(chatID int64, command string) int64 {
	cmd := strings.TrimSpace(command)
	if !strings.HasPrefix(cmd, "/") {
		cmd = "/" + cmd
	}
	name, _, _ := strings.Cut(cmd, " ")
	ent := []models.MessageEntity{{
		Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: len(utf16.Encode([]rune(name))),
	}}
	return s.sendIncoming(chatID, cmd, ent)
}

func (s *Server) sendIncoming(chatID int64, text string, entities []models.MessageEntity) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatLocked(chatID)
	wm := s.wireLocked(c, s.incomingLocked(c, text))
	wm.Entities = entities
	return s.enqueueLocked("message", chatID, wm)
}

// UserMessage registers a message from the chat's person without sending it
// and returns it, with message_id, from, chat, date and text filled in, so a
// test can add a sticker, photo or reply and pass it to SendUpdate.
func (s *Server) UserMessage(chatID int64, text string) *models.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatLocked(chatID)
	st := s.incomingLocked(c, text)
	u := c.user
	return &models.Message{ID: st.m.MessageID, From: &u, Chat: c.object(), Date: int(st.date), Text: text}
}

type wireCallback struct {
	ID           string       `json:"id"`
	From         models.User  `json:"from"`
	Message      *wireMessage `json:"message,omitempty"`
	ChatInstance string       `json:"chat_instance"`
	Data         string       `json:"data,omitempty"`
}

// PressButton makes the chat's person press an inline button with callback
// data on a message, and returns the update id and the callback query id the
// bot answers with answerCallbackQuery. The update carries the message as it
// is now, keyboard included, when the server knows it.
func (s *Server) PressButton(chatID int64, messageID int, data string) (updateID int64, callbackID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pressLocked(s.chatLocked(chatID), messageID, data)
}

func (s *Server) pressLocked(c *chat, messageID int, data string) (int64, string) {
	s.nextCallback++
	id := strconv.FormatInt(4_000_000_000_000_000_000+s.nextCallback, 10)
	var msg *wireMessage
	if st := c.msgs[messageID]; st != nil {
		msg = s.wireLocked(c, st)
	} else {
		msg = &wireMessage{MessageID: messageID, Chat: c.object(), Date: s.now().Unix()}
	}
	s.callbacks[id] = c.id
	cq := wireCallback{ID: id, From: c.user, Message: msg, ChatInstance: strconv.FormatInt(c.id, 10), Data: data}
	return s.enqueueLocked("callback_query", c.id, cq), id
}

// ErrNoButton is returned by PressButtonText when no message shows the button.
var ErrNoButton = errors.New("fakebotapi: no such button")

// PressButtonText presses the callback button labelled text on the newest
// message of the bot in the chat that shows one (deleted messages and
// keyboards removed by edits do not count).
func (s *Server) PressButtonText(chatID int64, text string) (updateID int64, callbackID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatLocked(chatID)
	for id := c.nextMsgID; id > 0; id-- {
		st := c.msgs[id]
		if st == nil || !st.fromBot || st.m.Deleted {
			continue
		}
		for _, row := range st.m.Buttons {
			for _, b := range row {
				if b.Text == text && b.CallbackData != "" {
					u, cb := s.pressLocked(c, id, b.CallbackData)
					return u, cb, nil
				}
			}
		}
	}
	return 0, "", fmt.Errorf("fakebotapi: press %q in chat %d: %w", text, chatID, ErrNoButton)
}

type wireMember struct {
	Status    string      `json:"status"`
	User      models.User `json:"user"`
	UntilDate *int64      `json:"until_date,omitempty"`
}

type wireMemberUpdated struct {
	Chat models.Chat `json:"chat"`
	From models.User `json:"from"`
	Date int64       `json:"date"`
	Old  wireMember  `json:"old_chat_member"`
	New  wireMember  `json:"new_chat_member"`
}

// Block makes the chat's person block the bot: a my_chat_member update
// (member -> kicked) is queued, and from then on the bot's sends, edits and
// chat actions in the chat are answered 403 "Forbidden: bot was blocked by
// the user". It returns the update id.
func (s *Server) Block(chatID int64) int64 { return s.setBlocked(chatID, true) }

// Unblock undoes Block with a my_chat_member update (kicked -> member).
func (s *Server) Unblock(chatID int64) int64 { return s.setBlocked(chatID, false) }

func (s *Server) setBlocked(chatID int64, blocked bool) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatLocked(chatID)
	c.blocked = blocked
	var zero int64
	member := wireMember{Status: "member", User: s.cfg.bot}
	kicked := wireMember{Status: "kicked", User: s.cfg.bot, UntilDate: &zero}
	up := wireMemberUpdated{Chat: c.object(), From: c.user, Date: s.now().Unix(), Old: member, New: kicked}
	if !blocked {
		up.Old, up.New = kicked, member
	}
	s.changed.broadcast()
	return s.enqueueLocked("my_chat_member", chatID, up)
}

// SendUpdate queues any update: a models.Update (or pointer), or its JSON as
// []byte, json.RawMessage or string. The server gives it the next update_id,
// whatever it had. For a models.Update with a Message whose message_id or
// date is zero, the server fills them in (in place). Callback queries in the
// update can then be answered, and messages in it can be replied to.
func (s *Server) SendUpdate(u any) (int64, error) {
	switch v := u.(type) {
	case models.Update:
		return s.sendTyped(&v)
	case *models.Update:
		if v == nil {
			return 0, errors.New("fakebotapi: send update: nil update")
		}
		cp := *v
		return s.sendTyped(&cp)
	case []byte:
		return s.sendRaw(v)
	case json.RawMessage:
		return s.sendRaw(v)
	case string:
		return s.sendRaw([]byte(v))
	}
	return 0, fmt.Errorf("fakebotapi: send update: unsupported type %T", u)
}

func (s *Server) sendTyped(u *models.Update) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := u.Message; m != nil && m.Chat.ID != 0 {
		c := s.chatLocked(m.Chat.ID)
		if m.ID == 0 {
			c.nextMsgID++
			m.ID = c.nextMsgID
		}
		if m.Date == 0 {
			m.Date = int(s.now().Unix())
		}
	}
	raw, err := json.Marshal(u) // a pointer, so the library's pointer-receiver MarshalJSON methods run
	if err != nil {
		return 0, fmt.Errorf("fakebotapi: send update: %w", err)
	}
	return s.sendRawLocked(raw)
}

func (s *Server) sendRaw(raw []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sendRawLocked(raw)
}

// probe is the part of an update's payload the server looks at.
type probe struct {
	ID        json.RawMessage `json:"id"`
	MessageID int             `json:"message_id"`
	Text      string          `json:"text"`
	Chat      *struct {
		ID int64 `json:"id"`
	} `json:"chat"`
	Message *struct {
		Chat struct {
			ID int64 `json:"id"`
		} `json:"chat"`
	} `json:"message"`
	From *struct {
		ID int64 `json:"id"`
	} `json:"from"`
	User *struct {
		ID int64 `json:"id"`
	} `json:"user"`
}

func (s *Server) sendRawLocked(raw []byte) (int64, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return 0, fmt.Errorf("fakebotapi: send update: %w", err)
	}
	delete(obj, "update_id")
	for k, v := range obj {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(obj, k)
		}
	}
	if len(obj) != 1 {
		return 0, fmt.Errorf("fakebotapi: send update: want exactly one update field besides update_id, got %d", len(obj))
	}
	var typ string
	var body json.RawMessage
	for typ, body = range obj {
	}
	var pr probe
	_ = json.Unmarshal(body, &pr) // not every update type is an object with these fields
	var chatID int64
	switch {
	case pr.Chat != nil:
		chatID = pr.Chat.ID
	case pr.Message != nil:
		chatID = pr.Message.Chat.ID
	case pr.From != nil:
		chatID = pr.From.ID
	case pr.User != nil:
		chatID = pr.User.ID
	}
	switch typ {
	case "callback_query":
		var id string
		if json.Unmarshal(pr.ID, &id) == nil && id != "" {
			s.callbacks[id] = chatID
		}
	case "message", "channel_post", "business_message":
		if chatID != 0 && pr.MessageID > 0 {
			c := s.chatLocked(chatID)
			if c.msgs[pr.MessageID] == nil {
				now := s.now()
				c.msgs[pr.MessageID] = &msgState{
					m:    SentMessage{Kind: KindIncoming, ChatID: chatID, MessageID: pr.MessageID, Text: pr.Text, Time: now},
					date: now.Unix(),
				}
			}
			c.nextMsgID = max(c.nextMsgID, pr.MessageID)
		}
	}
	return s.enqueueRawLocked(obj, typ, chatID), nil
}
