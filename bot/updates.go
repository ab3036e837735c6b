package bot

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode"

	"github.com/go-telegram/bot/models"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
)

// action says what to do with an update.
type action int

const (
	actIgnore action = iota // nothing to do (logged at debug)
	actTurn                 // run a conversation turn
	actActive               // the person blocked or unblocked the bot
	actGroup                // tell a group or channel, once, that the bot only talks in private
)

// Update kinds, the "kind" label of the metrics. The set is closed so the
// metrics stay small.
const (
	kindText        = "text"
	kindCommand     = "command"
	kindButton      = "button"
	kindUnsupported = "unsupported"
	kindMember      = "member"
	kindGroup       = "group"
	kindEdited      = "edited"
	kindOther       = "other"
	kindUndecodable = "undecodable"
	kindTimer       = "timer"
)

// event is an update translated for the conversation service. No library
// type leaves this file: the rest of the package sees only events.
type event struct {
	updateID int64
	kind     string
	action   action
	chatID   int64
	// in is the turn's input (actTurn); for actActive its Source names the
	// update.
	in conversation.Incoming
	// callbackID is the callback query to answer, whatever happens.
	callbackID string
	// active is the new state for actActive.
	active bool
	// why tells, for the debug log, why an update is ignored.
	why string
}

// source names an update for exactly-once processing.
func source(updateID int64) string { return "tg:" + strconv.FormatInt(updateID, 10) }

// errNoUpdateID is returned for a body without a positive update_id.
var errNoUpdateID = errors.New("bot: update has no update_id")

// chatProbe is the part of an update needed to file it in the inbox: its id
// and the chat whose order it belongs to. Decoding only this is cheap and
// cannot fail on the parts of an update this version does not know.
type chatProbe struct {
	UpdateID      int64         `json:"update_id"`
	Message       *probeMessage `json:"message"`
	EditedMessage *probeMessage `json:"edited_message"`
	ChannelPost   *probeMessage `json:"channel_post"`
	EditedChannel *probeMessage `json:"edited_channel_post"`
	CallbackQuery *struct {
		From    probeID       `json:"from"`
		Message *probeMessage `json:"message"`
	} `json:"callback_query"`
	MyChatMember *probeMessage `json:"my_chat_member"`
}

type probeID struct {
	ID int64 `json:"id"`
}

type probeMessage struct {
	Chat probeID `json:"chat"`
}

// probe reads an update's id and chat. The chat is 0 for updates that belong
// to no chat (they are processed in update_id order with each other).
//
// It looks at the parts of an update in the order classify does, so that a
// turn always runs in the chat its update is filed under, even for a forged
// update that holds several parts (FuzzDecodeUpdate checks this).
func probe(raw []byte) (updateID, chatID int64, err error) {
	var p chatProbe
	if err := json.Unmarshal(raw, &p); err != nil {
		return 0, 0, err
	}
	if p.UpdateID <= 0 {
		return 0, 0, errNoUpdateID
	}
	if cq := p.CallbackQuery; cq != nil && p.Message == nil {
		if cq.Message != nil {
			return p.UpdateID, cq.Message.Chat.ID, nil
		}
		// An inline message's button: in a private chat the chat id is the
		// user id.
		return p.UpdateID, cq.From.ID, nil
	}
	for _, m := range []*probeMessage{p.Message, p.MyChatMember, p.ChannelPost, p.EditedMessage, p.EditedChannel} {
		if m != nil {
			return p.UpdateID, m.Chat.ID, nil
		}
	}
	return p.UpdateID, 0, nil
}

// errorClass names what is wrong with an undecodable body without quoting
// it: decoding errors can contain the text they choked on.
func errorClass(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, errNoUpdateID):
		return "no update_id"
	case errors.As(err, &syntax):
		return "invalid JSON"
	case errors.As(err, &typ):
		return "wrong JSON type for " + typ.Field
	}
	return "undecodable update"
}

// decode parses an update as stored in the inbox.
func decode(updateID int64, raw []byte) (event, error) {
	var u models.Update
	if err := json.Unmarshal(raw, &u); err != nil {
		return event{updateID: updateID, kind: kindUndecodable}, err
	}
	if u.ID == 0 {
		u.ID = updateID
	}
	return classify(&u), nil
}

// classify translates an update.
func classify(u *models.Update) event {
	ev := event{updateID: u.ID, kind: kindOther}
	switch {
	case u.Message != nil:
		m := u.Message
		ev.chatID = m.Chat.ID
		if m.Chat.Type != models.ChatTypePrivate {
			return groupEvent(ev, m)
		}
		return privateMessage(ev, m)
	case u.CallbackQuery != nil:
		return callbackEvent(ev, u.CallbackQuery)
	case u.MyChatMember != nil:
		return memberEvent(ev, u.MyChatMember)
	case u.ChannelPost != nil:
		ev.chatID = u.ChannelPost.Chat.ID
		return groupEvent(ev, u.ChannelPost)
	case u.EditedMessage != nil, u.EditedChannelPost != nil, u.EditedBusinessMessage != nil:
		// Deliberately ignored: an exercise moves on with each answer, so
		// an edit of an earlier answer has nothing to change.
		ev.kind, ev.why = kindEdited, "edited message"
		if u.EditedMessage != nil {
			ev.chatID = u.EditedMessage.Chat.ID
		}
		return ev
	}
	ev.why = "update kind not handled"
	return ev
}

// turn fills in a turn for the chat's person.
func (ev event) turn(kind string, input dialogs.Input, from *models.User) event {
	ev.kind, ev.action = kind, actTurn
	if from != nil {
		input.LangHint = from.LanguageCode
	}
	ev.in = conversation.Incoming{
		Channel: conversation.ChannelTelegram,
		ChatID:  ev.chatID,
		Source:  source(ev.updateID),
		Input:   input,
	}
	return ev
}

