package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"golang.org/x/time/rate"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/storage"
)

// Delivery sends the outbox to Telegram: in order per chat, within
// Telegram's limits, retrying what can be retried, and marking a message
// sent only once Telegram confirmed it.
//
// Any number of replicas may run one on the same database. A replica leases
// a chat before it sends to it (storage.ClaimChats), so two replicas never
// send one chat's messages at once, and a replica that dies leaves leases
// that run out and are taken over. New messages are found by polling the
// outbox every poll interval (WithDeliveryPoll) and at once when Wake is
// called, which the conversation service does after a turn commits
// (conversation.WithNotify(d.Wake)); there is no LISTEN/NOTIFY.
//
// Within one process:
//   - one loop goroutine claims chats and decides what to send next: among
//     the chats whose next message may go now, interactive ones (priority
//     0) before scheduled ones, then the oldest message first;
//   - each chat has a token bucket (cfg.PerChatRate, burst cfg.PerChatBurst)
//     and all sends share one (cfg.GlobalRate);
//   - at most cfg.Workers calls to Telegram are in flight, at most one per
//     chat;
//   - a 429 waits retry_after, other transient errors back off
//     exponentially with jitter, up to cfg.MaxSendRetries tries; the chat's
//     later messages wait meanwhile. A 403 marks the person inactive and
//     drops their queue; a 400 fails that message and goes on.
//
// Logs name outbox and person ids and error classes, never message text or
// the token.
type Delivery struct {
	db      *storage.DB
	api     *bot.Bot
	cfg     config.Telegram
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time
	owner   string

	lease      time.Duration
	poll       time.Duration
	backoffMin time.Duration
	backoffMax time.Duration
	maxChats   int

	wake   chan struct{}
	global *rate.Limiter

	// Chats that turns leased for this process (storage.Courier), on their
	// way to the loop. accepting is true while the loop takes them.
	handoff   chan storage.ChatQueue
	handMu    sync.Mutex
	accepting bool
	holding   map[int64]struct{} // the chats the loop holds, as of its last change
	scrub     *strings.Replacer
	running   atomic.Bool

	limMu    sync.Mutex
	limiters map[int64]*rate.Limiter // per person; only chats sent to recently
}

// DeliveryOption configures NewDelivery.
type DeliveryOption func(*Delivery)

// WithDeliveryLogger sets the logger (default slog.Default()).
func WithDeliveryLogger(l *slog.Logger) DeliveryOption {
	return func(d *Delivery) { d.log = l }
}

// WithDeliveryMetrics sets the collectors to update (default: unregistered
// ones).
func WithDeliveryMetrics(m *Metrics) DeliveryOption {
	return func(d *Delivery) { d.metrics = m }
}

// WithDeliveryClock sets the clock used for rate limits, retry times and
// lease checks (default time.Now). Waiting uses real timers for the
// differences between its readings. The store has a clock of its own
// (storage.WithClock) for leases and due times; give both the same one.
func WithDeliveryClock(now func() time.Time) DeliveryOption {
	return func(d *Delivery) { d.now = now }
}

// WithDeliveryOwner names this replica in the leases it takes (default: host
// name, process id and a random suffix). Two running Deliveries must not
// share a name.
func WithDeliveryOwner(name string) DeliveryOption {
	return func(d *Delivery) { d.owner = name }
}

// WithDeliveryLease sets how long a chat's lease lasts without renewal
// (default 30s, and at least three send timeouts). Leases are renewed every
// third of it; a replica that dies holds its chats this long at most.
func WithDeliveryLease(lease time.Duration) DeliveryOption {
	return func(d *Delivery) { d.lease = lease }
}

// WithDeliveryPoll sets how often the outbox is checked for messages nobody
// called Wake for, such as those enqueued by another replica (default 1s).
func WithDeliveryPoll(every time.Duration) DeliveryOption {
	return func(d *Delivery) { d.poll = every }
}

// WithDeliveryBackoff sets the wait before the first retry after a server
// error, timeout or dropped connection, doubled for each further try up to
// max, with jitter (default 1s up to 2m).
func WithDeliveryBackoff(first, max time.Duration) DeliveryOption {
	return func(d *Delivery) { d.backoffMin, d.backoffMax = first, max }
}

// WithDeliveryMaxChats caps the chats one process holds leases on at once
// (default 256). Chats waiting for their per-chat rate or a retry hold one.
func WithDeliveryMaxChats(n int) DeliveryOption {
	return func(d *Delivery) { d.maxChats = n }
}

