package bot

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
)

// People who answer the moment a message arrives make the next message of
// their chat while the send that delivered it is still being released: a
// claim then leases the chat again before the release's outcome reaches the
// loop. Each such message must still go out at once, not after the lease
// runs out (and not never: heartbeats would renew a lease nobody uses).
// Found by `stilstaan bench`.
func TestDeliveryChatTakenAgainWhileReleasing(t *testing.T) {
	f := newDeliveryFixture(t)
	f.cfg.PerChatRate, f.cfg.PerChatBurst = 1000, 1000
	// Only Wake finds new messages, and a lease left unused would hold its
	// chat for far longer than the test waits.
	d := f.delivery(WithDeliveryPoll(time.Hour), WithDeliveryLease(time.Minute))
	f.run(d)

	const chats, rounds = 20, 15
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, chats)
	for c := int64(1); c <= chats; c++ {
		wg.Go(func() {
			for i := range rounds {
				f.enqueue(c, conversation.PriorityInteractive, conversation.KindMessage,
					conversation.Envelope{Text: numberedText(c, i)})
				d.Wake()
				wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := f.fake.WaitMessages(wctx, c, i+1)
				wcancel()
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a message waited over 5s: %v", err)
	}
	for c := int64(1); c <= chats; c++ {
		f.checkOrder(c, rounds)
	}
	if st := f.fake.Stats(); st.Duplicates != 0 {
		t.Errorf("%d duplicates", st.Duplicates)
	}
}
