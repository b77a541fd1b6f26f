/// Spool's schema, one migration per version. Times are int64 milliseconds
/// since the Unix epoch, UTC; states are `spool.v1.JobState` numbers.
public enum Schema {
    /// Every column of `jobs` since version 1.
    private static let columns = """
        seq, id, queue, type, payload, priority, state, idempotency_key, lock_keys, rate_key, max_attempts, attempt,
        timeout_ms, run_at_ms, batch_id, labels, progress, progress_step, progress_message, result, error_code,
        error_message, error_retryable, created_at_ms, started_at_ms, finished_at_ms, updated_at_ms
        """

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
        // Three b-trees fewer to write per job: seq becomes the rowid; ids
        // are not indexed, as a job's id carries its seq (JobIDGenerator) and
        // the few that do not (every id stored by version 1) are kept in
        // other_job_ids; jobs without an idempotency key stay out of its index.
        // The unfinished index tests state with BETWEEN: an IN list made
        // every insert build a temporary table.
        Migration(version: 2, sql: """
            CREATE TABLE jobs_v2 (
                seq             INTEGER PRIMARY KEY,   -- enqueue order, unique; the rowid
                id              TEXT NOT NULL,         -- UUIDv7 text carrying seq, unique
                queue           TEXT NOT NULL,
                type            TEXT NOT NULL,
                payload         BLOB NOT NULL,
                priority        INTEGER NOT NULL,
                state           INTEGER NOT NULL,
                idempotency_key TEXT,
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
            INSERT INTO jobs_v2 (\(columns)) SELECT \(columns) FROM jobs;
            -- The ids that do not carry their job's seq.
            CREATE TABLE other_job_ids (id TEXT PRIMARY KEY, seq INTEGER NOT NULL) STRICT, WITHOUT ROWID;
            INSERT INTO other_job_ids SELECT id, seq FROM jobs;
            DROP TABLE jobs;
            ALTER TABLE jobs_v2 RENAME TO jobs;
            CREATE UNIQUE INDEX jobs_idempotency_key ON jobs (idempotency_key) WHERE idempotency_key IS NOT NULL;
            -- Start-up loads the unfinished jobs (SCHEDULED, QUEUED, RUNNING).
            CREATE INDEX jobs_unfinished ON jobs (state) WHERE state BETWEEN 1 AND 3;
            CREATE INDEX jobs_batch ON jobs (batch_id) WHERE batch_id IS NOT NULL;
            -- Retention prunes terminal jobs oldest first.
            CREATE INDEX jobs_finished ON jobs (finished_at_ms) WHERE finished_at_ms IS NOT NULL;
            CREATE TRIGGER jobs_deleted AFTER DELETE ON jobs BEGIN
                DELETE FROM other_job_ids WHERE id = OLD.id;
            END;
            """),
        // A batch's jobs take consecutive seqs (one call stores them): a row
        // per batch with the range of its jobs' seqs replaces an index entry
        // per job, and its jobs are read by a rowid range. The range need
        // not be tight: rows in it from other batches are filtered out.
        Migration(version: 3, sql: """
            CREATE TABLE batches (
                id              TEXT PRIMARY KEY,
                first_seq       INTEGER NOT NULL,
                last_seq        INTEGER NOT NULL
            ) STRICT, WITHOUT ROWID;
            INSERT INTO batches SELECT batch_id, min(seq), max(seq) FROM jobs WHERE batch_id IS NOT NULL GROUP BY batch_id;
            DROP INDEX jobs_batch;
            """),
        // ListJobs (JobQuery): indexes that hand out a filter's jobs in seq
        // order (an index's last column is the rowid, the seq), state by
        // state: so a page costs its size times log(jobs). jobs_state
        // replaces jobs_unfinished, which held the unfinished states only.
        // A labelled job's labels, one row each, for label equality; the
        // second index lets a pruned job's rows go without a scan.
        Migration(version: 4, sql: """
            CREATE INDEX jobs_state ON jobs (state);
            DROP INDEX jobs_unfinished;
            CREATE INDEX jobs_queue_state ON jobs (queue, state);
            CREATE TABLE job_labels (
                key             TEXT NOT NULL,
                value           TEXT NOT NULL,
                seq             INTEGER NOT NULL,
                PRIMARY KEY (key, value, seq)
            ) STRICT, WITHOUT ROWID;
            CREATE INDEX job_labels_seq ON job_labels (seq);
            CREATE TRIGGER jobs_unlabelled AFTER DELETE ON jobs WHEN length(OLD.labels) > 0 BEGIN
                DELETE FROM job_labels WHERE seq = OLD.seq;
            END;
            -- UpdateQueue's run-time settings (QueueOverride); NULL: as configured.
            CREATE TABLE queue_overrides (
                queue           TEXT PRIMARY KEY,
                paused          INTEGER,
                concurrency     INTEGER,
                rate_set        INTEGER NOT NULL,      -- 1: the rate below replaces the configured one
                per_second      REAL,                  -- NULL with rate_set: no rate limit
                burst           REAL
            ) STRICT, WITHOUT ROWID;
            """, backfill: { database throws(SQLiteError) in
            let labelled = try database.prepare("SELECT seq, labels FROM jobs WHERE length(labels) > 0")
            let insert = try database.prepare(Schema.insertLabel)
            while try labelled.step() {
                for (key, value) in StringListCoding.decodeMap(labelled.blob(1) ?? []) ?? [:] {
                    try insert.run([.text(key), .text(value), .integer(labelled.integer(0))])
                }
            }
        }),
        // A job's time to start by (JobSpec.expire_at_ms, or its queue's
        // max_wait); NULL: none.
        Migration(version: 5, sql: """
            ALTER TABLE jobs ADD COLUMN expire_at_ms INTEGER;
            """),
        // Dependencies (JobSpec.depends_on…): NULL for a job without; and a
        // job's rate_cost, batches' idempotency keys. A
        // BLOCKED job (state 7) is unfinished: start-up loads it and links
        // its dependencies again.
        Migration(version: 6, sql: """
            ALTER TABLE jobs ADD COLUMN depends_on BLOB;              -- StringListCoding: job ids
            ALTER TABLE jobs ADD COLUMN depends_on_batches BLOB;      -- StringListCoding: batch ids
            ALTER TABLE jobs ADD COLUMN run_if_dependencies_fail INTEGER;
            ALTER TABLE jobs ADD COLUMN dependency_summary TEXT;      -- JSON, set when released
            ALTER TABLE jobs ADD COLUMN rate_cost INTEGER;            -- JobSpec.rate_cost; NULL: 1
            -- EnqueueBatchRequest.idempotency_key, and how many jobs the call stored.
            ALTER TABLE batches ADD COLUMN idempotency_key TEXT;
            ALTER TABLE batches ADD COLUMN size INTEGER;
            CREATE UNIQUE INDEX batches_idempotency_key ON batches (idempotency_key) WHERE idempotency_key IS NOT NULL;
            -- Cron schedules' last fires.
            CREATE TABLE schedules (
                name            TEXT PRIMARY KEY,
                last_fire_ms    INTEGER NOT NULL,
                last_job_id     TEXT
            ) STRICT, WITHOUT ROWID;
            """),
    ]

    static let insertLabel = "INSERT OR IGNORE INTO job_labels (key, value, seq) VALUES (?, ?, ?)"
}