// NewDelivery returns a Delivery that sends db's outbox through api with the
// limits in cfg (Workers, GlobalRate, PerChatRate, PerChatBurst, SendTimeout,
// MaxSendRetries). A rate of 0 or less means no limit.
func NewDelivery(db *storage.DB, api *bot.Bot, cfg config.Telegram, opts ...DeliveryOption) *Delivery {
	d := &Delivery{
		db: db, api: api, cfg: cfg,
		now:        time.Now,
		poll:       time.Second,
		backoffMin: time.Second,
		backoffMax: 2 * time.Minute,
		maxChats:   256,
		wake:       make(chan struct{}, 1),
		limiters:   map[int64]*rate.Limiter{},
	}
	for _, o := range opts {
		o(d)
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.metrics == nil {
		d.metrics = NewMetrics(nil)
	}
	if d.owner == "" {
		d.owner = defaultDeliveryOwner()
	}
	d.cfg.Workers = max(d.cfg.Workers, 1)
	d.cfg.PerChatBurst = max(d.cfg.PerChatBurst, 1)
	d.cfg.MaxSendRetries = max(d.cfg.MaxSendRetries, 0)
	if d.cfg.SendTimeout <= 0 {
		d.cfg.SendTimeout = 10 * time.Second
	}
	if d.lease <= 0 {
		d.lease = 30 * time.Second
	}
	d.lease = max(d.lease, 3*d.cfg.SendTimeout)
	d.poll = max(d.poll, time.Millisecond)
	d.backoffMin = max(d.backoffMin, time.Millisecond)
	d.backoffMax = max(d.backoffMax, d.backoffMin)
	d.maxChats = max(d.maxChats, 1)
	d.handoff = make(chan storage.ChatQueue, d.maxChats)
	d.holding = map[int64]struct{}{}
	// A burst of a tenth of a second's sends: at most rate + rate/10 go out in
	// any one-second window (27 at the default 25/s, under Telegram's ~30).
	d.global = rate.NewLimiter(perSecond(d.cfg.GlobalRate), max(1, int(math.Ceil(d.cfg.GlobalRate/10))))
	if token := api.Token(); token != "" {
		d.scrub = strings.NewReplacer(token, "<token>")
	} else {
		d.scrub = strings.NewReplacer()
	}
	return d
}

func perSecond(perSecond float64) rate.Limit {
	if perSecond <= 0 {
		return rate.Inf
	}
	return rate.Limit(perSecond)
}

func defaultDeliveryOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "stilstaan"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
}

// Owner is the name this Delivery leases chats under.
func (d *Delivery) Owner() string { return d.owner }

// Wake tells the delivery loop that messages were enqueued, so it looks now
// rather than at the next poll. It never blocks.
func (d *Delivery) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// SendChatAction shows a chat action ("typing") in a chat, best effort: it
// bypasses the outbox and the rate limits, gives up after cfg.SendTimeout,
// and its error (for the caller to ignore or log) names only the error
// class.
func (d *Delivery) SendChatAction(ctx context.Context, chatID int64, action string) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	defer cancel()
	_, err := d.api.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: chatID, Action: models.ChatAction(action)})
	if err == nil {
		return nil
	}
	f := d.classify(err)
	d.log.DebugContext(ctx, "bot: chat action failed", slog.Int64("chat_id", chatID),
		slog.String("class", f.class), slog.String("detail", f.detail))
	return fmt.Errorf("bot: send chat action: %s", f)
}

// Run delivers until ctx is done, then lets the sends in flight finish
// (each within cfg.SendTimeout), records their sendOutcome, gives up its leases
// and returns nil. It returns an error only when Run is already running.
func (d *Delivery) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("bot: delivery: Run is already running")
	}
	defer d.running.Store(false)
	l := &deliveryLoop{d: d, held: map[int64]*chatRun{}, results: make(chan sendOutcome)}
	d.handMu.Lock()
	d.accepting = true
	d.handMu.Unlock()
	courier := &storage.Courier{Owner: d.owner, Lease: d.lease, Room: d.room, Take: d.take, Wake: d.Wake, Holds: d.holds}
	d.db.SetCourier(courier)
	l.serve(ctx, courier)
	return nil
}

// room reports whether the loop would take another chat a turn leases.
func (d *Delivery) room() bool {
	d.handMu.Lock()
	defer d.handMu.Unlock()
	return d.accepting && len(d.handoff)+len(d.holding) < d.maxChats
}

// holds reports whether the loop holds the person's chat: it then claims
// again as soon as the chat is released, and finds what a turn queued
// meanwhile without being woken.
func (d *Delivery) holds(personID int64) bool {
	d.handMu.Lock()
	defer d.handMu.Unlock()
	_, ok := d.holding[personID]
	return ok
}

// take passes a chat a turn leased to the loop; false when the loop stopped
// taking chats (the turn then gives the lease back).
func (d *Delivery) take(q storage.ChatQueue) bool {
	d.handMu.Lock()
	defer d.handMu.Unlock()
	if !d.accepting {
		return false
	}
	select {
	case d.handoff <- q:
		return true
	default:
		return false
	}
}

