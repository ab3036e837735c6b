-- A turn that comes straight from a receiver (storage.ChatGuard) may run only
-- when no one else works on the chat: it takes the chat's advisory lock for
-- its transaction and checks that no update of the chat waits in the inbox.
-- When it may not, this raises lock_not_available, so that the statements the
-- turn sent along in the same round trip are skipped instead of waiting for
-- the person's row lock.
CREATE OR REPLACE FUNCTION stilstaan_guard_chat(lock_space integer, lock_key integer, chat bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(lock_space, lock_key)
       OR EXISTS (SELECT 1 FROM inbox WHERE chat_id = chat) THEN
        RAISE EXCEPTION 'chat % is busy', chat USING ERRCODE = 'lock_not_available';
    END IF;
END
$$;
