package fakebotapi

import (
	"bytes"
	"encoding/json"
	"image"
	_ "image/gif" // DecodeConfig for uploaded photos
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// chat is what the server knows about one chat.
type chat struct {
	id           int64
	user         models.User // the person writing in it
	title        string
	blocked      bool
	nextMsgID    int
	sent         []SentMessage
	outgoing     int // messages, photos and documents in sent
	lastOutgoing int // message id of the newest outgoing message
	msgs         map[int]*msgState
	rateSec      int64
	rateCount    int
}

// msgState is a message as it is now.
type msgState struct {
	m        SentMessage
	inline   string // canonical inline keyboard JSON, "" when none
	fromBot  bool
	date     int64
	editDate int64
}

func (s *Server) chatLocked(id int64) *chat {
	c := s.chats[id]
	if c == nil {
		uid := id
		if uid < 0 {
			uid = -uid % 1_000_000_000
		}
		c = &chat{
			id:    id,
			user:  models.User{ID: uid, FirstName: "Tester", LanguageCode: "nl"},
			title: "Test group",
			msgs:  map[int]*msgState{},
		}
		s.chats[id] = c
	}
	return c
}

// chatObject is the chat as Telegram describes it: negative ids are groups,
// below -10^12 supergroups.
func (c *chat) object() models.Chat {
	switch {
	case c.id > 0:
		return models.Chat{ID: c.id, Type: models.ChatTypePrivate, FirstName: c.user.FirstName, Username: c.user.Username}
	case c.id < -1_000_000_000_000:
		return models.Chat{ID: c.id, Type: models.ChatTypeSupergroup, Title: c.title}
	default:
		return models.Chat{ID: c.id, Type: models.ChatTypeGroup, Title: c.title}
	}
}

// wireMessage is a Message as the server writes it. reply_markup is kept as
// raw JSON so the inline keyboard comes back exactly as it was sent.
type wireMessage struct {
	MessageID   int                    `json:"message_id"`
	From        *models.User           `json:"from,omitempty"`
	Chat        models.Chat            `json:"chat"`
	Date        int64                  `json:"date"`
	EditDate    int64                  `json:"edit_date,omitempty"`
	Text        string                 `json:"text,omitempty"`
	Entities    []models.MessageEntity `json:"entities,omitempty"`
	Caption     string                 `json:"caption,omitempty"`
	Photo       []models.PhotoSize     `json:"photo,omitempty"`
	Document    *models.Document       `json:"document,omitempty"`
	ReplyMarkup json.RawMessage        `json:"reply_markup,omitempty"`
}

func (s *Server) wireLocked(c *chat, st *msgState) *wireMessage {
	wm := &wireMessage{MessageID: st.m.MessageID, Chat: c.object(), Date: st.date, EditDate: st.editDate}
	if st.fromBot {
		b := s.cfg.bot
		wm.From = &b
	} else {
		u := c.user
		wm.From = &u
	}
	switch st.m.Kind {
	case KindPhoto:
		wm.Caption = st.m.Text
		wm.Photo = photoSizes(st.m.File)
	case KindDocument:
		wm.Caption = st.m.Text
		wm.Document = document(st.m.File)
	default:
		wm.Text = st.m.Text
	}
	if st.inline != "" {
		wm.ReplyMarkup = json.RawMessage(st.inline)
	}
	return wm
}

func photoSizes(f *File) []models.PhotoSize {
	if f == nil {
		return nil
	}
	ps := models.PhotoSize{FileID: f.ID, FileUniqueID: "u" + f.ID, FileSize: len(f.Data)}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(f.Data)); err == nil {
		ps.Width, ps.Height = cfg.Width, cfg.Height
	}
	return []models.PhotoSize{ps}
}

func document(f *File) *models.Document {
	if f == nil {
		return nil
	}
	ct := f.ContentType
	if ct == "" || ct == "application/octet-stream" {
		ct = http.DetectContentType(f.Data)
	}
	return &models.Document{FileID: f.ID, FileUniqueID: "u" + f.ID, FileName: f.Name, MimeType: ct, FileSize: int64(len(f.Data))}
}