// stopTaking ends the handoff of chats from turns: chats still on their way
// are dropped here, their leases given up with the rest at shutdown.
func (d *Delivery) stopTaking(courier *storage.Courier) {
	d.db.DropCourier(courier)
	d.handMu.Lock()
	d.accepting = false
	d.handMu.Unlock()
	for {
		select {
		case <-d.handoff:
		default:
			return
		}
	}
}

// chatRun is a chat this process holds the lease on, with the messages it
// still has to send. Only the loop goroutine touches it.
type chatRun struct {
	personID   int64
	msgs       []storage.OutMessage
	priority   int       // lowest priority among msgs
	part       int       // parts of msgs[0] already sent (a long text is several)
	attempts   int       // failed tries of msgs[0] so far
	busy       bool      // a send is in flight
	readyAt    time.Time // not before then (rate limit or retry)
	leaseUntil time.Time
	lost       bool // the lease was lost: finish the send in flight, then forget
	// unmarked are edits Telegram confirmed whose marks go with the next
	// message's (sending an edit twice changes nothing, so a crash before
	// that only repeats it).
	unmarked []storage.Sent
	// again is the chat leased anew by a claim that ran after the send in
	// flight released it and before its outcome was applied: the chat goes
	// on with it instead of waiting for that lease to run out.
	again *storage.ChatQueue
}

// sendJob is one Bot API call to make for a chat.
type sendJob struct {
	msg      storage.OutMessage
	part     int
	attempts int
	last     bool           // msgs[0] is the chat's last message: release the chat when it is done
	carry    []storage.Sent // the chat's unmarked edits, to mark with this message
}

// sendOutcome is what became of a sendJob, its database writes done.
type sendOutcome struct {
	personID int64
	done     bool      // the message is finished with (sent or failed)
	nextPart bool      // a part went; the message has more
	retryAt  time.Time // otherwise: try again then
	attempts int
	released bool          // the chat was released (queue done or dropped)
	forget   bool          // the database failed: stop, and let the lease run out
	marked   bool          // the job's carried marks were written
	unmarked *storage.Sent // a confirmed edit whose mark waits for the next message
}

// deliveryLoop is the state of one Run.
type deliveryLoop struct {
	d        *Delivery
	held     map[int64]*chatRun
	inflight int
	results  chan sendOutcome
	ready    []*chatRun // scratch for dispatch
	// stray are the leases of this owner that the last renewal found and
	// the loop did not hold.
	stray map[int64]bool
}

// deliveryClaimGap spaces claims that releases asked for, so a busy process does
// not scan the outbox after every message.
const deliveryClaimGap = 10 * time.Millisecond

// deliveryDepthEvery is how often the outbox depth gauge is refreshed.
const deliveryDepthEvery = 5 * time.Second

func (l *deliveryLoop) serve(ctx context.Context, courier *storage.Courier) {
	d := l.d
	// Sends and their bookkeeping outlive ctx: they finish, then Run returns.
	bg := context.WithoutCancel(ctx)
	poll := time.NewTicker(d.poll)
	defer poll.Stop()
	beat := time.NewTicker(d.lease / 3)
	defer beat.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	needClaim := true
	var lastClaim, lastDepth time.Time
	for ctx.Err() == nil {
		now := d.now()
		var wakeAt time.Time
		if needClaim && len(l.held) < d.maxChats {
			if next := lastClaim.Add(deliveryClaimGap); now.Before(next) {
				wakeAt = next
			} else {
				l.claim(ctx, now)
				lastClaim, needClaim = now, false
				now = d.now()
			}
		}
		if at := l.dispatch(bg, now); !at.IsZero() && (wakeAt.IsZero() || at.Before(wakeAt)) {
			wakeAt = at
		}
		d.metrics.Leased.Set(float64(len(l.held)))
		if now.Sub(lastDepth) >= deliveryDepthEvery {
			l.refreshDepth(ctx)
			lastDepth = now
		}

		if wakeAt.IsZero() {
			timer.Stop()
		} else {
			timer.Reset(max(wakeAt.Sub(now), 0))
		}
		select {
		case <-ctx.Done():
		case q := <-d.handoff:
			l.adopt(ctx, q, d.now())
		case <-d.wake:
			needClaim = true
		case <-poll.C:
			needClaim = true
		case <-beat.C:
			l.renew(ctx)
		case o := <-l.results:
			if l.apply(bg, o) {
				needClaim = true
			}
		case <-timer.C:
		}
	}

	d.stopTaking(courier)
	for l.inflight > 0 {
		l.apply(bg, <-l.results)
	}
	rctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	if _, err := d.db.ReleaseAll(rctx, d.owner); err != nil {
		d.log.WarnContext(rctx, "bot: delivery: release leases at shutdown; they run out by themselves",
			slog.String("owner", d.owner), slog.Any("error", err))
	}
	d.metrics.Leased.Set(0)
}