// privateMessage handles a message in a private chat.
func privateMessage(ev event, m *models.Message) event {
	if m.From != nil && m.From.IsBot {
		ev.why = "message from a bot"
		return ev
	}
	if m.Text != "" {
		if cmd, args, ok := parseCommand(m.Text); ok {
			return ev.turn(kindCommand, dialogs.Input{Kind: dialogs.InputCommand, Command: cmd, Args: args}, m.From)
		}
		// The text goes to the engine untouched: long texts, right-to-left
		// and zero-width characters are for the engine and the safety
		// screen to judge.
		return ev.turn(kindText, dialogs.Input{Kind: dialogs.InputText, Text: m.Text}, m.From)
	}
	if what := mediaKind(m); what != "" {
		// Text carries the caption (usually empty): the exercise does not take
		// it as an answer, but the safety screen reads it. Data names the kind.
		return ev.turn(kindUnsupported, dialogs.Input{Kind: dialogs.InputUnsupported, Text: m.Caption, Data: what}, m.From)
	}
	ev.why = "service message"
	return ev
}

// mediaKind names what a message without text holds, "" for service messages
// (pinned messages, joins, payments, ...), which need no answer.
func mediaKind(m *models.Message) string {
	switch {
	case m.Sticker != nil:
		return "sticker"
	case m.Animation != nil: // before Document: an animation carries both
		return "animation"
	case len(m.Photo) > 0:
		return "photo"
	case m.Voice != nil:
		return "voice"
	case m.VideoNote != nil:
		return "video_note"
	case m.Video != nil:
		return "video"
	case m.Audio != nil:
		return "audio"
	case m.Document != nil:
		return "document"
	case m.Venue != nil, m.Location != nil:
		return "location"
	case m.Contact != nil:
		return "contact"
	case m.Poll != nil:
		return "poll"
	case m.Dice != nil:
		return "dice"
	case m.Story != nil:
		return "story"
	case m.PaidMedia != nil:
		return "paid_media"
	case m.Game != nil:
		return "game"
	case m.Checklist != nil:
		return "checklist"
	}
	return ""
}

// parseCommand splits "/name@bot args" into the lower-case name and the
// arguments. Anything else that starts with "/" (a path, a smiley) is text.
func parseCommand(text string) (name, args string, ok bool) {
	rest, found := strings.CutPrefix(text, "/")
	if !found {
		return "", "", false
	}
	head, args := rest, ""
	if i := strings.IndexFunc(rest, unicode.IsSpace); i >= 0 {
		head, args = rest[:i], strings.TrimSpace(rest[i:])
	}
	name, _, _ = strings.Cut(head, "@")
	if name == "" || len(name) > 32 {
		return "", "", false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return "", "", false
		}
	}
	return strings.ToLower(name), args, true
}

// callbackEvent handles a button press. It is always answered, even when it
// changes nothing, so the button stops spinning.
func callbackEvent(ev event, cq *models.CallbackQuery) event {
	ev.kind, ev.callbackID = kindButton, cq.ID
	private := true
	switch mm := cq.Message; {
	case mm.Message != nil:
		ev.chatID, private = mm.Message.Chat.ID, mm.Message.Chat.Type == models.ChatTypePrivate
	case mm.InaccessibleMessage != nil:
		ev.chatID, private = mm.InaccessibleMessage.Chat.ID, mm.InaccessibleMessage.Chat.Type == models.ChatTypePrivate
	default:
		ev.chatID = cq.From.ID
	}
	if !private || cq.Data == "" {
		ev.why = "button outside a private chat, or without data"
		return ev
	}
	return ev.turn(kindButton, dialogs.Input{Kind: dialogs.InputButton, Data: cq.Data}, &cq.From)
}

// memberEvent handles a change of the bot's membership in a chat: in a
// private chat that is the person blocking (kicked) or unblocking (member) the
// bot; in a group, being added is when to say the bot only works in private.
func memberEvent(ev event, cm *models.ChatMemberUpdated) event {
	ev.kind, ev.chatID = kindMember, cm.Chat.ID
	status := cm.NewChatMember.Type
	if cm.Chat.Type != models.ChatTypePrivate {
		if status == models.ChatMemberTypeMember || status == models.ChatMemberTypeAdministrator {
			ev.kind, ev.action = kindGroup, actGroup
			return ev
		}
		ev.why = "membership change in a group"
		return ev
	}
	switch status {
	case models.ChatMemberTypeBanned, models.ChatMemberTypeLeft:
		ev.active = false
	case models.ChatMemberTypeMember:
		ev.active = true
	default:
		ev.why = "membership change without meaning in a private chat"
		return ev
	}
	ev.action = actActive
	ev.in = conversation.Incoming{Channel: conversation.ChannelTelegram, ChatID: ev.chatID, Source: source(ev.updateID)}
	return ev
}

// groupEvent handles anything said in a group, supergroup or channel.
func groupEvent(ev event, m *models.Message) event {
	ev.kind = kindGroup
	if m.LeftChatMember != nil || m.MigrateToChatID != 0 {
		ev.why = "group service message"
		return ev
	}
	ev.action = actGroup
	return ev
}

// groupNotice is said once in a group or channel chat.
const groupNotice = "Hoi! Ik werk alleen in een privégesprek: stuur me daar een bericht, dan kunnen we in rust beginnen.\n\n" +
	"Hi! I only work in a private chat: message me there and we can begin in peace."
