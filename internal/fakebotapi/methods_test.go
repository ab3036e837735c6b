package fakebotapi

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"reflect"
	"strings"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func TestSendMessageWithInlineKeyboard(t *testing.T) {
	s := New(t, testToken)
	b := newBot(t, s)
	ctx := testCtx(t)
	kb := keyboard(
		[]models.InlineKeyboardButton{{Text: "Ja", CallbackData: "step:yes"}, {Text: "Nee", CallbackData: "step:no"}},
		[]models.InlineKeyboardButton{{Text: "Meer", URL: "https://example.org"}},
	)
	m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(501), Text: "Hoe voel je je?", ReplyMarkup: kb})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if m.ID != 1 || m.Chat.ID != 501 || m.Text != "Hoe voel je je?" || m.Date == 0 || m.From == nil || !m.From.IsBot {
		t.Errorf("returned message = %+v", m)
	}
	if m.ReplyMarkup == nil || m.ReplyMarkup.InlineKeyboard[0][1].CallbackData != "step:no" {
		t.Errorf("returned reply_markup = %+v", m.ReplyMarkup)
	}
	m2, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 501, Text: "Tweede", ParseMode: models.ParseModeHTML,
		ReplyParameters: &models.ReplyParameters{MessageID: 1}})
	if err != nil || m2.ID != 2 {
		t.Fatalf("second SendMessage = %+v, %v", m2, err)
	}
	m3, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 502, Text: "Andere chat"})
	if err != nil || m3.ID != 1 {
		t.Fatalf("message ids are per chat: got %+v, %v", m3, err)
	}

	sent := s.Sent(501)
	want := [][]Button{
		{{Text: "Ja", CallbackData: "step:yes"}, {Text: "Nee", CallbackData: "step:no"}},
		{{Text: "Meer", URL: "https://example.org"}},
	}
	if len(sent) != 2 || sent[0].Kind != KindMessage || !reflect.DeepEqual(sent[0].Buttons, want) {
		t.Fatalf("Sent(501) = %+v", sent)
	}
	if sent[1].ReplyTo != 1 || sent[1].ParseMode != "HTML" || sent[1].Buttons != nil {
		t.Errorf("second record = %+v", sent[1])
	}
	last, ok := s.LastMessage(501)
	if !ok || last.MessageID != 2 || last.Text != "Tweede" {
		t.Errorf("LastMessage = %+v, %v", last, ok)
	}
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 501, Text: "x",
		ReplyParameters: &models.ReplyParameters{MessageID: 99}}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("reply to a missing message: err = %v, want ErrorBadRequest", err)
	}
	if st := s.Stats(); st.Sent != 3 || st.BadRequests != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestReplyKeyboardRecorded(t *testing.T) {
	s := New(t, testToken)
	b := newBot(t, s)
	_, err := b.SendMessage(testCtx(t), &bot.SendMessageParams{ChatID: 3, Text: "Kies", ReplyMarkup: models.ReplyKeyboardMarkup{
		Keyboard: [][]models.KeyboardButton{{{Text: "Stop"}, {Text: "Verder"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := s.LastMessage(3)
	if !reflect.DeepEqual(m.Keyboard, [][]string{{"Stop", "Verder"}}) || m.Buttons != nil {
		t.Errorf("keyboard = %+v, buttons = %+v", m.Keyboard, m.Buttons)
	}
}

func TestEdits(t *testing.T) {
	s := New(t, testToken)
	b := newBot(t, s)
	ctx := testCtx(t)
	kb := keyboard([]models.InlineKeyboardButton{{Text: "Ja", CallbackData: "yes"}})
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 9, Text: "Vraag", ReplyMarkup: kb}); err != nil {
		t.Fatal(err)
	}
	userMsg := s.UserMessage(9, "mijn antwoord")

	tests := []struct {
		name    string
		do      func() error
		wantErr string // "" for success
		check   func(t *testing.T)
	}{
		{name: "same text and keyboard is not modified", do: func() error {
			_, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 9, MessageID: 1, Text: "Vraag", ReplyMarkup: kb})
			return err
		}, wantErr: "message is not modified"},
		{name: "edit text keeps keyboard when sent again", do: func() error {
			_, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 9, MessageID: 1, Text: "Vraag?", ReplyMarkup: kb})
			return err
		}, check: func(t *testing.T) {
			m, _ := s.Current(9, 1)
			if m.Text != "Vraag?" || len(m.Buttons) != 1 || !m.Edited {
				t.Errorf("current = %+v", m)
			}
		}},
		{name: "remove keyboard", do: func() error {
			_, err := b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: 9, MessageID: 1})
			return err
		}, check: func(t *testing.T) {
			m, _ := s.Current(9, 1)
			if m.Buttons != nil {
				t.Errorf("buttons after removal = %+v", m.Buttons)
			}
		}},
		{name: "remove keyboard again is not modified", do: func() error {
			_, err := b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: 9, MessageID: 1})
			return err
		}, wantErr: "message is not modified"},
		{name: "missing message", do: func() error {
			_, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 9, MessageID: 77, Text: "x"})
			return err
		}, wantErr: "message to edit not found"},
		{name: "a person's message", do: func() error {
			_, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 9, MessageID: userMsg.ID, Text: "x"})
			return err
		}, wantErr: "message can't be edited"},
		{name: "delete", do: func() error {
			_, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: 9, MessageID: 1})
			return err
		}, check: func(t *testing.T) {
			m, _ := s.Current(9, 1)
			if !m.Deleted {
				t.Errorf("current = %+v, want deleted", m)
			}
		}},
		{name: "delete twice", do: func() error {
			_, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: 9, MessageID: 1})
			return err
		}, wantErr: "message to delete not found"},
		{name: "edit deleted", do: func() error {
			_, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 9, MessageID: 1, Text: "y"})
			return err
		}, wantErr: "message to edit not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr != "" && (!errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want a bad request with %q", err, tt.wantErr)
			}
			if tt.check != nil {
				t.Run("check", tt.check)
			}
		})
	}
	var kinds []Kind
	for _, m := range s.Sent(9) {
		kinds = append(kinds, m.Kind)
	}
	if want := []Kind{KindMessage, KindEditText, KindEditMarkup, KindDelete}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("kinds = %v, want %v", kinds, want)
	}
	if st := s.Stats(); st.Edits != 2 || st.Deletes != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSendPhotoAndDocumentKeepBytes(t *testing.T) {
	s := New(t, testToken)
	b := newBot(t, s)
	ctx := testCtx(t)
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 3, 2))); err != nil {
		t.Fatal(err)
	}
	pic := img.Bytes()
	m, err := b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: 11, Caption: "grafiek",
		Photo: &models.InputFileUpload{Filename: "week.png", Data: bytes.NewReader(pic)}})
	if err != nil {
		t.Fatalf("SendPhoto: %v", err)
	}
	if len(m.Photo) != 1 || m.Photo[0].Width != 3 || m.Photo[0].Height != 2 || m.Caption != "grafiek" {
		t.Errorf("returned photo message = %+v", m)
	}
	doc := []byte(`{"export":true}`)
	dm, err := b.SendDocument(ctx, &bot.SendDocumentParams{ChatID: 11,
		Document: &models.InputFileUpload{Filename: "export.json", Data: bytes.NewReader(doc)}})
	if err != nil {
		t.Fatalf("SendDocument: %v", err)
	}
	if dm.Document == nil || dm.Document.FileName != "export.json" || dm.Document.FileSize != int64(len(doc)) {
		t.Errorf("returned document = %+v", dm.Document)
	}
	if _, err := b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: 11, Photo: &models.InputFileString{Data: m.Photo[0].FileID}}); err != nil {
		t.Fatalf("SendPhoto by file_id: %v", err)
	}

	msgs := s.Messages(11)
	if len(msgs) != 3 {
		t.Fatalf("messages = %d, want 3", len(msgs))
	}
	if msgs[0].Kind != KindPhoto || msgs[0].File.Name != "week.png" || !bytes.Equal(msgs[0].File.Data, pic) || msgs[0].Text != "grafiek" {
		t.Errorf("photo record = %+v", msgs[0])
	}
	if msgs[1].Kind != KindDocument || !bytes.Equal(msgs[1].File.Data, doc) {
		t.Errorf("document record = %+v", msgs[1])
	}
	if msgs[2].File.Ref != m.Photo[0].FileID || msgs[2].File.Data != nil {
		t.Errorf("file_id record = %+v", msgs[2].File)
	}
	if _, err := b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: 11, Photo: &models.InputFileString{}}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("photo without a file: err = %v", err)
	}
}

