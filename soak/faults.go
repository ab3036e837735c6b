package soak

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/stilstaan/stilstaan/internal/fakebotapi"
	"github.com/stilstaan/stilstaan/llm/llmtest"
)

// FaultCounts says how many faults of each kind were injected.
type FaultCounts struct {
	TooMany     int // 429 with retry_after
	ServerError int // 500 and 502 (an HTML page, as Telegram's front serves)
	Slow        int // answered after a delay
	Dropped     int // connection closed without an answer, nothing done
	LostReply   int // done (the message is sent), then the connection closed
	Forbidden   int // 403: people who blocked the bot
}

// Total is the number of faults.
func (f FaultCounts) Total() int {
	return f.TooMany + f.ServerError + f.Slow + f.Dropped + f.LostReply + f.Forbidden
}

// faultyMethods are the Bot API calls faults are injected into.
var faultyMethods = map[string]bool{
	"sendMessage": true, "editMessageReplyMarkup": true, "answerCallbackQuery": true, "sendChatAction": true,
	"sendPhoto": true, "sendDocument": true, "getUpdates": true, "setWebhook": true, "deleteWebhook": true,
	"getMe": true, "setMyCommands": true,
}

// botFaults returns a fakebotapi fault function that fails a share rate of
// the calls: 429 (retry_after 1), 500, 502, slow answers (below the send
// timeout), dropped connections, and, for sends, lost responses (sent, but
// the bot never hears so: it sends again, a duplicate by design).
func botFaults(rate float64, seed uint64) func(method string, chatID int64, attempt int) *fakebotapi.Fault {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	return func(method string, _ int64, _ int) *fakebotapi.Fault {
		if !faultyMethods[method] {
			return nil
		}
		mu.Lock()
		hit, pick, delay := rng.Float64() < rate, rng.Float64(), time.Duration(500+rng.IntN(2000))*time.Millisecond
		mu.Unlock()
		if !hit {
			return nil
		}
		var f fakebotapi.Fault
		switch {
		case pick < 0.30:
			f = fakebotapi.TooManyRequests(1)
		case pick < 0.45:
			f = fakebotapi.ServerError()
		case pick < 0.55:
			f = fakebotapi.BadGateway()
		case pick < 0.72:
			f = fakebotapi.Slow(delay)
		case pick < 0.88 || method != "sendMessage":
			f = fakebotapi.Drop()
		default:
			f = fakebotapi.LostResponse()
		}
		return &f
	}
}

// countFaults counts the faults the fake recorded on calls.
func countFaults(calls []fakebotapi.Call) FaultCounts {
	var c FaultCounts
	for _, call := range calls {
		if call.Status == http.StatusForbidden {
			c.Forbidden++
		}
		f := call.Fault
		if f == nil {
			continue
		}
		switch {
		case f.Status == http.StatusTooManyRequests:
			c.TooMany++
		case f.Status >= 500:
			c.ServerError++
		case f.Drop && f.AfterProcessing:
			c.LostReply++
		case f.Drop:
			c.Dropped++
		case f.Delay > 0:
			c.Slow++
		}
	}
	return c
}

// LLMCounts says how the fake LLM answered.
type LLMCounts struct {
	Requests, Replies, Slow, Failed, RateLimited, Broken int
}

// llmFaults answers reflective-reply requests: most with a short reflection,
// a share rate of them slower than the bot's deadline, with a 500, a 429 or a
// body that is not JSON. Each of those must end in the scripted reflection,
// never in a person waiting.
type llmFaults struct {
	mu      sync.Mutex
	rng     *rand.Rand
	rate    float64
	timeout time.Duration
	counts  LLMCounts
}

var llmReplies = []string{
	"Je merkt dat het onrustig is en je blijft er even bij. Dat is al veel.",
	"Het klinkt alsof dit je raakt. Het mag er zijn, ook als het ongemakkelijk voelt.",
	"You notice the tension and you stay with it for a moment. That takes care.",
	"It sounds like this touches something. It is allowed to be here, as it is.",
}

func (l *llmFaults) respond(_ llmtest.Request) llmtest.Response {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts.Requests++
	reply := llmReplies[l.rng.IntN(len(llmReplies))]
	if l.rng.Float64() >= l.rate {
		l.counts.Replies++
		return llmtest.Reply(reply)
	}
	switch pick := l.rng.Float64(); {
	case pick < 0.35:
		l.counts.Slow++
		return llmtest.Response{Text: reply, Delay: l.timeout + time.Second}
	case pick < 0.65:
		l.counts.Failed++
		return llmtest.Status(http.StatusInternalServerError)
	case pick < 0.85:
		l.counts.RateLimited++
		return llmtest.RateLimited("1")
	default:
		l.counts.Broken++
		return llmtest.Broken()
	}
}

func (l *llmFaults) snapshot() LLMCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts
}
