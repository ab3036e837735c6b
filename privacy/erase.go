package privacy

import (
	"context"
	"fmt"
	"time"

	"github.com/stilstaan/stilstaan/storage"
)

// AuditPersonDeleted is the audit action of an erasure.
const AuditPersonDeleted = "person_deleted"

// erase buffers, in tx, the erasure of the person of the turn; it takes
// effect when the turn commits, after everything the turn buffered before
// (statements buffered after it must tolerate the person being gone).
//
//  1. The data key is destroyed first (people.data_key = NULL) and dropped
//     from memory (forget): whatever sealed data survives anywhere, such as
//     a stray copy or a row a feature forgot to cascade, is noise from then
//     on.
//  2. The inputs the person sent stay known by their source id only
//     (person_id NULL), so a redelivered update is still a duplicate and does
//     not recreate the person.
//  3. The person row is deleted; ON DELETE CASCADE takes the conversation
//     state, transcript, outbox, consent history, tokens and every other
//     table that references people.
//  4. An audit row records that a person was erased, and why, without saying
//     who.
func erase(ctx context.Context, tx *storage.Tx, at time.Time, reason string, forget func(int64)) error {
	id := tx.Person().ID
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE people SET data_key = NULL WHERE id = $1`, []any{id}},
		{`UPDATE inputs SET person_id = NULL WHERE person_id = $1`, []any{id}},
		{`DELETE FROM people WHERE id = $1`, []any{id}},
		{`INSERT INTO audit (at, action, detail) VALUES ($1, $2, $3)`, []any{at, AuditPersonDeleted, reason}},
	} {
		if err := tx.Exec(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("privacy: erase: %w", err)
		}
	}
	forget(id)
	return nil
}
