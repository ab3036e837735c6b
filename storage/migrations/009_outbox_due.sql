-- Delivery claims chats in the order of their due messages: interactive
-- before scheduled, then oldest first. This index gives that order without
-- reading every pending message, so a claim costs the same with a backlog of
-- a hundred thousand check-ins as with none.
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (priority, id) WHERE status = 'pending';