// applyLocked handles every method except getUpdates.
func (s *Server) applyLocked(call *Call) reply {
	if s.closed {
		return errReply(http.StatusServiceUnavailable, "Service Unavailable: the fake server is closing")
	}
	switch call.Method {
	case "getMe":
		return okReply(s.cfg.bot)
	case "sendMessage":
		return s.sendLocked(call, KindMessage)
	case "sendPhoto":
		return s.sendLocked(call, KindPhoto)
	case "sendDocument":
		return s.sendLocked(call, KindDocument)
	case "editMessageText":
		return s.editLocked(call, KindEditText)
	case "editMessageReplyMarkup":
		return s.editLocked(call, KindEditMarkup)
	case "deleteMessage":
		return s.deleteLocked(call)
	case "sendChatAction":
		return s.chatActionLocked(call)
	case "answerCallbackQuery":
		return s.answerCallbackLocked(call)
	case "setWebhook":
		return s.setWebhookLocked(call)
	case "deleteWebhook":
		return s.deleteWebhookLocked(call)
	case "getWebhookInfo":
		return s.webhookInfoLocked()
	case "setMyCommands":
		return s.setCommandsLocked(call)
	case "getMyCommands":
		cmds := s.commands[call.Params["language_code"]]
		if cmds == nil {
			cmds = []models.BotCommand{}
		}
		return okReply(cmds)
	case "deleteMyCommands":
		delete(s.commands, call.Params["language_code"])
		return okReply(true)
	}
	return errReply(http.StatusNotFound, "Not Found")
}

// targetChatLocked reads chat_id and refuses chats that blocked the bot.
func (s *Server) targetChatLocked(p map[string]string) (*chat, *reply) {
	id, rep := chatIDParam(p)
	if rep != nil {
		return nil, rep
	}
	c := s.chatLocked(id)
	if c.blocked {
		r := errReply(http.StatusForbidden, "Forbidden: bot was blocked by the user")
		return nil, &r
	}
	return c, nil
}

func (s *Server) sendLocked(call *Call, kind Kind) reply {
	p := call.Params
	c, rep := s.targetChatLocked(p)
	if rep != nil {
		return *rep
	}
	text := p["text"]
	var file *File
	switch kind {
	case KindMessage:
		if strings.TrimSpace(text) == "" {
			return badRequest("message text is empty")
		}
		if utf8.RuneCountInString(text) > 4096 {
			return badRequest("message is too long")
		}
	default:
		text = p["caption"]
		if utf8.RuneCountInString(text) > 1024 {
			return badRequest("message caption is too long")
		}
		field := string(kind)
		if f := call.Files[field]; f != nil {
			cp := *f
			file = &cp
		} else if ref := strings.TrimSpace(p[field]); strings.HasPrefix(ref, "attach://") {
			if f := call.Files[strings.TrimPrefix(ref, "attach://")]; f != nil {
				cp := *f
				file = &cp
			}
		} else if ref != "" {
			file = &File{Field: field, Ref: ref}
		}
		if file == nil {
			return badRequest("there is no " + field + " in the request")
		}
	}
	mk, rep := parseMarkup(p["reply_markup"])
	if rep != nil {
		return *rep
	}
	replyTo, allowMissing, rep := replyToParam(p)
	if rep != nil {
		return *rep
	}
	if replyTo != 0 && !allowMissing {
		if st := c.msgs[replyTo]; st == nil || st.m.Deleted {
			return badRequest("message to be replied not found")
		}
	}
	now := s.now()
	if rep := s.admitLocked(c, now); rep != nil {
		return *rep
	}
	s.countSendLocked(c)

	c.nextMsgID++
	if file != nil {
		s.nextFile++
		file.ID = "file-" + strconv.FormatInt(s.nextFile, 10)
	}
	m := SentMessage{
		Kind: kind, ChatID: c.id, MessageID: c.nextMsgID, Text: text, ParseMode: p["parse_mode"],
		Buttons: mk.buttons, Keyboard: mk.keyboard, RemoveKeyboard: mk.remove, ReplyMarkup: mk.raw,
		ReplyTo: replyTo, File: file, Time: now,
	}
	st := &msgState{m: m, inline: mk.inline, fromBot: true, date: now.Unix()}
	c.msgs[m.MessageID] = st
	c.sent = append(c.sent, m)
	c.outgoing++
	c.lastOutgoing = m.MessageID
	s.stats.Sent++
	key := dupKey{chat: c.id, kind: kind, text: text, replyTo: replyTo}
	if file != nil {
		key.file = file.Name + file.Ref
	}
	if s.dups[key] > 0 {
		s.stats.Duplicates++
	}
	s.dups[key]++
	return okReply(s.wireLocked(c, st))
}

const errNotModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

