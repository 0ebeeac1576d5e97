-- ledgerhub 0007: tombstone documents compressed with lz4 instead of pglz.
-- Why: retention inserts a signed tombstone (about 3 KB of JSON) per dropped day inside its retire
-- transaction, under the commit lock. Compressing 30 of them with pglz took about 2.5 ms of the
-- transaction's 20 (bench:retention: 3.4 ms to insert them, 0.9 ms with empty documents); lz4 does the
-- same work at a fraction of the cost and decompresses faster too. Rows already stored keep pglz (both
-- read back the same). A Postgres built without lz4 keeps pglz.
DO $$
BEGIN
  ALTER TABLE audit_tombstones ALTER COLUMN document SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'this Postgres has no lz4: tombstone documents stay pglz-compressed';
END $$;
