package bot

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name, text, cmd, args string
		ok                    bool
	}{
		{name: "plain", text: "/start", cmd: "start", ok: true},
		{name: "upper case", text: "/HELP", cmd: "help", ok: true},
		{name: "with arguments", text: "/language   en ", cmd: "language", args: "en", ok: true},
		{name: "bot name stripped", text: "/skip@stilstaan_bot", cmd: "skip", ok: true},
		{name: "bot name and arguments", text: "/start@stilstaan_bot payload", cmd: "start", args: "payload", ok: true},
		{name: "newline separates", text: "/checkin\n21:00", cmd: "checkin", args: "21:00", ok: true},
		{name: "digits and underscore", text: "/mood_7", cmd: "mood_7", ok: true},
		{name: "not a command", text: "hallo /start"},
		{name: "a lone slash", text: "/"},
		{name: "a path", text: "/home/user is vol"},
		{name: "a smiley", text: "/-:"},
		{name: "too long", text: "/" + strings.Repeat("a", 33)},
		{name: "only a bot name", text: "/@stilstaan_bot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, args, ok := parseCommand(tt.text)
			if ok != tt.ok || cmd != tt.cmd || args != tt.args {
				t.Errorf("parseCommand(%q) = %q, %q, %v; want %q, %q, %v", tt.text, cmd, args, ok, tt.cmd, tt.args, tt.ok)
			}
		})
	}
}

func private(id int64) models.Chat { return models.Chat{ID: id, Type: models.ChatTypePrivate} }

func user(id int64, lang string) *models.User {
	return &models.User{ID: id, FirstName: "Sam", LanguageCode: lang}
}

