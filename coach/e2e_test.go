package coach_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/chromedp/chromedp"

	"github.com/stilstaan/stilstaan/bot"
	"github.com/stilstaan/stilstaan/care"
	"github.com/stilstaan/stilstaan/coach"
	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/internal/fakebotapi"
	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write the dashboard screenshots to ../docs/")

// chromiumPath finds the browser: $STILSTAAN_CHROMIUM, else the usual names.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("STILSTAAN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("e2e: Chromium is not installed (apt-get install chromium), or set STILSTAAN_CHROMIUM to its path")
	return ""
}

const e2eToken = "424242:e2e-test-token"

// TestDashboardInChromium walks the whole coach review in a real headless
// Chromium: a person's crisis message flags the conversation through the
// care protocol, the coach is alerted in Telegram, asks the bot for a login
// link, logs in, finds the flag, reads the transcript, writes a note, writes
// to the person, marks the flag reviewed, and the fake Bot API receives the
// message the coach wrote.
func TestDashboardInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		for _, s := range []string{"Ik wil dood", "Hij reageert al", "E2E-NOTE", "E2E-MESSAGE", e2eToken} {
			if strings.Contains(logs.String(), s) {
				t.Errorf("the logs contain %q", s)
			}
		}
		if t.Failed() {
			t.Log(logs.String())
		}
	})

	// Telegram, the database, delivery.
	fake := fakebotapi.New(t, e2eToken)
	db := storagetest.New(t, storage.WithSealer(testSealer{}))
	api, err := tgbot.New(e2eToken, tgbot.WithServerURL(fake.URL()), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	delivery := bot.NewDelivery(db, api, config.Telegram{Workers: 4, GlobalRate: 100, PerChatRate: 20, PerChatBurst: 10, SendTimeout: 5 * time.Second, MaxSendRetries: 3},
		bot.WithDeliveryPoll(50*time.Millisecond), bot.WithDeliveryLogger(log))
	deliveryDone := make(chan error, 1)
	dctx, stopDelivery := context.WithCancel(ctx)
	go func() { deliveryDone <- delivery.Run(dctx) }()
	t.Cleanup(func() {
		stopDelivery()
		if err := <-deliveryDone; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("delivery: %v", err)
		}
	})

	// The dashboard on a real port, and the conversation service with the
	// care protocol and the coach commands wired in.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	lib, err := dialogs.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	carer, err := care.New(db, care.Config{Coaches: []care.Coach{{ID: anna, Name: "Anna"}}, DashboardURL: base, PseudonymKey: pseudonymKey}, log)
	if err != nil {
		t.Fatal(err)
	}
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	team, err := coach.New(db, coach.Config{
		Coaches: []coach.Coach{{ID: anna, Name: "Anna"}}, PublicURL: base, SigningKey: signingKey,
		SessionTTL: 8 * time.Hour, Pseudonym: pseudonym, Location: ams,
	}, coach.WithLibrary(lib), coach.WithNotify(delivery.Wake), coach.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	h, err := team.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	engine := dialogs.NewEngine(lib, dialogs.WithElevated(carer.Elevated))
	svc := conversation.New(db, engine, append([]conversation.Option{
		conversation.WithScreener(carer.Screen), conversation.WithHook(carer.Hook),
		conversation.WithNotify(delivery.Wake), conversation.WithLogger(log),
	}, team.CommandOptions(engine.Handle)...)...)

	update := 0
	send := func(chat int64, in dialogs.Input) conversation.Result {
		t.Helper()
		update++
		in.LangHint = "nl"
		res, err := svc.Handle(ctx, conversation.Incoming{Channel: conversation.ChannelTelegram, ChatID: chat, Source: fmt.Sprintf("tg:%d", update), Input: in})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	text := func(chat int64, s string) conversation.Result {
		return send(chat, dialogs.Input{Kind: dialogs.InputText, Text: s})
	}

	// Three people: one in crisis during an exercise, one in distress, one
	// who asks for a human.
	const (
		sanne = int64(4242)
		joost = int64(4343)
		lotte = int64(4444)
	)
	for _, chat := range []int64{joost, lotte, sanne} {
		text(chat, "hoi")
		text(chat, "ja") // consent to coach review
	}
	text(lotte, "Ik wil met iemand praten")
	text(joost, "ik kan het niet meer aan")
	send(sanne, dialogs.Input{Kind: dialogs.InputStart, Data: "abandonment"})
	text(sanne, "Hij reageert al twee dagen niet op mijn berichten.")
	sannePerson := text(sanne, "Ik wil dood.").PersonID

	var flagID int64
	if err := db.Pool().QueryRow(ctx, `SELECT id FROM flags WHERE person_id = $1 AND level = 'acute'`, sannePerson).Scan(&flagID); err != nil {
		t.Fatalf("the crisis message raised no acute flag: %v", err)
	}
	alertURL := fmt.Sprintf("%s/flags/%d", base, flagID)
	if err := fake.WaitFor(ctx, func(s *fakebotapi.Server) bool { return sentContains(s, anna, alertURL) }); err != nil {
		dumpDelivery(t, fake, db)
		t.Fatalf("the coach got no alert linking to %s: %v", alertURL, err)
	}
	for _, m := range fake.Messages(anna) {
		if strings.Contains(m.Text, "Ik wil dood") {
			t.Errorf("an alert contains the person's words: %q", m.Text)
		}
	}

	// The login link, through the bot.
	send(anna, dialogs.Input{Kind: dialogs.InputCommand, Command: "dashboard"})
	var link string
	linkRE := regexp.MustCompile(regexp.QuoteMeta(base) + `/login/\S+`)
	err = fake.WaitFor(ctx, func(s *fakebotapi.Server) bool {
		for _, m := range s.Messages(anna) {
			if l := linkRE.FindString(m.Text); l != "" {
				link = l
				return true
			}
		}
		return false
	})
	if err != nil {
		dumpDelivery(t, fake, db)
		t.Fatalf("no login link reached the coach: %v", err)
	}

	// The browser. It must start: a missing or broken Chromium fails the test.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("accept-lang", "nl-NL,nl"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("e2e: Chromium did not start: %v", err)
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	textOf := func(sel string) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	screenshot := func(name string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if len(png) < 1000 || string(png[1:4]) != "PNG" {
			t.Fatalf("screenshot %s is not a PNG", name)
		}
		if *updateScreenshots {
			if err := os.WriteFile(filepath.Join("..", "docs", name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Without a session: the login page, no data.
	do("open the alert without a session", chromedp.Navigate(alertURL), chromedp.WaitVisible(chromedp.CSS("section.card.narrow")))
	if got := textOf("main"); !strings.Contains(got, "/dashboard") || strings.Contains(got, "Ik wil dood") {
		t.Fatalf("without a session the page says %q", got)
	}

	// Log in with the link.
	do("log in",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)),
		chromedp.WaitVisible(chromedp.CSS("ul.flags")),
		chromedp.EmulateViewport(1280, 400), // the screenshot: a laptop window, no empty page below the list
	)
	list := textOf("ul.flags")
	for _, want := range []string{pseudonym(sannePerson), "acuut", "verhoogd", "laag", "wil een mens spreken", "open"} {
		if !strings.Contains(list, want) {
			t.Errorf("the flag list lacks %q:\n%s", want, list)
		}
	}
	if lang := textOf("html > body > header .name"); lang != "Anna" {
		t.Errorf("logged in as %q", lang)
	}
	screenshot("dashboard-flags.png")

	// The conversation around the flag, opened (decrypted) through storage.
	do("open the flag",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/flags/%d"]`, flagID))),
		chromedp.WaitVisible(chromedp.CSS("ol.entries")),
	)
	transcript := textOf("section.transcript")
	for _, want := range []string{"Ik wil dood.", "Hij reageert al twee dagen niet op mijn berichten.", "Stilstaan bij verlatingsangst", "dit bericht leidde tot de melding", "113"} {
		if !strings.Contains(transcript, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, transcript)
		}
	}
	if state := textOf("main"); !strings.Contains(state, "Stilstaan bij verlatingsangst · stap") {
		t.Errorf("the exercise state is missing")
	}

	// A note, a message to the person, the review.
	do("add a note",
		chromedp.SetValue(chromedp.CSS("#note-text"), "E2E-NOTE: gebeld met Sanne, ze is bij haar zus. Morgen opnieuw contact."),
		chromedp.Click(chromedp.CSS(`#notes button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("p.notice.ok")),
	)
	if notes := textOf("#notes"); !strings.Contains(notes, "E2E-NOTE: gebeld met Sanne") || !strings.Contains(notes, "Anna") {
		t.Errorf("the note is not shown: %q", notes)
	}
	message := "E2E-MESSAGE: Hoi, ik ben Anna, een van de coaches. Ik las je bericht en ik ben er. Wil je dat ik je morgen om tien uur bel?"
	do("write to the person",
		chromedp.SetValue(chromedp.CSS("#message-text"), message),
		chromedp.Click(chromedp.CSS(`#message button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("li.entry.dir-coach")),
	)
	if coachEntry := textOf("li.entry.dir-coach"); !strings.Contains(coachEntry, "Bericht van je coach:") || !strings.Contains(coachEntry, "E2E-MESSAGE") {
		t.Errorf("the transcript shows the coach's message as %q", coachEntry)
	}
	do("mark reviewed",
		chromedp.SetValue(chromedp.CSS("#review-text"), "E2E-NOTE: veiligheidsplan besproken; huisarts ingelicht."),
		chromedp.Click(chromedp.CSS(`#review button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".titlebar .state-reviewed")),
	)
	if got := textOf("main"); !strings.Contains(got, "Beoordeeld door Anna") {
		t.Errorf("the page does not show the review")
	}
	screenshot("dashboard-conversation.png")

	// The person gets the coach's message from the bot.
	err = fake.WaitFor(ctx, func(s *fakebotapi.Server) bool { return sentContains(s, sanne, "Bericht van je coach:\n\n"+message) })
	if err != nil {
		dumpDelivery(t, fake, db)
		t.Fatalf("the fake Bot API did not receive the coach's message: %v", err)
	}

	// An alert link followed from another site (Telegram Web) arrives
	// without the SameSite=Strict cookie; the page reloads itself and shows
	// the conversation.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>elsewhere</title><a id="alert" href="%s">alert</a>`, alertURL)
	}))
	defer other.Close()
	elsewhere := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	do("follow the alert from another site",
		chromedp.Navigate(elsewhere),
		chromedp.Click(chromedp.CSS("#alert")),
		chromedp.WaitVisible(chromedp.CSS("ol.entries")),
	)

	// Log out: the session is gone.
	do("log out",
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS("section.card.narrow")),
		chromedp.Navigate(alertURL),
		chromedp.WaitVisible(chromedp.CSS("section.card.narrow")),
	)
	if got := textOf("main"); strings.Contains(got, "Ik wil dood") {
		t.Errorf("after logout the page shows the conversation")
	}

	var actions []string
	rows, err := db.Pool().Query(ctx, `SELECT action FROM coach_audit WHERE coach_id = $1 ORDER BY id`, anna)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		actions = append(actions, a)
	}
	want := "telegram_login_link login list_flags view_flag note view_flag message view_flag review view_flag view_flag logout"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("audit %q,\nwant %q", got, want)
	}
}

