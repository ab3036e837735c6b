package fakebotapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func TestLongPollWaitsForSendText(t *testing.T) {
	s := New(t, testToken)
	ctx := testCtx(t)
	s.SetUser(700, "Sanne", "en")
	got := make(chan []models.Update, 1)
	go func() {
		ups, err := tryPoll(ctx, s, url.Values{"timeout": {"30"}, "allowed_updates": {`["message","callback_query"]`}})
		if err != nil {
			t.Error(err)
		}
		got <- ups
	}()
	if err := s.WaitFor(ctx, func(s *Server) bool { return s.Polling() == 1 }); err != nil {
		t.Fatal(err)
	}
	id := s.SendText(700, "Ik ben boos")
	ups := <-got
	if len(ups) != 1 || ups[0].ID != id {
		t.Fatalf("updates = %+v, want one with id %d", ups, id)
	}
	m := ups[0].Message
	if m == nil || m.Text != "Ik ben boos" || m.Chat.ID != 700 || m.Chat.Type != models.ChatTypePrivate ||
		m.From.FirstName != "Sanne" || m.From.LanguageCode != "en" || m.ID != 1 || m.Date == 0 {
		t.Errorf("message = %+v", m)
	}
}

func TestLongPollTimesOutEmpty(t *testing.T) {
	s := New(t, testToken)
	start := time.Now()
	ups := poll(t, testCtx(t), s, url.Values{"timeout": {"1"}})
	if len(ups) != 0 {
		t.Errorf("updates = %+v, want none", ups)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("returned after %v, want the full 1s timeout", d)
	}
}

