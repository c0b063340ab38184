-- Scans sealed at rest (store/sealing.py): `content_key` names the DATA_KEYS key that sealed
-- `content`; NULL for a scan stored before sealing, which the API seals at start-up.
-- The retention policy (store/retention.py) deletes a scan's content and keeps its
-- description, marked `purged_at`, so that a request for it is answered 410, not 500.
ALTER TABLE materials
    ADD COLUMN content_key text,
    ADD COLUMN purged_at timestamptz,
    ALTER COLUMN content DROP NOT NULL,
    ADD CONSTRAINT materials_content_or_purged CHECK ((content IS NULL) = (purged_at IS NOT NULL));
CREATE INDEX materials_to_purge ON materials (created_at) WHERE purged_at IS NULL;

-- When an application closed (a terminal status): where its scans' retention period starts.
ALTER TABLE applications ADD COLUMN closed_at timestamptz;
UPDATE applications SET closed_at = updated_at WHERE status IN ('completed', 'rejected', 'withdrawn', 'expired');

-- The guards' rows expire (store/retention.py); found by age.
CREATE INDEX callback_receipts_by_age ON callback_receipts (received_at);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
