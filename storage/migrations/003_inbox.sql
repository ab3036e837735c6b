-- The Telegram inbox: updates received (by long polling or webhook) and not
-- yet processed. Receiving commits the update here before Telegram is told it
-- arrived, so a crash loses nothing; a worker then processes each chat's
-- updates strictly in update_id order, holding an advisory lock on the chat
-- so that only one process in the whole deployment works on a chat at a time,
-- and deletes each row once its turn has committed (the inputs table then
-- remembers the update, so a redelivery is a duplicate).
CREATE TABLE inbox (
    update_id   bigint      PRIMARY KEY,  -- Telegram's update_id: a redelivered update is a no-op
    chat_id     bigint      NOT NULL,     -- the chat whose order the update belongs to (0: none)
    -- The update exactly as Telegram sent it (JSON). It holds what a person
    -- wrote, in plain text until the privacy issue seals it like the other
    -- tables; a row lives only until its update is processed.
    payload     bytea       NOT NULL,
    received_at timestamptz NOT NULL,
    attempts    integer     NOT NULL DEFAULT 0  -- failed processing attempts so far
);

CREATE INDEX inbox_chat ON inbox (chat_id, update_id);

-- Group, supergroup and channel chats that were told, once, that the bot only
-- talks in private chats.
CREATE TABLE group_notices (
    chat_id     bigint      PRIMARY KEY,
    noticed_at  timestamptz NOT NULL
);