func TestOffsetConfirmsUpdates(t *testing.T) {
	s := New(t, testToken)
	ctx := testCtx(t)
	a := s.SendText(1, "een")
	b := s.SendCommand(1, "/start abc")
	c := s.SendText(2, "drie")
	if !(a < b && b < c) {
		t.Fatalf("update ids %d %d %d are not increasing", a, b, c)
	}
	tests := []struct {
		name        string
		query       url.Values
		want        []int64
		wantPending int
	}{
		{name: "no offset returns all", query: url.Values{}, want: []int64{a, b, c}, wantPending: 3},
		{name: "unconfirmed come again", query: url.Values{}, want: []int64{a, b, c}, wantPending: 3},
		{name: "limit", query: url.Values{"limit": {"2"}}, want: []int64{a, b}, wantPending: 3},
		{name: "offset confirms earlier ones", query: url.Values{"offset": {itoa(b)}}, want: []int64{b, c}, wantPending: 2},
		{name: "negative offset keeps the last", query: url.Values{"offset": {"-1"}}, want: []int64{c}, wantPending: 1},
		{name: "offset past the last confirms all", query: url.Values{"offset": {itoa(c + 1)}}, want: []int64{}, wantPending: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(poll(t, ctx, s, tt.query))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ids = %v, want %v", got, tt.want)
			}
			if p := s.PendingUpdates(); p != tt.wantPending {
				t.Errorf("pending = %d, want %d", p, tt.wantPending)
			}
		})
	}
	if st := s.Stats(); st.UpdatesQueued != 3 || st.UpdatesConfirmed != 3 {
		t.Errorf("stats = %+v", st)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestCommandEntity(t *testing.T) {
	s := New(t, testToken)
	s.SendCommand(4, "start")
	ups := poll(t, testCtx(t), s, nil)
	m := ups[0].Message
	if m.Text != "/start" || len(m.Entities) != 1 || m.Entities[0].Type != models.MessageEntityTypeBotCommand || m.Entities[0].Length != 6 {
		t.Errorf("command message = %+v", m)
	}
}

func TestAllowedUpdatesFilter(t *testing.T) {
	s := New(t, testToken)
	ctx := testCtx(t)
	s.SendText(1, "een")
	s.PressButton(1, 1, "data")
	got := poll(t, ctx, s, url.Values{"allowed_updates": {`["callback_query"]`}})
	if len(got) != 1 || got[0].CallbackQuery == nil {
		t.Fatalf("updates = %+v, want only the callback query", got)
	}
	// The setting sticks until changed; an empty list means Telegram's default.
	if got := poll(t, ctx, s, nil); len(got) != 1 {
		t.Errorf("without allowed_updates: %d updates, want 1", len(got))
	}
	if got := poll(t, ctx, s, url.Values{"allowed_updates": {`[]`}}); len(got) != 2 {
		t.Errorf("with []: %d updates, want 2", len(got))
	}
	status, a := call(t, ctx, s, "getUpdates", url.Values{"allowed_updates": {"message"}}, "", "")
	if status != http.StatusBadRequest || a.OK {
		t.Errorf("allowed_updates that is not JSON: status %d", status)
	}
}

func TestNewerPollEndsOlderWithConflict(t *testing.T) {
	s := New(t, testToken)
	ctx := testCtx(t)
	first := make(chan int, 1)
	go func() {
		status, _, _ := tryCall(ctx, s, "getUpdates", url.Values{"timeout": {"30"}}, "", "")
		first <- status
	}()
	if err := s.WaitFor(ctx, func(s *Server) bool { return s.Polling() == 1 }); err != nil {
		t.Fatal(err)
	}
	if got := poll(t, ctx, s, url.Values{"timeout": {"0"}}); len(got) != 0 {
		t.Fatalf("second poll = %+v", got)
	}
	if status := <-first; status != http.StatusConflict {
		t.Errorf("older poll status = %d, want 409", status)
	}
}

func TestPressButtonMakesCallbackQuery(t *testing.T) {
	s := New(t, testToken)
	b := newBot(t, s)
	ctx := testCtx(t)
	kb := keyboard([]models.InlineKeyboardButton{{Text: "Boos", CallbackData: "feel:angry"}, {Text: "Bang", CallbackData: "feel:afraid"}})
	m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 33, Text: "Wat voel je?", ReplyMarkup: kb})
	if err != nil {
		t.Fatal(err)
	}
	upd, cb := s.PressButton(33, m.ID, "feel:angry")
	upd2, cb2, err := s.PressButtonText(33, "Bang")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PressButtonText(33, "Blij"); !errors.Is(err, ErrNoButton) {
		t.Errorf("missing button: err = %v", err)
	}
	ups := poll(t, ctx, s, nil)
	if !reflect.DeepEqual(ids(ups), []int64{upd, upd2}) {
		t.Fatalf("ids = %v", ids(ups))
	}
	q := ups[0].CallbackQuery
	if q == nil || q.ID != cb || q.Data != "feel:angry" || q.From.ID != 33 {
		t.Fatalf("callback query = %+v", q)
	}
	if q.Message.Message == nil || q.Message.Message.ID != m.ID || q.Message.Message.Text != "Wat voel je?" ||
		q.Message.Message.ReplyMarkup == nil || len(q.Message.Message.ReplyMarkup.InlineKeyboard[0]) != 2 {
		t.Errorf("callback message = %+v", q.Message.Message)
	}
	if q2 := ups[1].CallbackQuery; q2.ID != cb2 || q2.Data != "feel:afraid" {
		t.Errorf("second callback query = %+v", q2)
	}
	if ok, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: cb}); err != nil || !ok {
		t.Errorf("AnswerCallbackQuery = %v, %v", ok, err)
	}
}

