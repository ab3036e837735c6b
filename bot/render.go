package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
)

// Telegram's limits on what one call may carry. Lengths are counted in UTF-16
// code units, as Telegram counts them (a rune outside the BMP, such as most
// emoji, is two).
const (
	maxTextLen      = 4096 // characters of a message text
	maxCaptionLen   = 1024 // characters of a photo or document caption
	maxCallbackData = 64   // bytes of a button's callback_data
)

// Methods of the Bot API that delivery calls, as metric labels and in logs.
const (
	methodSendMessage = "sendMessage"
	methodSendPhoto   = "sendPhoto"
	methodSendDoc     = "sendDocument"
	methodEditMarkup  = "editMessageReplyMarkup"
)

// Errors of messages that cannot be rendered; such a message is marked failed.
var (
	errEmptyMessage = errors.New("message has no text")
	errNoFile       = errors.New("message has no file")
	errUnknownKind  = errors.New("unknown message kind")
	errNoPrompt     = errors.New("edit names no prompt")
)

// sendPart is one Bot API call of a rendered outbox message. Exactly one of the
// params is set.
type sendPart struct {
	message  *bot.SendMessageParams
	photo    *bot.SendPhotoParams
	document *bot.SendDocumentParams
	edit     *bot.EditMessageReplyMarkupParams
}

// method names the Bot API method the sendPart calls.
func (p *sendPart) method() string {
	switch {
	case p.photo != nil:
		return methodSendPhoto
	case p.document != nil:
		return methodSendDoc
	case p.edit != nil:
		return methodEditMarkup
	}
	return methodSendMessage
}

// send makes the call and returns the Telegram message id of the message it
// sent or edited.
func (p *sendPart) send(ctx context.Context, api *bot.Bot) (int64, error) {
	var (
		m   *models.Message
		err error
	)
	switch {
	case p.message != nil:
		m, err = api.SendMessage(ctx, p.message)
	case p.photo != nil:
		m, err = api.SendPhoto(ctx, p.photo)
	case p.document != nil:
		m, err = api.SendDocument(ctx, p.document)
	case p.edit != nil:
		m, err = api.EditMessageReplyMarkup(ctx, p.edit)
	default:
		return 0, errUnknownKind
	}
	if err != nil || m == nil {
		return 0, err
	}
	return int64(m.ID), nil
}

// droppedButton reports a button left out because its callback data does not
// fit: where it was and how long its data is, never its label or data.
type droppedButton func(row, col, size int)

// renderEnvelope turns an outbox message into the Bot API calls that deliver it, in
// order. Text goes as plain text (no parse mode), so nothing a person wrote
// can break markup. A text longer than Telegram allows is split on paragraph
// boundaries (then lines, then words) into several messages, with the
// buttons on the last one. An edit replaces the buttons of message remoteID
// (the message of the envelope's prompt); no buttons removes them. A photo
// or document carries the text as its caption when it fits, and is followed
// by the text as messages when it does not.
//
// Every call renders fresh params: an upload's reader is spent by one try.
func renderEnvelope(kind string, chatID int64, env conversation.Envelope, remoteID int64, dropped droppedButton) ([]sendPart, error) {
	markup := inlineKeyboard(env.Buttons, dropped)
	switch kind {
	case conversation.KindMessage:
		if strings.TrimSpace(env.Text) == "" {
			return nil, errEmptyMessage
		}
		return textSendParts(chatID, env.Text, markup), nil
	case conversation.KindEdit:
		if remoteID == 0 {
			return nil, errNoPrompt
		}
		var rm models.ReplyMarkup = &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{}}
		if markup != nil {
			rm = markup
		}
		return []sendPart{{edit: &bot.EditMessageReplyMarkupParams{ChatID: chatID, MessageID: int(remoteID), ReplyMarkup: rm}}}, nil
	case conversation.KindPhoto, conversation.KindDocument:
		if len(env.File) == 0 {
			return nil, errNoFile
		}
		caption, rest := env.Text, ""
		if utf16Len(caption) > maxCaptionLen || strings.TrimSpace(caption) == "" {
			caption, rest = "", env.Text
		}
		var fileMarkup models.ReplyMarkup
		if strings.TrimSpace(rest) == "" && markup != nil {
			fileMarkup = markup
		}
		var p sendPart
		if kind == conversation.KindPhoto {
			p.photo = &bot.SendPhotoParams{
				ChatID: chatID, Caption: caption, ReplyMarkup: fileMarkup,
				Photo: &models.InputFileUpload{Filename: uploadName(env.FileName, "chart.png"), Data: bytes.NewReader(env.File)},
			}
		} else {
			p.document = &bot.SendDocumentParams{
				ChatID: chatID, Caption: caption, ReplyMarkup: fileMarkup,
				Document: &models.InputFileUpload{Filename: uploadName(env.FileName, "stilstaan.txt"), Data: bytes.NewReader(env.File)},
			}
		}
		parts := []sendPart{p}
		if strings.TrimSpace(rest) != "" {
			parts = append(parts, textSendParts(chatID, rest, markup)...)
		}
		return parts, nil
	}
	return nil, fmt.Errorf("%w %q", errUnknownKind, kind)
}