// claim leases more chats, up to the cap.
func (l *deliveryLoop) claim(ctx context.Context, now time.Time) {
	d := l.d
	qs, err := d.db.ClaimChats(ctx, d.owner, d.maxChats-len(l.held), d.lease)
	if err != nil {
		if ctx.Err() == nil {
			d.log.ErrorContext(ctx, "bot: delivery: claim chats", slog.Any("error", err))
		}
		return
	}
	for _, q := range qs {
		l.adopt(ctx, q, now)
	}
}

// hold adds a chat to the ones the loop works on.
func (l *deliveryLoop) hold(c *chatRun) {
	l.held[c.personID] = c
	l.d.handMu.Lock()
	l.d.holding[c.personID] = struct{}{}
	l.d.handMu.Unlock()
}

// drop forgets a chat: it was released, or its lease lost. Before the next
// claim, so that a turn that finds it held (holds) is sure of that claim.
func (l *deliveryLoop) drop(personID int64) {
	delete(l.held, personID)
	l.d.handMu.Lock()
	delete(l.d.holding, personID)
	l.d.handMu.Unlock()
}

// adopt takes on a chat leased by a claim or by a turn (storage.Courier).
func (l *deliveryLoop) adopt(ctx context.Context, q storage.ChatQueue, now time.Time) {
	d := l.d
	if c, ok := l.held[q.PersonID]; ok && len(q.Messages) > 0 {
		// The send in flight released the chat (its last message went)
		// and this lease was taken anew before the outcome arrived, or
		// the old lease was lost meanwhile: apply decides.
		c.again = &q
		return
	}
	if len(q.Messages) == 0 {
		if err := d.db.Release(ctx, q.PersonID, d.owner, now); err != nil {
			d.log.WarnContext(ctx, "bot: delivery: release empty chat", slog.Int64("person_id", q.PersonID), slog.Any("error", err))
		}
		return
	}
	l.hold(&chatRun{
		personID: q.PersonID, msgs: q.Messages, priority: q.Priority,
		attempts: q.Messages[0].Attempts, leaseUntil: q.LeasedUntil,
	})
}

// dispatch starts sends for the chats whose next message may go now, most
// urgent first, and returns when to look again (zero: when something
// happens).
func (l *deliveryLoop) dispatch(bg context.Context, now time.Time) (wakeAt time.Time) {
	d := l.d
	earliest := func(t time.Time) {
		if wakeAt.IsZero() || t.Before(wakeAt) {
			wakeAt = t
		}
	}
	l.ready = l.ready[:0]
	for _, c := range l.held {
		switch {
		case c.busy || len(c.msgs) == 0:
		case c.readyAt.After(now):
			earliest(c.readyAt)
		default:
			l.ready = append(l.ready, c)
		}
	}
	slices.SortFunc(l.ready, func(a, b *chatRun) int {
		if a.priority != b.priority {
			return a.priority - b.priority
		}
		return int(a.msgs[0].ID - b.msgs[0].ID)
	})
	for _, c := range l.ready {
		if l.inflight >= d.cfg.Workers {
			break // a result wakes the loop
		}
		if !now.Add(d.cfg.SendTimeout).Before(c.leaseUntil) {
			continue // too close to the end of the lease: the heartbeat renews it
		}
		chat := d.chatLimiter(c.personID).ReserveN(now, 1)
		if delay := chat.DelayFrom(now); delay > 0 {
			chat.CancelAt(now)
			c.readyAt = now.Add(delay)
			earliest(c.readyAt)
			continue
		}
		global := d.global.ReserveN(now, 1)
		if delay := global.DelayFrom(now); delay > 0 {
			global.CancelAt(now)
			chat.CancelAt(now)
			earliest(now.Add(delay))
			break
		}
		c.busy = true
		l.inflight++
		j := sendJob{msg: c.msgs[0], part: c.part, attempts: c.attempts, last: len(c.msgs) == 1, carry: slices.Clip(c.unmarked)}
		go func() { l.results <- d.process(bg, j) }()
	}
	return wakeAt
}

// apply records an sendOutcome and reports whether the chat left (room to claim).
func (l *deliveryLoop) apply(ctx context.Context, o sendOutcome) (left bool) {
	l.inflight--
	c := l.held[o.personID]
	if c == nil {
		return false
	}
	c.busy = false
	if o.marked {
		c.unmarked = nil // nothing is added while a send is in flight
	}
	if o.unmarked != nil {
		c.unmarked = append(c.unmarked, *o.unmarked)
	}
	switch {
	case o.released || o.forget || c.lost:
		l.drop(o.personID)
		if q := c.again; q != nil {
			// A claim leased the chat again after the send in flight
			// released it, before this outcome arrived. Go on with that
			// lease, leaving out the message that was in flight (a lease
			// lost and taken back may have loaded it before it was marked).
			if o.released {
				sent := c.msgs[0].ID
				msgs := slices.DeleteFunc(q.Messages, func(m storage.OutMessage) bool { return m.ID == sent })
				if len(msgs) > 0 {
					l.hold(&chatRun{personID: o.personID, msgs: msgs, priority: minPriority(msgs),
						attempts: msgs[0].Attempts, leaseUntil: q.LeasedUntil})
					return false
				}
			}
			l.release(ctx, o.personID)
		}
		return true
	case o.nextPart:
		c.part++
	case o.done:
		c.msgs, c.part = c.msgs[1:], 0
		if len(c.msgs) == 0 { // its release failed; the lease runs out
			l.drop(o.personID)
			return true
		}
		c.attempts = c.msgs[0].Attempts
		c.priority = minPriority(c.msgs)
	default:
		c.attempts, c.readyAt = o.attempts, o.retryAt
	}
	return false
}