func TestBlockAndUnblock(t *testing.T) {
	s := New(t, testToken)
	b := newBot(t, s)
	ctx := testCtx(t)
	s.Block(44)
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 44, Text: "hoi"}); !errors.Is(err, bot.ErrorForbidden) {
		t.Fatalf("send to a blocked chat: err = %v, want ErrorForbidden", err)
	}
	s.Unblock(44)
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 44, Text: "hoi"}); err != nil {
		t.Fatalf("send after unblock: %v", err)
	}
	ups := poll(t, ctx, s, nil)
	if len(ups) != 2 || ups[0].MyChatMember == nil || ups[1].MyChatMember == nil {
		t.Fatalf("updates = %+v", ups)
	}
	blocked, unblocked := ups[0].MyChatMember, ups[1].MyChatMember
	if blocked.NewChatMember.Type != models.ChatMemberTypeBanned || blocked.OldChatMember.Type != models.ChatMemberTypeMember ||
		blocked.Chat.ID != 44 || blocked.NewChatMember.Banned.User.ID != 123456 {
		t.Errorf("block update = %+v", blocked)
	}
	if unblocked.NewChatMember.Type != models.ChatMemberTypeMember {
		t.Errorf("unblock update = %+v", unblocked)
	}
	if st := s.Stats(); st.Forbidden != 1 || st.Sent != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSendUpdate(t *testing.T) {
	s := New(t, testToken)
	b := newBot(t, s)
	ctx := testCtx(t)
	sticker := s.UserMessage(8, "")
	sticker.Sticker = &models.Sticker{FileID: "stk", Emoji: "🙂"}
	group := &models.Message{Chat: models.Chat{ID: -100, Type: models.ChatTypeGroup, Title: "Team"}, Text: "hallo groep",
		From: &models.User{ID: 9, FirstName: "Ann"}}
	tests := []struct {
		name  string
		in    any
		check func(t *testing.T, u models.Update)
	}{
		{name: "sticker", in: models.Update{Message: sticker}, check: func(t *testing.T, u models.Update) {
			if u.Message.Sticker == nil || u.Message.Sticker.Emoji != "🙂" || u.Message.ID != sticker.ID {
				t.Errorf("message = %+v", u.Message)
			}
		}},
		{name: "group message gets an id", in: &models.Update{ID: 999, Message: group}, check: func(t *testing.T, u models.Update) {
			if u.Message.ID != 1 || u.Message.Date == 0 || u.Message.Chat.ID != -100 {
				t.Errorf("message = %+v", u.Message)
			}
		}},
		{name: "edited message as JSON", in: `{"edited_message":{"message_id":1,"date":1,"edit_date":2,"chat":{"id":8,"type":"private"},"text":"anders"}}`,
			check: func(t *testing.T, u models.Update) {
				if u.EditedMessage == nil || u.EditedMessage.Text != "anders" {
					t.Errorf("update = %+v", u)
				}
			}},
		{name: "callback query as bytes", in: []byte(`{"update_id":5,"callback_query":{"id":"own-id","from":{"id":8,"is_bot":false,"first_name":"X"},"chat_instance":"1","data":"d"}}`),
			check: func(t *testing.T, u models.Update) {
				if u.CallbackQuery == nil || u.CallbackQuery.ID != "own-id" {
					t.Errorf("update = %+v", u)
				}
			}},
	}
	var last int64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := s.SendUpdate(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if id <= last {
				t.Fatalf("update id %d after %d", id, last)
			}
			last = id
			ups := poll(t, ctx, s, url.Values{"offset": {itoa(id)}})
			if len(ups) != 1 || ups[0].ID != id {
				t.Fatalf("updates = %+v", ups)
			}
			tt.check(t, ups[0])
		})
	}
	// A callback query sent by hand can be answered.
	if _, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: "own-id"}); err != nil {
		t.Errorf("answer own-id: %v", err)
	}
	// A group message can be replied to.
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(-100), Text: "hoi",
		ReplyParameters: &models.ReplyParameters{MessageID: 1}}); err != nil {
		t.Errorf("reply in group: %v", err)
	}
	for _, bad := range []any{"not json", `{"update_id":1}`, 42, (*models.Update)(nil)} {
		if _, err := s.SendUpdate(bad); err == nil {
			t.Errorf("SendUpdate(%v): no error", bad)
		}
	}
}

func TestRealBotPolling(t *testing.T) {
	s := New(t, testToken)
	got := make(chan *models.Update, 4)
	b := newBot(t, s, bot.WithDefaultHandler(func(_ context.Context, _ *bot.Bot, u *models.Update) { got <- u }),
		bot.WithNotAsyncHandlers())
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan struct{})
	go func() {
		b.Start(ctx)
		close(done)
	}()
	defer func() {
		cancel()
		<-done
	}()
	s.SendText(10, "hallo")
	s.PressButton(10, 1, "knop")
	for _, want := range []string{"message", "callback_query"} {
		select {
		case u := <-got:
			if (want == "message") != (u.Message != nil) || (want == "callback_query") != (u.CallbackQuery != nil) {
				t.Errorf("got %+v, want a %s", u, want)
			}
		case <-ctx.Done():
			t.Fatalf("no %s update: %v", want, ctx.Err())
		}
	}
	// The library confirms by polling with the next offset.
	if err := s.WaitFor(ctx, func(s *Server) bool { return s.PendingUpdates() == 0 }); err != nil {
		t.Fatal(err)
	}
}
