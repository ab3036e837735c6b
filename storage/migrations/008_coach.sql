-- Coach review (issue 7): the login links the bot sends, the dashboard's
-- sessions, the notes coaches write about a flag, and the audit of everything
-- a coach opens or does.
--
-- Links and sessions are about coaches (Telegram user ids from the config),
-- not about the people the bot talks to, so they reference nothing. Notes are
-- about a person: they go with the person (ON DELETE CASCADE). The audit must
-- outlive a person's deletion without saying who it was: its person and flag
-- columns are set to NULL by the deletion, and a row "person_deleted" (no id
-- at all) records that a person whose conversation coaches had opened was
-- deleted. What the remaining rows still say is which coach did what, when.

-- Login links: only a hash of the token is kept; the token travels in the
-- link. A link is used at most once (used_at is set atomically on use) and
-- not after expires_at.
CREATE TABLE coach_login_links (
    token_hash bytea       PRIMARY KEY,
    coach_id   bigint      NOT NULL,  -- the coach (Telegram user id) the link was made for
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

CREATE INDEX coach_login_links_expires ON coach_login_links (expires_at);

-- Dashboard sessions, in the database so that any replica serves any
-- request. Only a hash of the cookie's value is kept.
CREATE TABLE coach_sessions (
    token_hash bytea       PRIMARY KEY,
    coach_id   bigint      NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX coach_sessions_expires ON coach_sessions (expires_at);

-- Notes coaches write about a flag ('note'), and the note that marked it
-- reviewed ('review'). The body is sealed with the person's own key, like
-- everything about what they wrote.
CREATE TABLE coach_notes (
    id        bigserial   PRIMARY KEY,
    flag_id   bigint      NOT NULL REFERENCES flags (id) ON DELETE CASCADE,
    person_id bigint      NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    coach_id  bigint      NOT NULL,
    at        timestamptz NOT NULL,
    kind      text        NOT NULL DEFAULT 'note' CHECK (kind IN ('note', 'review')),
    body      bytea       NOT NULL
);

CREATE INDEX coach_notes_person ON coach_notes (person_id, id);

-- Everything a coach opens or does. detail holds filters and outcomes, never
-- text a person or a coach wrote.
CREATE TABLE coach_audit (
    id        bigserial   PRIMARY KEY,
    at        timestamptz NOT NULL,
    coach_id  bigint,                 -- NULL only for rows the database writes itself (person_deleted)
    action    text        NOT NULL,
    flag_id   bigint      REFERENCES flags (id) ON DELETE SET NULL,
    person_id bigint      REFERENCES people (id) ON DELETE SET NULL,
    detail    text        NOT NULL DEFAULT ''
);

CREATE INDEX coach_audit_at ON coach_audit USING brin (at);
CREATE INDEX coach_audit_person ON coach_audit (person_id) WHERE person_id IS NOT NULL;
CREATE INDEX coach_audit_flag ON coach_audit (flag_id) WHERE flag_id IS NOT NULL;
CREATE INDEX coach_audit_coach ON coach_audit (coach_id, id);

-- Before a person row goes (and with it, by the foreign keys above, the
-- person and flag ids in the audit), note that a deletion happened, if
-- coaches had had anything to do with the person.
CREATE FUNCTION coach_audit_person_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM coach_audit WHERE person_id = OLD.id) THEN
        INSERT INTO coach_audit (at, action) VALUES (clock_timestamp(), 'person_deleted');
    END IF;
    RETURN OLD;
END;
$$;

CREATE TRIGGER people_coach_audit
    BEFORE DELETE ON people
    FOR EACH ROW EXECUTE FUNCTION coach_audit_person_deleted();
