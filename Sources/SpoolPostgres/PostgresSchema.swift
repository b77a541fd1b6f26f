/// Spool's tables on PostgreSQL, one migration per version, in the
/// schema the location names. They hold what SQLite's do (the SQLite
/// schema's comments say why each is there), in PostgreSQL's own types:
/// lists are `text[]`, labels a `text[]` of key, value, key, value…
/// Times are int64 milliseconds since the Unix epoch, UTC; states are
/// `spool.v1.JobState` numbers.
enum PostgresSchema {
    static let migrations: [(version: Int64, sql: [String])] = [
        (1, [
            """
            CREATE TABLE jobs (
                seq             bigint PRIMARY KEY,    -- enqueue order
                id              text NOT NULL,         -- UUIDv7 text carrying seq (else in other_job_ids)
                queue           text NOT NULL,
                type            text NOT NULL,
                payload         bytea NOT NULL,
                priority        bigint NOT NULL,
                state           bigint NOT NULL,
                idempotency_key text,
                lock_keys       text[] NOT NULL,
                rate_key        text,
                max_attempts    bigint NOT NULL,
                attempt         bigint NOT NULL DEFAULT 0,
                timeout_ms      bigint NOT NULL,
                run_at_ms       bigint NOT NULL,
                batch_id        text,
                labels          text[] NOT NULL,       -- key, value, key, value…
                progress        double precision NOT NULL DEFAULT 0,
                progress_step   text NOT NULL DEFAULT '',
                progress_message text NOT NULL DEFAULT '',
                result          bytea,
                error_code      text,
                error_message   text,
                error_retryable boolean,
                created_at_ms   bigint NOT NULL,
                started_at_ms   bigint,
                finished_at_ms  bigint,
                updated_at_ms   bigint NOT NULL,
                expire_at_ms    bigint,
                depends_on      text[],
                depends_on_batches text[],
                run_if_dependencies_fail boolean,
                dependency_summary text,
                rate_cost       bigint
            )
            """,
            "CREATE UNIQUE INDEX jobs_idempotency_key ON jobs (idempotency_key) WHERE idempotency_key IS NOT NULL",
            "CREATE INDEX jobs_state ON jobs (state, seq)",
            "CREATE INDEX jobs_queue_state ON jobs (queue, state, seq)",
            "CREATE INDEX jobs_finished ON jobs (finished_at_ms) WHERE finished_at_ms IS NOT NULL",
            "CREATE TABLE other_job_ids (id text PRIMARY KEY, seq bigint NOT NULL)",
            "CREATE TABLE job_labels (key text NOT NULL, value text NOT NULL, seq bigint NOT NULL, PRIMARY KEY (key, value, seq))",
            "CREATE INDEX job_labels_seq ON job_labels (seq)",
            """
            CREATE TABLE batches (
                id              text PRIMARY KEY,
                first_seq       bigint NOT NULL,
                last_seq        bigint NOT NULL,
                idempotency_key text,
                size            bigint
            )
            """,
            "CREATE UNIQUE INDEX batches_idempotency_key ON batches (idempotency_key) WHERE idempotency_key IS NOT NULL",
            """
            CREATE TABLE queue_overrides (
                queue           text PRIMARY KEY,
                paused          boolean,
                concurrency     bigint,
                rate_set        boolean NOT NULL,
                per_second      double precision,
                burst           double precision
            )
            """,
            "CREATE TABLE schedules (name text PRIMARY KEY, last_fire_ms bigint NOT NULL, last_job_id text)",
            // The leader lease (LeaderLease): one row; token grows by one at
            // every change of holder and fences the holder's writes.
            """
            CREATE TABLE leader_lease (
                name            text PRIMARY KEY,
                token           bigint NOT NULL,
                holder          text NOT NULL,
                address         text NOT NULL,
                expires_at      timestamptz NOT NULL
            )
            """,
        ]),
    ]

    static var latestVersion: Int64 { migrations.last?.version ?? 0 }
}
