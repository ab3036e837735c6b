-- A claim finds the chats it leased by its claim id (to give back those left
-- with nothing to send, and to load their messages): without this index that
-- reads every chat ever delivered to.
CREATE INDEX IF NOT EXISTS deliveries_claim ON deliveries (claim) WHERE claim IS NOT NULL;
