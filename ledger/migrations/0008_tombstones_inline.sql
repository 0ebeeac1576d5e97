-- ledgerhub 0008: tombstone documents of up to ~8 KB stay inline in their row, neither compressed nor
-- moved to the TOAST table.
-- Why: retention inserts a signed tombstone (about 3 KB of JSON, mostly hex hashes) per dropped day
-- inside its retire transaction, under the commit lock. Above the default 2 KB target each was
-- compressed and, still too large, stored out of line: a second heap insert and an index insert per
-- document. Larger documents (many zones) are still compressed with lz4 (0007).
ALTER TABLE audit_tombstones SET (toast_tuple_target = 8160);
