package bench

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// fanoutReplicas is how many `stilstaan run` processes share the fan-out.
const fanoutReplicas = 2

// burstShare is the rate limiter's burst as a share of its rate (bot
// delivery allows a tenth of a second's sends at once): a replica limited
// to r sends at most r*(1+burstShare) in any one second.
const burstShare = 0.1

// fanoutResult is what the fan-out measured.
type fanoutResult struct {
	CheckIns       int     // check-ins made due
	Replicas       int     // scheduler processes
	Limit          int     // sends per second the fake server allows (Telegram's limit)
	PerChatLimit   int     // sends per chat per second the fake server allows
	ConfiguredRate float64 // telegram.global_rate over all replicas
	Sent           int     // messages the fake server accepted
	People         int     // distinct chats that got their check-in
	Expected       int     // outbox rows written for them
	Seconds        float64 // first send to last send
	Started        float64 // seconds from the start until every check-in was started
	Rate           float64 // achieved sends per second
	Duplicates     int
	Limited        int // 429s answered by the fake's limits
	Retries429     int
	Complete       bool
}

// Ratio is the achieved rate over the configured one.
func (f fanoutResult) Ratio() float64 {
	if f.ConfiguredRate == 0 {
		return 0
	}
	return f.Rate / f.ConfiguredRate
}

// runFanout makes n stored people's daily check-in due, starts two bot
// processes with the check-in scheduler and delivery, and measures the
// sends at a fresh fake Bot API that enforces limit sends a second overall
// and perChat per chat.
func (r *runner) runFanout(ctx context.Context, n, limit, perChat int) (fanoutResult, error) {
	res := fanoutResult{CheckIns: n, Replicas: fanoutReplicas, Limit: limit, PerChatLimit: perChat}
	perReplica := math.Floor(float64(limit) / (fanoutReplicas * (1 + burstShare)))
	res.ConfiguredRate = perReplica * fanoutReplicas

	tg, err := startTelegram()
	if err != nil {
		return res, err
	}
	defer tg.Close()
	tg.fake.EnforceLimits(perChat, limit)

	due, err := seedDueCheckins(ctx, r.db.db, chatsStored, n, r.zone)
	if err != nil {
		return res, err
	}
	if due != n {
		return res, fmt.Errorf("bench: fan-out: %d check-ins made due, want %d (too few people stored)", due, n)
	}
	r.log.InfoContext(ctx, "bench: fan-out", slog.Int("check_ins", n), slog.Float64("rate", res.ConfiguredRate))
	started := time.Now()
	var kids []*child
	defer func() {
		for _, k := range kids {
			_ = k.stop()
		}
	}()
	for i := range fanoutReplicas {
		k, err := startChild(ctx, r.cfg.Binary, r.dir, childConfig{
			Name: fmt.Sprintf("fanout-%d", i+1), DatabaseURL: r.db.url, MaxConns: r.maxConns(),
			TelegramURL: tg.URL(), Workers: r.cfg.Workers, GlobalRate: perReplica, PerChatRate: 1, PerChatBurst: perChat,
			MasterKey: r.masterKey, ScanEvery: time.Second,
		})
		if err != nil {
			return res, err
		}
		kids = append(kids, k)
	}

	// Done when every check-in went out, or when nothing moved for a while.
	deadline := time.Now().Add(r.cfg.FanoutTimeout)
	last, lastMove := 0, time.Now()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		sent := tg.fake.Stats().Sent
		if sent != last {
			last, lastMove = sent, time.Now()
		}
		if sent > 0 {
			due, waiting, err := r.pendingCheckins(ctx, started)
			if err != nil {
				return res, err
			}
			if !due && res.Started == 0 {
				res.Started = time.Since(started).Seconds()
			}
			if !due && !waiting {
				res.Complete = true
				break
			}
		}
		if time.Since(lastMove) > 30*time.Second || time.Now().After(deadline) {
			break
		}
		for _, k := range kids {
			if err := k.alive(); err != nil {
				return res, err
			}
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-tick.C:
		}
	}

	if r.cfg.Log.Enabled(ctx, slog.LevelDebug) {
		for _, sc := range tg.fake.SendsPerSecond() {
			r.log.DebugContext(ctx, "bench: fan-out second", slog.Time("second", sc.Second), slog.Int("sends", sc.Count))
		}
	}
	st := tg.fake.Stats()
	res.Duplicates, res.Limited, res.Retries429 = st.Duplicates, st.Limited, st.Retries429
	chats := map[int64]int{}
	var first, lastAt time.Time
	for _, method := range []string{"sendMessage", "sendPhoto"} {
		for _, c := range tg.fake.Calls(method) {
			// Only the fan-out's people: the turn path's leftovers (a pause
			// that ended, a message queued at shutdown) go out here too.
			if c.Status != 200 || c.ChatID < chatsStored || c.ChatID >= chatsStored+int64(n) {
				continue
			}
			res.Sent++
			chats[c.ChatID]++
			if first.IsZero() || c.Time.Before(first) {
				first = c.Time
			}
			if c.Time.After(lastAt) {
				lastAt = c.Time
			}
		}
	}
	res.People = len(chats)
	if res.Sent > 1 {
		res.Seconds = lastAt.Sub(first).Seconds()
		res.Rate = float64(res.Sent-1) / res.Seconds
	}
	if err := r.db.db.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox o JOIN people p ON p.id = o.person_id
WHERE o.created_at >= $1 AND p.external_id >= $2 AND p.external_id < $2 + $3`, started, chatsStored, n).Scan(&res.Expected); err != nil {
		return res, fmt.Errorf("bench: fan-out: %w", err)
	}
	for i, k := range kids {
		if err := k.stop(); err != nil {
			return res, err
		}
		kids[i] = nil
	}
	kids = nil
	return res, nil
}

// pendingCheckins tells whether the fan-out has work left: check-ins still
// due, and messages written since started that wait. Both look only as far
// as the first row (through the partial indexes on due check-ins and
// pending messages), so watching costs the database next to nothing.
func (r *runner) pendingCheckins(ctx context.Context, started time.Time) (due, waiting bool, err error) {
	err = r.db.db.Pool().QueryRow(ctx, `SELECT
  EXISTS (SELECT 1 FROM checkin_schedules WHERE due_at <= now()),
  EXISTS (SELECT 1 FROM outbox WHERE status = 'pending' AND created_at >= $1)`, started).Scan(&due, &waiting)
	if err != nil {
		return false, false, fmt.Errorf("bench: fan-out: %w", err)
	}
	return due, waiting, nil
}
