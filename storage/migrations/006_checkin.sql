-- Daily check-ins, the evening follow-up and the weekly summary (package
-- checkin). Scheduling lives in rows, not in a process: any replica claims
-- due rows, and each start is a conversation turn deduplicated by its source
-- ("checkin:<person>:<local day>"), so a check-in goes out exactly once.

CREATE TABLE checkin_schedules (
    person_id        bigint      PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    enabled          boolean     NOT NULL DEFAULT false, -- off until the person chooses
    hour             smallint    NOT NULL CHECK (hour BETWEEN 0 AND 23),
    minute           smallint    NOT NULL CHECK (minute BETWEEN 0 AND 59),
    zone             text        NOT NULL,               -- IANA name
    paused_until     timestamptz,
    evening          boolean     NOT NULL DEFAULT false, -- "what did you notice about today's theme?"
    weekly           boolean     NOT NULL DEFAULT true,  -- the weekly summary picture
    version          bigint      NOT NULL DEFAULT 1,     -- bumped by every change of the settings above
    next_due_at      timestamptz,                        -- next daily check-in; NULL when off
    last_local_day   text,                               -- local day (YYYY-MM-DD) of the last check-in started
    attempt          smallint    NOT NULL DEFAULT 0,     -- 1: start again after clearing an unanswered earlier check-in
    evening_due_at   timestamptz,
    evening_last_day text,
    weekly_due_at    timestamptz,
    weekly_last_day  text,
    due_at           timestamptz GENERATED ALWAYS AS (LEAST(next_due_at, evening_due_at, weekly_due_at)) STORED,
    claimed_until    timestamptz,                        -- a scheduler works on the row until then
    claim            bigint,                             -- which scheduler pass holds it
    offered_at       timestamptz,                        -- check-ins were offered after the first exercise
    updated_at       timestamptz NOT NULL
);

CREATE INDEX checkin_schedules_due ON checkin_schedules (due_at) WHERE due_at IS NOT NULL;

-- One row per finished check-in. mood is 1 (heavy) to 5 (light); feeling is an
-- option id of dialogs/scripts/checkin.yaml; note is what the person wrote,
-- sealed with their key, and only kept with consent. NULL means skipped.
CREATE TABLE checkins (
    id        bigserial   PRIMARY KEY,
    person_id bigint      NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    local_day text        NOT NULL,
    mood      smallint    CHECK (mood BETWEEN 1 AND 5),
    feeling   text,
    note      bytea,
    theme     text        NOT NULL DEFAULT '', -- theme of the day (exercise 3)
    at        timestamptz NOT NULL
);

CREATE INDEX checkins_person ON checkins (person_id, at);

-- One row per finished exercise (not check-ins): the scale answers by step id,
-- numbers only. The weekly picture reads "before" and "after".
CREATE TABLE exercise_runs (
    id         bigserial   PRIMARY KEY,
    person_id  bigint      NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    exercise   text        NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at   timestamptz NOT NULL,
    scales     jsonb       NOT NULL DEFAULT '{}'
);

CREATE INDEX exercise_runs_person ON exercise_runs (person_id, ended_at);