// minPriority is the most urgent priority among msgs (not empty).
func minPriority(msgs []storage.OutMessage) int {
	p := msgs[0].Priority
	for _, m := range msgs[1:] {
		p = min(p, m.Priority)
	}
	return p
}

// release gives up the lease of a chat this process does not hold, keeping
// its per-chat spacing; a failure leaves the lease to run out.
func (l *deliveryLoop) release(ctx context.Context, personID int64) {
	d := l.d
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := d.db.Release(rctx, personID, d.owner, d.nextAllowed(personID, d.now())); err != nil {
		d.log.WarnContext(ctx, "bot: delivery: release an unused lease; it runs out by itself",
			slog.Int64("person_id", personID), slog.Any("error", err))
	}
}

// renew extends the leases and forgets the chats whose lease was lost.
func (l *deliveryLoop) renew(ctx context.Context) {
	d := l.d
	now := d.now()
	ids, err := d.db.RenewLeases(ctx, d.owner, d.lease)
	if err != nil {
		if ctx.Err() == nil {
			d.log.WarnContext(ctx, "bot: delivery: renew leases", slog.Any("error", err))
		}
		return
	}
	kept := make(map[int64]bool, len(ids))
	stray := map[int64]bool{}
	for _, id := range ids {
		kept[id] = true
		if _, ok := l.held[id]; ok {
			continue
		}
		// A lease nobody here works on. A turn's hand-over (storage.Courier)
		// is one for a moment: committed, and not yet taken by the loop.
		// One still unclaimed at the next renewal was left by a failed
		// write: renewing it would keep the chat from everyone.
		if l.stray[id] {
			l.release(ctx, id)
		} else {
			stray[id] = true
		}
		delete(kept, id)
	}
	l.stray = stray
	until := now.Add(d.lease)
	for id, c := range l.held {
		switch {
		case kept[id]:
			c.leaseUntil = until
		case c.busy:
			c.lost = true
		default:
			d.log.WarnContext(ctx, "bot: delivery: lease lost", slog.Int64("person_id", id))
			l.drop(id)
		}
	}
	d.pruneLimiters(now, l.held)
}

func (l *deliveryLoop) refreshDepth(ctx context.Context) {
	n, err := l.d.db.OutboxDepth(ctx)
	if err != nil {
		if ctx.Err() == nil {
			l.d.log.WarnContext(ctx, "bot: delivery: outbox depth", slog.Any("error", err))
		}
		return
	}
	l.d.metrics.OutboxDepth.Set(float64(n))
}

// chatLimiter returns the person's token bucket.
func (d *Delivery) chatLimiter(personID int64) *rate.Limiter {
	d.limMu.Lock()
	defer d.limMu.Unlock()
	lim := d.limiters[personID]
	if lim == nil {
		lim = rate.NewLimiter(perSecond(d.cfg.PerChatRate), d.cfg.PerChatBurst)
		d.limiters[personID] = lim
	}
	return lim
}

// nextAllowed is when the person's bucket allows the next send: the gate a
// released chat gets, so whichever replica sends next keeps the spacing.
func (d *Delivery) nextAllowed(personID int64, now time.Time) time.Time {
	r := d.chatLimiter(personID).ReserveN(now, 1)
	delay := r.DelayFrom(now)
	r.CancelAt(now)
	return now.Add(delay)
}

// pruneLimiters forgets the buckets of chats not held that are full again
// (a new bucket would be the same), so the map stays small.
func (d *Delivery) pruneLimiters(now time.Time, held map[int64]*chatRun) {
	d.limMu.Lock()
	defer d.limMu.Unlock()
	for id, lim := range d.limiters {
		if _, ok := held[id]; !ok && lim.TokensAt(now) >= float64(lim.Burst()) {
			delete(d.limiters, id)
		}
	}
}