func TestClassifyUpdate(t *testing.T) {
	long := strings.Repeat("ب", 4096)
	tricky := "ik\u200bvoel\u202e\u0000 iets\u0007"
	group := models.Chat{ID: -42, Type: models.ChatTypeGroup, Title: "vrienden"}
	member := func(status models.ChatMemberType) models.ChatMember {
		m := models.ChatMember{Type: status}
		switch status {
		case models.ChatMemberTypeMember:
			m.Member = &models.ChatMemberMember{}
		case models.ChatMemberTypeBanned:
			m.Banned = &models.ChatMemberBanned{}
		case models.ChatMemberTypeLeft:
			m.Left = &models.ChatMemberLeft{}
		case models.ChatMemberTypeAdministrator:
			m.Administrator = &models.ChatMemberAdministrator{}
		}
		return m
	}
	msg := func(m models.Message) *models.Update {
		if m.Chat.ID == 0 {
			m.Chat = private(7)
		}
		if m.From == nil {
			m.From = user(7, "en")
		}
		return &models.Update{ID: 100, Message: &m}
	}
	tests := []struct {
		name   string
		update *models.Update
		kind   string
		action action
		chat   int64
		input  dialogs.Input
		cbID   string
		active bool
	}{
		{name: "text", update: msg(models.Message{Text: "Het voelt zwaar"}), kind: kindText, action: actTurn, chat: 7,
			input: dialogs.Input{Kind: dialogs.InputText, Text: "Het voelt zwaar", LangHint: "en"}},
		{name: "long right-to-left text untouched", update: msg(models.Message{Text: long}), kind: kindText, action: actTurn, chat: 7,
			input: dialogs.Input{Kind: dialogs.InputText, Text: long, LangHint: "en"}},
		{name: "zero-width and control characters untouched", update: msg(models.Message{Text: tricky}), kind: kindText, action: actTurn, chat: 7,
			input: dialogs.Input{Kind: dialogs.InputText, Text: tricky, LangHint: "en"}},
		{name: "command", update: msg(models.Message{Text: "/start@stilstaan_bot"}), kind: kindCommand, action: actTurn, chat: 7,
			input: dialogs.Input{Kind: dialogs.InputCommand, Command: "start", LangHint: "en"}},
		{name: "sticker", update: msg(models.Message{Sticker: &models.Sticker{FileID: "s"}}), kind: kindUnsupported, action: actTurn, chat: 7,
			input: dialogs.Input{Kind: dialogs.InputUnsupported, Data: "sticker", LangHint: "en"}},
		{name: "photo with caption keeps it for the safety screen", update: msg(models.Message{Photo: []models.PhotoSize{{FileID: "p"}}, Caption: "kijk"}),
			kind: kindUnsupported, action: actTurn, chat: 7, input: dialogs.Input{Kind: dialogs.InputUnsupported, Text: "kijk", Data: "photo", LangHint: "en"}},
		{name: "voice", update: msg(models.Message{Voice: &models.Voice{FileID: "v"}}), kind: kindUnsupported, action: actTurn, chat: 7,
			input: dialogs.Input{Kind: dialogs.InputUnsupported, Data: "voice", LangHint: "en"}},
		{name: "animation is not a document", update: msg(models.Message{Animation: &models.Animation{}, Document: &models.Document{}}), kind: kindUnsupported, action: actTurn, chat: 7,
			input: dialogs.Input{Kind: dialogs.InputUnsupported, Data: "animation", LangHint: "en"}},
		{name: "location", update: msg(models.Message{Location: &models.Location{Latitude: 52, Longitude: 5}}), kind: kindUnsupported, action: actTurn, chat: 7,
			input: dialogs.Input{Kind: dialogs.InputUnsupported, Data: "location", LangHint: "en"}},
		{name: "contact", update: msg(models.Message{Contact: &models.Contact{PhoneNumber: "1"}}), kind: kindUnsupported, action: actTurn, chat: 7,
			input: dialogs.Input{Kind: dialogs.InputUnsupported, Data: "contact", LangHint: "en"}},
		{name: "service message", update: msg(models.Message{WriteAccessAllowed: &models.WriteAccessAllowed{}}), kind: kindOther, action: actIgnore, chat: 7},
		{name: "group message", update: msg(models.Message{Chat: group, Text: "hoi"}), kind: kindGroup, action: actGroup, chat: -42},
		{name: "edited message ignored", update: &models.Update{ID: 100, EditedMessage: &models.Message{Chat: private(7), Text: "x"}}, kind: kindEdited, action: actIgnore, chat: 7},
		{name: "button", update: &models.Update{ID: 100, CallbackQuery: &models.CallbackQuery{
			ID: "cb1", From: *user(7, "nl"), Data: "3.o:fear",
			Message: models.MaybeInaccessibleMessage{Message: &models.Message{ID: 5, Chat: private(7), Date: 1}},
		}}, kind: kindButton, action: actTurn, chat: 7, cbID: "cb1",
			input: dialogs.Input{Kind: dialogs.InputButton, Data: "3.o:fear", LangHint: "nl"}},
		{name: "button on an inaccessible message", update: &models.Update{ID: 100, CallbackQuery: &models.CallbackQuery{
			ID: "cb2", From: *user(7, "nl"), Data: "3.d",
			Message: models.MaybeInaccessibleMessage{InaccessibleMessage: &models.InaccessibleMessage{Chat: private(7)}},
		}}, kind: kindButton, action: actTurn, chat: 7, cbID: "cb2",
			input: dialogs.Input{Kind: dialogs.InputButton, Data: "3.d", LangHint: "nl"}},
		{name: "button without data is only answered", update: &models.Update{ID: 100, CallbackQuery: &models.CallbackQuery{
			ID: "cb3", From: *user(7, "nl"),
		}}, kind: kindButton, action: actIgnore, chat: 7, cbID: "cb3"},
		{name: "blocked", update: &models.Update{ID: 100, MyChatMember: &models.ChatMemberUpdated{
			Chat: private(7), NewChatMember: member(models.ChatMemberTypeBanned),
		}}, kind: kindMember, action: actActive, chat: 7, active: false},
		{name: "unblocked", update: &models.Update{ID: 100, MyChatMember: &models.ChatMemberUpdated{
			Chat: private(7), NewChatMember: member(models.ChatMemberTypeMember),
		}}, kind: kindMember, action: actActive, chat: 7, active: true},
		{name: "added to a group", update: &models.Update{ID: 100, MyChatMember: &models.ChatMemberUpdated{
			Chat: group, NewChatMember: member(models.ChatMemberTypeAdministrator),
		}}, kind: kindGroup, action: actGroup, chat: -42},
		{name: "removed from a group", update: &models.Update{ID: 100, MyChatMember: &models.ChatMemberUpdated{
			Chat: group, NewChatMember: member(models.ChatMemberTypeLeft),
		}}, kind: kindMember, action: actIgnore, chat: -42},
		{name: "unknown kind", update: &models.Update{ID: 100, Poll: &models.Poll{ID: "p"}}, kind: kindOther, action: actIgnore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := classify(tt.update)
			if ev.kind != tt.kind || ev.action != tt.action || ev.chatID != tt.chat || ev.callbackID != tt.cbID || ev.active != tt.active {
				t.Fatalf("classify = kind %q action %d chat %d callback %q active %v; want %q %d %d %q %v",
					ev.kind, ev.action, ev.chatID, ev.callbackID, ev.active, tt.kind, tt.action, tt.chat, tt.cbID, tt.active)
			}
			if tt.action == actTurn {
				if ev.in.Input != tt.input {
					t.Errorf("input = %+v, want %+v", ev.in.Input, tt.input)
				}
				if ev.in.Source != "tg:100" || ev.in.Channel != "telegram" || ev.in.ChatID != tt.chat {
					t.Errorf("incoming = %+v", ev.in)
				}
			}
		})
	}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		id, chat int64
		err      string
	}{
		{name: "message", raw: `{"update_id":5,"message":{"message_id":1,"date":1,"chat":{"id":77,"type":"private"},"text":"x"}}`, id: 5, chat: 77},
		{name: "callback", raw: `{"update_id":6,"callback_query":{"id":"1","from":{"id":77},"message":{"message_id":1,"date":0,"chat":{"id":77}},"data":"x"}}`, id: 6, chat: 77},
		{name: "inline callback", raw: `{"update_id":7,"callback_query":{"id":"1","from":{"id":78},"data":"x"}}`, id: 7, chat: 78},
		{name: "membership", raw: `{"update_id":8,"my_chat_member":{"chat":{"id":-9},"from":{"id":1},"date":1}}`, id: 8, chat: -9},
		{name: "no chat", raw: `{"update_id":9,"poll":{"id":"p"}}`, id: 9, chat: 0},
		{name: "a kind this version does not know", raw: `{"update_id":10,"future_thing":{"chat":{"id":3}}}`, id: 10, chat: 0},
		{name: "no id", raw: `{"message":{"chat":{"id":1}}}`, err: "no update_id"},
		{name: "not JSON", raw: `I feel <b>`, err: "invalid JSON"},
		{name: "wrong type", raw: `{"update_id":"x"}`, err: "wrong JSON type for update_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, chat, err := probe([]byte(tt.raw))
			if tt.err != "" {
				if err == nil || errorClass(err) != tt.err {
					t.Fatalf("probe error class = %v, want %q", err, tt.err)
				}
				if strings.Contains(errorClass(err), "feel") {
					t.Errorf("error class quotes the body: %q", errorClass(err))
				}
				return
			}
			if err != nil || id != tt.id || chat != tt.chat {
				t.Errorf("probe = %d, %d, %v; want %d, %d", id, chat, err, tt.id, tt.chat)
			}
		})
	}
}