func TestChatActionCommandsAndCallbackAnswer(t *testing.T) {
	s := New(t, testToken)
	b := newBot(t, s)
	ctx := testCtx(t)
	if _, err := b.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: 5, Action: models.ChatActionTyping}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: 5, Action: "dancing"}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("unknown action: err = %v", err)
	}
	nl := []models.BotCommand{{Command: "start", Description: "Begin"}, {Command: "stop", Description: "Stoppen"}}
	en := []models.BotCommand{{Command: "start", Description: "Start"}}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: nl}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: en, LanguageCode: "en"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "Bad Name", Description: "x"}}}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("bad command name: err = %v", err)
	}
	if got := s.Commands(""); !reflect.DeepEqual(got, nl) {
		t.Errorf("default commands = %+v", got)
	}
	if got := s.Commands("en"); !reflect.DeepEqual(got, en) {
		t.Errorf("en commands = %+v", got)
	}
	got, err := b.GetMyCommands(ctx, &bot.GetMyCommandsParams{LanguageCode: "en"})
	if err != nil || !reflect.DeepEqual(got, en) {
		t.Errorf("GetMyCommands = %+v, %v", got, err)
	}

	_, cb := s.PressButton(5, 1, "x")
	if _, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: cb, Text: "Dank je"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: "nope"}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("unknown callback id: err = %v", err)
	}
	sent := s.Sent(5)
	if len(sent) != 2 || sent[0].Kind != KindChatAction || sent[0].Action != "typing" ||
		sent[1].Kind != KindCallbackAnswer || sent[1].CallbackQueryID != cb || sent[1].Text != "Dank je" {
		t.Errorf("Sent(5) = %+v", sent)
	}
	if calls := s.Calls("answerCallbackQuery"); len(calls) != 2 || calls[0].ChatID != 5 {
		t.Errorf("answerCallbackQuery calls = %+v", calls)
	}
}
