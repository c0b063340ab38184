-- The audit chain is keyed from here: each record's hash is an HMAC-SHA256 under AUDIT_KEY, which
-- the database does not hold, computed by the application at insert time (store/audit.py). The
-- records written before were keyed in this migration's transaction, before these statements
-- (store/db.py runs `key_legacy_chain` first). The unkeyed hash and the trigger that computed it go.
DROP TRIGGER audit_log_chain ON audit_log;
DROP FUNCTION audit_log_chain();
DROP FUNCTION audit_log_record_hash(audit_log);

ALTER TABLE audit_log
    ADD CONSTRAINT audit_log_seq_positive CHECK (seq > 0),
    ADD CONSTRAINT audit_log_hashes_hex CHECK (hash ~ '^[0-9a-f]{64}$' AND prev_hash ~ '^[0-9a-f]{64}$');

-- UPDATE, DELETE and TRUNCATE stay refused by the triggers of migration 003; the API and the worker
-- connect as a role that holds neither those privileges nor the table (store/db.py `grant_app_role`).
