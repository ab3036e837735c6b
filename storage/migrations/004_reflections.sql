-- Reflective replies asked of the LLM (issue 5). The turn that asks for one
-- writes its row, so a restart or a crash loses nothing; a worker claims the
-- row with a lease, asks the model outside any transaction, and answers the
-- person with exactly one turn (input source "reflect:<id>") that also marks
-- the row done. Once done, the sealed request is emptied: only the figures
-- stay.
CREATE TABLE reflections (
    id                bigserial   PRIMARY KEY,
    person_id         bigint      NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    channel           text        NOT NULL,
    chat_id           bigint      NOT NULL, -- the person's id on the channel, as the turn's input named it
    token             integer     NOT NULL, -- the engine's reflection token
    exercise          text        NOT NULL,
    step              text        NOT NULL,
    lang              text        NOT NULL,
    request           bytea       NOT NULL, -- prompts.Request as JSON, sealed; emptied when done
    status            text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
    created_at        timestamptz NOT NULL,
    deadline_at       timestamptz NOT NULL, -- created_at + llm.timeout: the person never waits longer
    lease_until       timestamptz,          -- a worker is on it until then
    claims            integer     NOT NULL DEFAULT 0,
    answered_at       timestamptz,
    shown             boolean,              -- false when the person had moved on and nothing was sent
    model             text        NOT NULL DEFAULT '',
    prompt_tokens     integer     NOT NULL DEFAULT 0,
    completion_tokens integer     NOT NULL DEFAULT 0,
    latency_ms        integer,
    fallback_reason   text        NOT NULL DEFAULT '' -- '' when the model's reply was used
);

CREATE INDEX reflections_pending ON reflections (deadline_at) WHERE status = 'pending';
CREATE INDEX reflections_person ON reflections (person_id, id) WHERE status = 'pending';