func (s *Server) editLocked(call *Call, kind Kind) reply {
	p := call.Params
	if p["inline_message_id"] != "" {
		return badRequest("inline messages are not supported by the fake server")
	}
	c, rep := s.targetChatLocked(p)
	if rep != nil {
		return *rep
	}
	id, _, err := intParam(p, "message_id")
	if err != nil || id == 0 {
		return badRequest("message identifier is not specified")
	}
	st := c.msgs[int(id)]
	if st == nil || st.m.Deleted {
		return badRequest("message to edit not found")
	}
	if !st.fromBot {
		return badRequest("message can't be edited")
	}
	mk, rep := parseMarkup(p["reply_markup"])
	if rep != nil {
		return *rep
	}
	text := st.m.Text
	if kind == KindEditText {
		if st.m.Kind != KindMessage {
			return badRequest("there is no text in the message to edit")
		}
		text = p["text"]
		if strings.TrimSpace(text) == "" {
			return badRequest("message text is empty")
		}
		if utf8.RuneCountInString(text) > 4096 {
			return badRequest("message is too long")
		}
	}
	if text == st.m.Text && mk.inline == st.inline {
		return badRequest(errNotModified)
	}
	now := s.now()
	st.m.Text = text
	st.inline = mk.inline
	st.m.Buttons = mk.buttons
	st.m.ReplyMarkup = mk.raw
	st.m.Edited = true
	st.editDate = now.Unix()
	if kind == KindEditText {
		st.m.ParseMode = p["parse_mode"]
	}
	c.sent = append(c.sent, SentMessage{
		Kind: kind, ChatID: c.id, MessageID: int(id), Text: text, ParseMode: p["parse_mode"],
		Buttons: mk.buttons, ReplyMarkup: mk.raw, Time: now,
	})
	s.stats.Edits++
	return okReply(s.wireLocked(c, st))
}

func (s *Server) deleteLocked(call *Call) reply {
	p := call.Params
	c, rep := s.targetChatLocked(p)
	if rep != nil {
		return *rep
	}
	id, _, err := intParam(p, "message_id")
	if err != nil || id == 0 {
		return badRequest("message identifier is not specified")
	}
	st := c.msgs[int(id)]
	if st == nil || st.m.Deleted {
		return badRequest("message to delete not found")
	}
	st.m.Deleted = true
	c.sent = append(c.sent, SentMessage{Kind: KindDelete, ChatID: c.id, MessageID: int(id), Time: s.now()})
	s.stats.Deletes++
	return okReply(true)
}

var chatActions = map[string]bool{
	"typing": true, "upload_photo": true, "record_video": true, "upload_video": true,
	"record_voice": true, "upload_voice": true, "upload_document": true, "choose_sticker": true,
	"find_location": true, "record_video_note": true, "upload_video_note": true,
}

func (s *Server) chatActionLocked(call *Call) reply {
	c, rep := s.targetChatLocked(call.Params)
	if rep != nil {
		return *rep
	}
	action := call.Params["action"]
	if !chatActions[action] {
		return badRequest("wrong parameter action in request")
	}
	c.sent = append(c.sent, SentMessage{Kind: KindChatAction, ChatID: c.id, Action: action, Time: s.now()})
	return okReply(true)
}

func (s *Server) answerCallbackLocked(call *Call) reply {
	id := call.Params["callback_query_id"]
	chatID, ok := s.callbacks[id]
	if id == "" || !ok {
		return badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	c := s.chatLocked(chatID)
	c.sent = append(c.sent, SentMessage{
		Kind: KindCallbackAnswer, ChatID: chatID, Text: call.Params["text"],
		CallbackQueryID: id, ShowAlert: boolParam(call.Params, "show_alert"), Time: s.now(),
	})
	return okReply(true)
}

var commandName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (s *Server) setCommandsLocked(call *Call) reply {
	var cmds []models.BotCommand
	if err := json.Unmarshal([]byte(call.Params["commands"]), &cmds); err != nil {
		return badRequest("can't parse commands JSON array")
	}
	for _, c := range cmds {
		if !commandName.MatchString(c.Command) {
			return badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf8.RuneCountInString(c.Description); n < 1 || n > 256 {
			return badRequest("command description must be 1-256 characters")
		}
	}
	if len(cmds) > 100 {
		return badRequest("too many commands")
	}
	s.commands[call.Params["language_code"]] = cmds
	return okReply(true)
}

// Commands returns what setMyCommands stored for a language code ("" for the
// default list), or nil.
func (s *Server) Commands(languageCode string) []models.BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]models.BotCommand(nil), s.commands[languageCode]...)
}
