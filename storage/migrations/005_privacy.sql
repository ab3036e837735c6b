-- Privacy the person controls: consent history, confirmation tokens for
-- /delete, retention, and an anonymous audit of erasures. Nothing here holds
-- what a person wrote. Every table about a person references people with ON
-- DELETE CASCADE, so erasing the person row erases these rows too.

-- Retention counts inactivity from the person's own last input (a message, a
-- button, a command). last_seen_at cannot be used: timers, check-ins and
-- coach alerts move it too. NULL means no input recorded yet (then created_at
-- counts). retention_warned_at is when the person was told their data will be
-- erased; their next input clears it.
ALTER TABLE people
    ADD COLUMN last_active_at      timestamptz,
    ADD COLUMN retention_warned_at timestamptz;

UPDATE people SET last_active_at = last_seen_at;

-- Every consent given or withdrawn, with the version of the text it was given
-- for (GDPR art. 7(1): consent must be demonstrable). people.consent_at holds
-- the current state; this is the history, exported with everything else.
CREATE TABLE consent_events (
    id        bigserial   PRIMARY KEY,
    person_id bigint      NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    at        timestamptz NOT NULL,
    given     boolean     NOT NULL,
    version   text        NOT NULL DEFAULT ''
);

CREATE INDEX consent_events_person ON consent_events (person_id, id);

INSERT INTO consent_events (person_id, at, given, version)
SELECT id, consent_at, true, COALESCE(consent_version, '') FROM people WHERE consent_at IS NOT NULL;

-- Single-use confirmation tokens for /delete: only a hash is kept; the token
-- itself travels in the button. A new /delete replaces the person's earlier
-- token; expired ones are pruned by the retention worker.
CREATE TABLE privacy_tokens (
    token_hash bytea       PRIMARY KEY,
    person_id  bigint      NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    purpose    text        NOT NULL CHECK (purpose IN ('delete')),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX privacy_tokens_person ON privacy_tokens (person_id);
CREATE INDEX privacy_tokens_expires ON privacy_tokens (expires_at);

-- What was done, without saying to whom: no person id, chat id or name.
-- Other features may share it (IF NOT EXISTS keeps the columns as here).
CREATE TABLE IF NOT EXISTS audit (
    id     bigserial   PRIMARY KEY,
    at     timestamptz NOT NULL,
    action text        NOT NULL,
    detail text        NOT NULL DEFAULT ''
);
