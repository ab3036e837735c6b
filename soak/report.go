package soak

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// scanLogs reads the processes' logs: error lines, panics (recovered ones
// too), and whether any of the people's words got into them.
func (r *runner) scanLogs(rep *Report, texts []string) error {
	slices.Sort(texts)
	texts = slices.Compact(texts)
	for _, k := range r.kids {
		f, err := os.Open(k.logPath)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("soak: read log: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, `"level":"ERROR"`) {
				rep.LogErrors++
			}
			if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") || strings.Contains(line, "panicked") {
				rep.Panics++
			}
			for _, t := range texts {
				if strings.Contains(line, t) {
					rep.Leaks++
				}
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return fmt.Errorf("soak: read log: %w", err)
		}
	}
	return nil
}

// Write prints the report as a table, then the violations and the first
// findings.
func (rep *Report) Write(w io.Writer) error {
	t := rep.Tally
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name string, value any, target string) { fmt.Fprintf(tw, "%s\t%v\t%s\n", name, value, target) }
	fmt.Fprintf(tw, "stilstaan soak: %s, %d replica(s), seed %d, took %s\n", rep.Mode, rep.Replicas, rep.Seed, rep.Took.Round(time.Second))
	fmt.Fprintf(tw, "\t\t\n")
	row("people", t.People, "")
	row("steps sent (updates)", t.Steps, "")
	row("steps processed", t.StepsProcessed, "")
	row("steps lost", t.StepsLost, "target 0")
	row("steps doubled", t.StepsDoubled, "target 0")
	row("steps out of order", t.StepsOutOfOrder, "target 0")
	row("messages in transcripts", t.Messages, "")
	row("messages received", t.Received, "")
	row("messages lost", t.MessagesLost, "target 0")
	row("messages out of order", t.MessagesOutOfOrder, "target 0")
	row("messages sent twice", t.MessagesDuplicated, fmt.Sprintf("%d explained (send-then-crash window, lost response)", t.DuplicatesExplained))
	row("messages in no transcript", t.Unexpected, "target 0")
	row("messages dropped (person blocked the bot)", t.Dropped, fmt.Sprintf("%d people blocked", rep.Blocked))
	row("kill -9", rep.Kills, fmt.Sprintf("%d process starts; ready again after %s median, %s at most",
		rep.Starts, rep.RecoveryP50.Round(time.Millisecond), rep.RecoveryMax.Round(time.Millisecond)))
	row("crashes (exits nobody asked for)", len(rep.Crashes), "target 0")
	if rep.PostgresRestarts > 0 {
		row("PostgreSQL restarts", rep.PostgresRestarts, fmt.Sprintf("away %s at most", rep.PostgresDown.Round(time.Millisecond)))
	}
	if rep.DropConnections > 0 {
		row("database connections cut", rep.DropConnections, fmt.Sprintf("%d connections ended", rep.ConnectionsDropped))
	}
	f := rep.BotFaults
	row("Bot API faults injected", f.Total(), fmt.Sprintf("429: %d, 5xx: %d, slow: %d, dropped: %d, lost response: %d, 403: %d",
		f.TooMany, f.ServerError, f.Slow, f.Dropped, f.LostReply, f.Forbidden))
	if rep.LLM != nil {
		l := rep.LLM
		row("LLM requests", l.Requests, fmt.Sprintf("replies: %d, slow: %d, 500: %d, 429: %d, broken: %d",
			l.Replies, l.Slow, l.Failed, l.RateLimited, l.Broken))
	}
	st := rep.Fake
	row("Bot API calls", st.Calls, fmt.Sprintf("sent %d, edits %d, most per chat-second %d, most per second %d",
		st.Sent, st.Edits, st.MaxChatPerSecond, st.MaxGlobalPerSecond))
	row("updates queued / confirmed", fmt.Sprintf("%d / %d", st.UpdatesQueued, st.UpdatesConfirmed), "")
	if rep.Mode == "webhook" {
		row("webhook posts", st.WebhookAttempts, fmt.Sprintf("failed %d, given up %d (target 0)", st.WebhookFailures, st.WebhookGaveUp))
	}
	if len(rep.Balancer) > 0 {
		row("balancer posts per replica", fmt.Sprint(rep.Balancer), fmt.Sprintf("%d found no replica", rep.BalancerFailed))
	}
	row("outbox", fmt.Sprint(rep.Outbox), fmt.Sprintf("%d not sent to people who did not block the bot (target 0)", rep.OutboxUnsent))
	row("wait for an answer", fmt.Sprintf("p50 %s, p99 %s, max %s", rep.ReplyP50.Round(time.Millisecond), rep.ReplyP99.Round(time.Millisecond),
		rep.ReplyMax.Round(time.Millisecond)), "queueing behind telegram.global_rate; a kill -9 adds up to the 30s delivery lease")
	row("stalls (a person nudged the bot)", rep.Stalls, "")
	row("log errors / panics / leaked words", fmt.Sprintf("%d / %d / %d", rep.LogErrors, rep.Panics, rep.Leaks), "panics and leaks target 0")
	if err := tw.Flush(); err != nil {
		return err
	}
	if rep.OK() {
		_, err := fmt.Fprintln(w, "\nall targets met")
		return err
	}
	fmt.Fprintln(w, "\nVIOLATED:")
	for _, v := range rep.Violations {
		fmt.Fprintln(w, "  -", v)
	}
	shown := 0
	for _, f := range rep.Findings {
		if strings.HasSuffix(f.What, "(explained)") {
			continue
		}
		if shown == 20 {
			fmt.Fprintln(w, "  ...")
			break
		}
		fmt.Fprintln(w, "  ", f)
		shown++
	}
	_, err := fmt.Fprintf(w, "logs: %s, database: %s\n", rep.Dir, rep.Database)
	return err
}
