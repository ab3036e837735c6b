-- Delivery of the outbox: one row per chat (person) that has ever had a
-- message to deliver, holding the lease that lets exactly one replica send
-- that chat's messages at a time, and the gate (next_at) before which no
-- replica may send to it again (retry backoff, 429 retry_after, per-chat
-- spacing handed from one replica to the next).
--
-- The statements are idempotent and deliveries has no foreign key: a database
-- wiped back to version 0 (its other tables dropped) migrates again cleanly.
-- The trigger below removes a person's row when the person is deleted.

CREATE TABLE IF NOT EXISTS deliveries (
    person_id    bigint      PRIMARY KEY,
    leased_by    text,                         -- the replica holding the lease, NULL when free
    leased_until timestamptz,                  -- the lease is void after this; a claim takes it over
    claim        bigint,                       -- random id of the claim that took the lease
    next_at      timestamptz NOT NULL          -- no sends to this chat before this time
) WITH (fillfactor = 70); -- leased and released on every delivery; room for HOT updates

-- Heartbeats and shutdown find a replica's leases through this index.
CREATE INDEX IF NOT EXISTS deliveries_leased_by ON deliveries (leased_by) WHERE leased_by IS NOT NULL;

-- An edit looks up the message that carried a prompt's buttons.
CREATE INDEX IF NOT EXISTS outbox_prompt ON outbox (person_id, prompt, id) WHERE remote_id IS NOT NULL;

CREATE OR REPLACE FUNCTION deliveries_forget_person() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM deliveries WHERE person_id = OLD.id;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER people_forget_delivery
    AFTER DELETE ON people
    FOR EACH ROW EXECUTE FUNCTION deliveries_forget_person();