// process makes one sendJob's call and records its sendOutcome in the database.
func (d *Delivery) process(ctx context.Context, j sendJob) sendOutcome {
	m := j.msg
	log := d.log.With(slog.Int64("outbox_id", m.ID), slog.Int64("person_id", m.PersonID))
	env, err := conversation.DecodeEnvelope(m.Payload)
	if err != nil {
		return d.fail(ctx, log, j, sendFailure{class: "undecodable_payload"})
	}
	var target int64 // the message an edit changes
	if m.Kind == conversation.KindEdit {
		if env.Prompt == 0 {
			return d.fail(ctx, log, j, sendFailure{class: "edit_without_prompt"})
		}
		target, err = m.EditOf, nil // found by the claim, when it could be
		if target == 0 || env.Prompt != m.Prompt {
			target, err = d.db.RemoteIDForPrompt(ctx, m.PersonID, env.Prompt)
		}
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return d.fail(ctx, log, j, sendFailure{class: "prompt_not_sent"})
		case err != nil:
			log.WarnContext(ctx, "bot: delivery: look up message to edit", slog.Any("error", err))
			return d.retry(ctx, log, j, sendFailure{class: "database"})
		}
	}
	parts, err := renderEnvelope(m.Kind, m.ChatID, env, target, func(row, col, size int) {
		log.WarnContext(ctx, "bot: delivery: button left out: callback data empty or over 64 bytes",
			slog.Int("row", row), slog.Int("col", col), slog.Int("bytes", size))
	})
	if err != nil {
		return d.fail(ctx, log, j, sendFailure{class: "unrenderable", detail: err.Error()})
	}
	if j.part >= len(parts) {
		j.part = len(parts) - 1
	}
	p := &parts[j.part]

	sctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	start := time.Now()
	remote, err := p.send(sctx, d.api)
	cancel()
	d.metrics.Latency.WithLabelValues(p.method()).Observe(time.Since(start).Seconds())

	f := d.classify(err)
	switch f.class {
	case "", sendErrConfirmed:
		d.metrics.Sends.WithLabelValues(sendResultSent).Inc()
		if f.class == sendErrConfirmed {
			log.WarnContext(ctx, "bot: delivery: Telegram confirmed a message but its answer could not be read")
		}
		if j.part+1 < len(parts) {
			return sendOutcome{personID: m.PersonID, nextPart: true, attempts: j.attempts}
		}
		if m.Kind == conversation.KindEdit {
			remote = target
		}
		return d.finish(ctx, log, j, remote)
	case sendErrBadRequest:
		if m.Kind == conversation.KindEdit && (strings.Contains(f.detail, "message is not modified") ||
			strings.Contains(f.detail, "message to edit not found")) {
			d.metrics.Sends.WithLabelValues(sendResultSent).Inc()
			return d.finish(ctx, log, j, target)
		}
		return d.fail(ctx, log, j, f)
	case sendErrForbidden:
		return d.drop(ctx, log, j, f)
	case sendErrRateLimited:
		d.metrics.Sends.WithLabelValues(sendResultRetry429).Inc()
		d.metrics.Retries.WithLabelValues(f.class).Inc()
		at := d.now().Add(time.Duration(max(f.retryAfter, 1)) * time.Second)
		log.InfoContext(ctx, "bot: delivery: rate limited by Telegram", slog.Int("retry_after", f.retryAfter))
		return d.reschedule(ctx, log, j, at, j.attempts, f)
	}
	return d.retry(ctx, log, j, f)
}

// retry schedules another try after a transient error, or gives up after
// cfg.MaxSendRetries retries.
func (d *Delivery) retry(ctx context.Context, log *slog.Logger, j sendJob, f sendFailure) sendOutcome {
	attempts := j.attempts + 1
	if attempts > d.cfg.MaxSendRetries {
		log.WarnContext(ctx, "bot: delivery: giving up after retries", slog.Int("attempts", attempts),
			slog.String("class", f.class), slog.String("detail", f.detail))
		return d.fail(ctx, log, j, f)
	}
	result := sendResultRetry5xx
	if f.class == sendErrTimeout || f.class == sendErrNetwork {
		result = sendResultRetryNetwork
	}
	d.metrics.Sends.WithLabelValues(result).Inc()
	d.metrics.Retries.WithLabelValues(f.class).Inc()
	log.InfoContext(ctx, "bot: delivery: send failed, will retry", slog.Int("attempts", attempts),
		slog.String("class", f.class), slog.String("detail", f.detail))
	return d.reschedule(ctx, log, j, d.now().Add(d.backoff(attempts)), attempts, f)
}

// backoff is the wait before retry number n (1 for the first): doubling from
// backoffMin up to backoffMax, with jitter over its upper half.
func (d *Delivery) backoff(n int) time.Duration {
	w := d.backoffMax
	if n-1 < 30 {
		w = min(d.backoffMin<<(n-1), d.backoffMax)
	}
	half := w / 2
	return half + mrand.N(half+1)
}

