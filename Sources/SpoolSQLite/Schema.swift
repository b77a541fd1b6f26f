/// Spool's schema, one migration per version. Times are int64 milliseconds
/// since the Unix epoch, UTC; states are `spool.v1.JobState` numbers.
public enum Schema {
    public static let migrations = [
        Migration(version: 1, sql: """
            CREATE TABLE jobs (
                id              TEXT PRIMARY KEY,      -- UUIDv7 text
                seq             INTEGER NOT NULL UNIQUE, -- enqueue order
                queue           TEXT NOT NULL,
                type            TEXT NOT NULL,
                payload         BLOB NOT NULL,
                priority        INTEGER NOT NULL,
                state           INTEGER NOT NULL,
                idempotency_key TEXT UNIQUE,
                lock_keys       BLOB NOT NULL,         -- StringListCoding
                rate_key        TEXT,
                max_attempts    INTEGER NOT NULL,
                attempt         INTEGER NOT NULL DEFAULT 0,
                timeout_ms      INTEGER NOT NULL,
                run_at_ms       INTEGER NOT NULL,
                batch_id        TEXT,
                labels          BLOB NOT NULL,         -- StringListCoding: key, value, key, value…
                progress        REAL NOT NULL DEFAULT 0,
                progress_step   TEXT NOT NULL DEFAULT '',
                progress_message TEXT NOT NULL DEFAULT '',
                result          BLOB,
                error_code      TEXT,
                error_message   TEXT,
                error_retryable INTEGER,
                created_at_ms   INTEGER NOT NULL,
                started_at_ms   INTEGER,
                finished_at_ms  INTEGER,
                updated_at_ms   INTEGER NOT NULL
            ) STRICT;
            -- Start-up loads the unfinished jobs (SCHEDULED, QUEUED, RUNNING).
            CREATE INDEX jobs_unfinished ON jobs (state) WHERE state IN (1, 2, 3);
            CREATE INDEX jobs_batch ON jobs (batch_id) WHERE batch_id IS NOT NULL;
            -- Retention prunes terminal jobs oldest first.
            CREATE INDEX jobs_finished ON jobs (finished_at_ms) WHERE finished_at_ms IS NOT NULL;
            """),
    ]
}