// An update that fails to decode as a whole (here: a membership status this
// version does not know) is dropped, not retried for ever.
func TestDecodeUnknownMemberStatus(t *testing.T) {
	raw, _ := json.Marshal(map[string]any{"update_id": 3, "my_chat_member": map[string]any{
		"chat": map[string]any{"id": 7, "type": "private"}, "from": map[string]any{"id": 7}, "date": 1,
		"old_chat_member": map[string]any{"status": "member", "user": map[string]any{"id": 1}},
		"new_chat_member": map[string]any{"status": "something_new", "user": map[string]any{"id": 1}},
	}})
	if _, err := decode(3, raw); err == nil {
		t.Fatal("decode accepted an unknown member status")
	}
}

// An update whose content names another chat than the one the inbox filed
// (and locked) it under is dropped, never run in that other chat.
func TestProcessRefusesAnotherChat(t *testing.T) {
	reg := prometheus.NewRegistry()
	p := &processor{log: slog.New(slog.DiscardHandler), metrics: newReceiveMetrics(reg)}
	raw := []byte(`{"update_id":9,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"from":{"id":5},"text":"hallo"}}`)
	// svc is nil: running the turn would panic, and the apology with it.
	if err := p.process(context.Background(), storage.InboxItem{UpdateID: 9, ChatID: 7, Payload: raw}); err != nil {
		t.Fatal(err)
	}
	var m dto.Metric
	if err := p.metrics.updates.WithLabelValues(kindText, resultDropped).Write(&m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetCounter().GetValue(); got != 1 {
		t.Errorf("dropped texts = %v, want 1", got)
	}
}
