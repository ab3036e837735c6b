-- The first schema: people, their conversation state, processed inputs, the
-- transcript and the outbox. Everything a person wrote (state, transcript
-- bodies, outgoing payloads) is stored sealed by the person's cipher.

CREATE TABLE people (
    id              bigserial PRIMARY KEY,
    channel         text        NOT NULL,
    external_id     bigint      NOT NULL,
    chat_id         bigint      NOT NULL,
    lang            text        NOT NULL DEFAULT 'nl',
    active          boolean     NOT NULL DEFAULT true,
    consent_at      timestamptz,
    consent_version text,
    data_key        bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel, external_id)
) WITH (fillfactor = 90); -- every turn updates last_seen_at; room for HOT updates

CREATE TABLE conversations (
    person_id  bigint      PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    state      bytea       NOT NULL,
    wake_at    timestamptz,
    updated_at timestamptz NOT NULL
) WITH (fillfactor = 80); -- rewritten on almost every turn

CREATE INDEX conversations_wake_at ON conversations (wake_at) WHERE wake_at IS NOT NULL;

-- One row per processed update (Telegram update_id, timer, ...): its primary
-- key makes each input take effect at most once.
CREATE TABLE inputs (
    source       text        PRIMARY KEY,
    person_id    bigint      REFERENCES people (id) ON DELETE CASCADE,
    processed_at timestamptz NOT NULL
);

-- Rows arrive in processed_at order, so a BRIN index makes pruning cheap at
-- almost no cost per insert.
CREATE INDEX inputs_processed_at ON inputs USING brin (processed_at);

CREATE TABLE transcript (
    id        bigserial   PRIMARY KEY,
    person_id bigint      NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    at        timestamptz NOT NULL,
    direction text        NOT NULL CHECK (direction IN ('in', 'out', 'coach', 'system')),
    exercise  text        NOT NULL DEFAULT '',
    step      text        NOT NULL DEFAULT '',
    kind      text        NOT NULL DEFAULT '',
    body      bytea       NOT NULL
);

CREATE INDEX transcript_person ON transcript (person_id, id);

CREATE TABLE outbox (
    id         bigserial   PRIMARY KEY,
    person_id  bigint      NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    chat_id    bigint      NOT NULL,
    kind       text        NOT NULL,
    payload    bytea       NOT NULL,
    priority   smallint    NOT NULL DEFAULT 0, -- 0 interactive; higher goes later (10 scheduled)
    status     text        NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'sent', 'failed', 'dropped')),
    attempts   integer     NOT NULL DEFAULT 0,
    not_before timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    sent_at    timestamptz,
    remote_id  bigint,                         -- Telegram message_id once sent
    prompt     integer     NOT NULL DEFAULT 0, -- button nonce the message carries, 0 if none
    last_error text
);

CREATE INDEX outbox_pending ON outbox (person_id, id) WHERE status = 'pending';