func (d *Delivery) reschedule(ctx context.Context, log *slog.Logger, j sendJob, at time.Time, attempts int, f sendFailure) sendOutcome {
	err := d.write(ctx, func(ctx context.Context) error {
		return d.db.Reschedule(ctx, j.msg.ID, at, attempts, f.String())
	})
	if err != nil {
		return d.lost(ctx, log, "reschedule", err, j)
	}
	return sendOutcome{personID: j.msg.PersonID, retryAt: at, attempts: attempts}
}

// finish records a message Telegram confirmed and releases the chat if it
// was the last one.
func (d *Delivery) finish(ctx context.Context, log *slog.Logger, j sendJob, remote int64) sendOutcome {
	if j.last {
		// The chat's last message: marked sent (with the edits held back)
		// and the chat released in one round trip.
		next := d.nextAllowed(j.msg.PersonID, d.now())
		err := d.write(ctx, func(ctx context.Context) error {
			return d.db.MarkSentRelease(ctx, j.msg.ID, remote, j.msg.PersonID, d.owner, next, j.carry...)
		})
		if err != nil {
			return d.lost(ctx, log, "mark sent", err, j)
		}
		return sendOutcome{personID: j.msg.PersonID, done: true, released: true, marked: true}
	}
	if j.msg.Kind == conversation.KindEdit {
		// Another message follows: the edit's mark goes with its mark, a
		// round trip saved. Should the process die before that, the edit
		// is sent again, which changes nothing.
		return sendOutcome{personID: j.msg.PersonID, done: true, unmarked: &storage.Sent{ID: j.msg.ID, RemoteID: remote}}
	}
	if err := d.write(ctx, func(ctx context.Context) error { return d.db.MarkSent(ctx, j.msg.ID, remote, j.carry...) }); err != nil {
		// Sent but not marked: whoever holds the chat next sends it again.
		return d.lost(ctx, log, "mark sent", err, j)
	}
	o := d.done(ctx, log, j)
	o.marked = true
	return o
}

// fail records a message given up on and goes on with the next.
func (d *Delivery) fail(ctx context.Context, log *slog.Logger, j sendJob, f sendFailure) sendOutcome {
	d.metrics.Sends.WithLabelValues(sendResultFailed).Inc()
	log.WarnContext(ctx, "bot: delivery: message failed", slog.String("kind", j.msg.Kind),
		slog.String("class", f.class), slog.String("detail", f.detail))
	if err := d.write(ctx, func(ctx context.Context) error { return d.db.MarkFailed(ctx, j.msg.ID, f.String()) }); err != nil {
		return d.lost(ctx, log, "mark failed", err, j)
	}
	marked := false
	if len(j.carry) > 0 {
		// The edits held back went out: their marks cannot wait for a
		// message that may never come.
		err := d.write(ctx, func(ctx context.Context) error {
			return d.db.MarkSent(ctx, j.carry[0].ID, j.carry[0].RemoteID, j.carry[1:]...)
		})
		if err != nil {
			return d.lost(ctx, log, "mark sent", err, j)
		}
		marked = true
	}
	o := d.done(ctx, log, j)
	o.marked = marked
	return o
}

func (d *Delivery) done(ctx context.Context, log *slog.Logger, j sendJob) sendOutcome {
	o := sendOutcome{personID: j.msg.PersonID, done: true}
	if !j.last {
		return o
	}
	next := d.nextAllowed(j.msg.PersonID, d.now())
	if err := d.write(ctx, func(ctx context.Context) error { return d.db.Release(ctx, j.msg.PersonID, d.owner, next) }); err != nil {
		log.WarnContext(ctx, "bot: delivery: release chat; its lease runs out by itself", slog.Any("error", err))
		return o
	}
	o.released = true
	return o
}

// drop handles a 403: the person blocked the bot (or left the chat).
func (d *Delivery) drop(ctx context.Context, log *slog.Logger, j sendJob, f sendFailure) sendOutcome {
	d.metrics.Sends.WithLabelValues(sendResultDropped403).Inc()
	var n int64
	err := d.write(ctx, func(ctx context.Context) (err error) {
		n, err = d.db.DropQueue(ctx, j.msg.PersonID, f.String())
		return err
	})
	if err != nil {
		return d.lost(ctx, log, "drop queue", err, j)
	}
	log.InfoContext(ctx, "bot: delivery: person blocked the bot; queue dropped", slog.Int64("dropped", n))
	if err := d.write(ctx, func(ctx context.Context) error {
		return d.db.Release(ctx, j.msg.PersonID, d.owner, d.now())
	}); err != nil {
		log.WarnContext(ctx, "bot: delivery: release chat; its lease runs out by itself", slog.Any("error", err))
	}
	return sendOutcome{personID: j.msg.PersonID, released: true}
}

