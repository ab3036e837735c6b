-- Flags for the coach: a crisis signal, distress, a request for a human, an
-- LLM reply the guard rejected. No message text is stored here: the flagged
-- message is found by its transcript id (sealed there).
CREATE TABLE flags (
    id                bigserial   PRIMARY KEY,
    person_id         bigint      NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    created_at        timestamptz NOT NULL,
    level             text        NOT NULL CHECK (level IN ('low', 'elevated', 'acute')),
    category          text        NOT NULL DEFAULT '',
    rule              text        NOT NULL DEFAULT '',
    transcript_id     bigint,                 -- the person's message that raised it
    exercise          text        NOT NULL DEFAULT '',
    step              text        NOT NULL DEFAULT '',
    run_state         text        NOT NULL DEFAULT '', -- running, stopped, none
    status            text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'reviewed')),
    reviewed_at       timestamptz,
    reviewed_by       bigint,
    announced_at      timestamptz,            -- last alert to the coaches
    announcements     integer     NOT NULL DEFAULT 0,
    declined_at       timestamptz,            -- the person declined help after an acute flag
    follow_up_due     timestamptz,
    follow_up_sent_at timestamptz
);

CREATE INDEX flags_open ON flags (created_at) WHERE status = 'open';
CREATE INDEX flags_person ON flags (person_id, created_at);
CREATE INDEX flags_follow_up ON flags (follow_up_due) WHERE follow_up_due IS NOT NULL AND follow_up_sent_at IS NULL;