// textSendParts sends text as messages of at most maxTextLen, buttons on the last.
func textSendParts(chatID int64, text string, markup *models.InlineKeyboardMarkup) []sendPart {
	chunks := splitText(text, maxTextLen)
	parts := make([]sendPart, len(chunks))
	for i, c := range chunks {
		parts[i].message = &bot.SendMessageParams{ChatID: chatID, Text: c}
	}
	if markup != nil {
		parts[len(parts)-1].message.ReplyMarkup = markup
	}
	return parts
}

func uploadName(name, fallback string) string {
	if name = strings.TrimSpace(name); name != "" {
		return name
	}
	return fallback
}

// inlineKeyboard builds the inline keyboard, leaving out buttons whose callback
// data is empty or longer than Telegram accepts (Telegram would refuse the
// whole message). It returns nil when no button is left.
func inlineKeyboard(rows [][]dialogs.Button, dropped droppedButton) *models.InlineKeyboardMarkup {
	var out [][]models.InlineKeyboardButton
	for r, row := range rows {
		var kept []models.InlineKeyboardButton
		for c, b := range row {
			if b.Data == "" || len(b.Data) > maxCallbackData {
				if dropped != nil {
					dropped(r, c, len(b.Data))
				}
				continue
			}
			kept = append(kept, models.InlineKeyboardButton{Text: b.Label, CallbackData: b.Data})
		}
		if len(kept) > 0 {
			out = append(out, kept)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: out}
}

// splitSeparators are where a long text may be cut, best first.
var splitSeparators = []string{"\n\n", "\n", " "}

// splitText cuts s into pieces of at most limit UTF-16 code units, at
// paragraph boundaries where it can, else at line breaks, else between
// words, and inside a word only when one word is longer than limit. The
// separator at a cut is dropped; pieces that are only white space are left
// out.
func splitText(s string, limit int) []string {
	var out []string
	for _, piece := range splitOn(s, limit, splitSeparators) {
		if strings.TrimSpace(piece) != "" {
			out = append(out, piece)
		}
	}
	return out
}

func splitOn(s string, limit int, seps []string) []string {
	if utf16Len(s) <= limit {
		return []string{s}
	}
	if len(seps) == 0 {
		return hardSplit(s, limit)
	}
	sep := seps[0]
	sepLen := utf16Len(sep)
	var (
		out    []string
		cur    strings.Builder
		curLen int
	)
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
			curLen = 0
		}
	}
	for _, seg := range strings.Split(s, sep) {
		segLen := utf16Len(seg)
		if segLen > limit {
			flush()
			out = append(out, splitOn(seg, limit, seps[1:])...)
			continue
		}
		if cur.Len() > 0 && curLen+sepLen+segLen > limit {
			flush()
		}
		if cur.Len() > 0 {
			cur.WriteString(sep)
			curLen += sepLen
		}
		cur.WriteString(seg)
		curLen += segLen
	}
	flush()
	return out
}

// hardSplit cuts s into pieces of at most limit UTF-16 code units, between
// runes.
func hardSplit(s string, limit int) []string {
	var out []string
	start, n := 0, 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if w < 0 {
			w = 1 // invalid UTF-8 is sent as U+FFFD
		}
		if n+w > limit {
			out = append(out, s[start:i])
			start, n = i, 0
		}
		n += w
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// utf16Len is the length of s as Telegram counts it.
func utf16Len(s string) int {
	n := 0
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		if w := utf16.RuneLen(r); w > 0 {
			n += w
		} else {
			n++
		}
	}
	return n
}