// lost gives up on a chat after its database write failed: nothing more is
// sent to it from here, and its lease runs out.
func (d *Delivery) lost(ctx context.Context, log *slog.Logger, what string, err error, j sendJob) sendOutcome {
	log.ErrorContext(ctx, "bot: delivery: "+what+"; leaving the chat to the next lease", slog.Any("error", err))
	return sendOutcome{personID: j.msg.PersonID, forget: true}
}

// write runs a database write, trying again twice on sendFailure.
func (d *Delivery) write(ctx context.Context, fn func(context.Context) error) error {
	var err error
	for try := range 3 {
		if try > 0 {
			t := time.NewTimer(time.Duration(try*try) * 100 * time.Millisecond)
			<-t.C
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = fn(wctx)
		cancel()
		if err == nil || errors.Is(err, storage.ErrNotFound) {
			return err
		}
	}
	return err
}

// Error classes of a failed call. They appear in logs, in the outbox's
// last_error and as the "reason" of the retries metric.
const (
	sendErrConfirmed   = "confirmed_unreadable" // ok, but the result did not decode: counts as sent
	sendErrRateLimited = "rate_limited"         // 429
	sendErrForbidden   = "forbidden"            // 403
	sendErrBadRequest  = "bad_request"          // 400
	sendErrServer      = "server_error"         // 5xx
	sendErrUndecodable = "undecodable"          // an answer that is not the Bot API's JSON (a proxy's HTML page)
	sendErrTimeout     = "timeout"              // no answer within cfg.SendTimeout
	sendErrNetwork     = "network"              // dropped connection, refused, reset
	sendErrAPI         = "api_error"            // 401, 404, 409 and other answers: configuration trouble
	sendErrUnknown     = "unknown"
)

// sendFailure is a classified error: a class and a detail that is safe to log
// and store (Telegram's description, an HTTP status, a network error), with
// the token scrubbed. It never holds message text or a raw answer body.
type sendFailure struct {
	class      string
	detail     string
	retryAfter int
}

func (f sendFailure) String() string {
	if f.detail == "" {
		return f.class
	}
	return f.class + ": " + f.detail
}

var deliveryStatusInError = regexp.MustCompile(`error response from telegram for method \w+, (\d{3})`)

// classify sorts an error of the go-telegram/bot client. Its typed errors
// come first; the rest are told apart by the fixed texts of its
// raw_request.go, since it wraps them without types.
func (d *Delivery) classify(err error) sendFailure {
	if err == nil {
		return sendFailure{}
	}
	msg := err.Error()
	var tooMany *bot.TooManyRequestsError
	var migrate *bot.MigrateError
	var netErr net.Error
	switch {
	case errors.As(err, &tooMany):
		return sendFailure{class: sendErrRateLimited, retryAfter: tooMany.RetryAfter}
	case errors.Is(err, bot.ErrorForbidden):
		return sendFailure{class: sendErrForbidden, detail: d.description(msg, "Forbidden")}
	case errors.As(err, &migrate):
		return sendFailure{class: sendErrBadRequest, detail: "chat migrated to a supergroup"}
	case errors.Is(err, bot.ErrorBadRequest):
		return sendFailure{class: sendErrBadRequest, detail: d.description(msg, "Bad Request")}
	case errors.Is(err, bot.ErrorUnauthorized), errors.Is(err, bot.ErrorNotFound), errors.Is(err, bot.ErrorConflict):
		return sendFailure{class: sendErrAPI, detail: d.description(msg, "")}
	case strings.Contains(msg, "error decode response result"):
		return sendFailure{class: sendErrConfirmed}
	case strings.Contains(msg, "error decode response body"):
		return sendFailure{class: sendErrUndecodable} // the body may hold anything: not kept
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return sendFailure{class: sendErrTimeout}
	}
	if sm := deliveryStatusInError.FindStringSubmatch(msg); sm != nil {
		code, _ := strconv.Atoi(sm[1])
		if code >= 500 {
			return sendFailure{class: sendErrServer, detail: "HTTP " + sm[1]}
		}
		return sendFailure{class: sendErrAPI, detail: "HTTP " + sm[1]}
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return sendFailure{class: sendErrNetwork, detail: d.safe(urlErr.Err.Error())}
	}
	if strings.Contains(msg, "error read response body") {
		return sendFailure{class: sendErrNetwork, detail: "answer cut off"}
	}
	return sendFailure{class: sendErrUnknown}
}

// description returns Telegram's description from an API error text (the
// client writes "<sentinel>, <description>"), scrubbed and cut short.
func (d *Delivery) description(msg, prefix string) string {
	if prefix != "" {
		if i := strings.Index(msg, prefix+":"); i >= 0 {
			return d.safe(msg[i:])
		}
	}
	if _, after, ok := strings.Cut(msg, ", "); ok {
		return d.safe(after)
	}
	return d.safe(msg)
}

// safe scrubs the token from s and cuts it to 200 bytes.
func (d *Delivery) safe(s string) string {
	s = d.scrub.Replace(s)
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