// sentContains reports whether the bot sent a chat a message containing s.
func sentContains(s *fakebotapi.Server, chat int64, text string) bool {
	for _, m := range s.Messages(chat) {
		if strings.Contains(m.Text, text) {
			return true
		}
	}
	return false
}

// dumpDelivery logs what the bot asked of the fake Bot API and what is left
// in the outbox, to tell a delivery problem from a dashboard problem.
func dumpDelivery(t *testing.T, fake *fakebotapi.Server, db *storage.DB) {
	t.Helper()
	for _, c := range fake.Calls("") {
		t.Logf("bot api call %d: %s chat %d status %d %s", c.Seq, c.Method, c.ChatID, c.Status, c.Description)
	}
	rows, err := db.Pool().Query(context.Background(), `SELECT id, person_id, chat_id, kind, status, attempts, COALESCE(last_error, '') FROM outbox ORDER BY id`)
	if err != nil {
		t.Log(err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var id, person, chat int64
		var kind, status, lastErr string
		var attempts int
		if err := rows.Scan(&id, &person, &chat, &kind, &status, &attempts, &lastErr); err != nil {
			t.Log(err)
			return
		}
		t.Logf("outbox %d: person %d chat %d %s %s attempts %d %s", id, person, chat, kind, status, attempts, lastErr)
	}
	rows2, err := db.Pool().Query(context.Background(), `SELECT person_id, COALESCE(leased_by, ''), leased_until, next_at FROM deliveries ORDER BY person_id`)
	if err != nil {
		t.Log(err)
		return
	}
	defer rows2.Close()
	for rows2.Next() {
		var person int64
		var by string
		var until *time.Time
		var next time.Time
		if err := rows2.Scan(&person, &by, &until, &next); err != nil {
			t.Log(err)
			return
		}
		t.Logf("deliveries: person %d leased by %q until %v, next %v (now %v)", person, by, until, next, time.Now())
	}
}
