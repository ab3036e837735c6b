package fakebotapi_test

import (
	"context"
	"fmt"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/stilstaan/stilstaan/internal/fakebotapi"
)

// The real go-telegram/bot client talks to the fake server; the test then
// reads what the bot sent and answers as the person would.
func Example() {
	s := fakebotapi.Start("42:example")
	defer s.Close()
	b, err := bot.New("42:example", bot.WithServerURL(s.URL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{
		ChatID: int64(7),
		Text:   "Hoe voel je je nu?",
		ReplyMarkup: models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
			{{Text: "Rustig", CallbackData: "calm"}, {Text: "Onrustig", CallbackData: "restless"}},
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, _ := s.LastMessage(7)
	fmt.Println(m.MessageID, m.Text, m.Buttons[0][1].CallbackData)

	updateID, _, err := s.PressButtonText(7, "Rustig")
	fmt.Println(updateID, err, s.PendingUpdates())
	// Output:
	// 1 Hoe voel je je nu? restless
	// 1 <nil> 1
}
