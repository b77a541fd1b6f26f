import SpoolCore
import SpoolHandlers
import SpoolServer
import Testing

struct SpoolConfigurationTests {
    @Test func anEmptyFileKeepsEveryDefault() throws {
        let configuration = try SpoolConfiguration(yaml: "")
        #expect(configuration.listen == "127.0.0.1:50051")
        #expect(configuration.db == "spool.db")
        #expect(configuration.durability == "full")
        #expect(configuration.tokens.clients.isEmpty)
        #expect(configuration.engine.workers == EngineConfiguration().workers)
        #expect(configuration.engine.queueDefaults == EngineConfiguration().queueDefaults)
        #expect(configuration.execTypes.isEmpty)
    }

    @Test func everyKeyReachesItsSetting() throws {
        let configuration = try SpoolConfiguration(yaml: """
            listen: 0.0.0.0:6000
            db: /var/lib/spool/jobs.db
            durability: normal
            workers: 16
            threads: 2
            max_receive_message_size: 1048576
            max_concurrent_streams: 200
            shutdown_grace: 2.5
            retention_hours: 24
            auth:
              tokens: [alpha, beta]
            queues:            # before queue_defaults: still built on them
              images:
                concurrency: 2
                rate: {per_second: 5, burst: 10}
                backoff: {initial: 0.5, multiplier: 3, max: 60}
            queue_defaults:
              max_attempts: 5
              timeout: 30
              max_depth: 0
            locks:
              gpu: 2
            rate_keys:
              openai: {per_second: 50}
            types:
              render:
                queue: images
                exec:
                  command: [python3, render.py, --fast]
                  env: {MODEL: sdxl}
                  working_directory: /srv/render
                  termination_grace: 1.5
              sketch:
                exec: {command: [python3, sketch.py], persistent: true}
            """)
        #expect(configuration.listen == "0.0.0.0:6000")
        #expect(configuration.db == "/var/lib/spool/jobs.db")
        #expect(configuration.durability == "normal")
        #expect(configuration.engine.workers == 16)
        #expect(configuration.threads == 2)
        #expect(configuration.maxReceiveMessageSize == 1_048_576)
        #expect(configuration.maxConcurrentStreams == 200)
        #expect(configuration.shutdownGraceSeconds == 2.5)
        #expect(configuration.engine.retentionMs == 24 * 3_600_000)
        #expect(configuration.tokens.clients == ["alpha", "beta"])
        #expect(configuration.engine.queueDefaults.maxAttempts == 5)
        #expect(configuration.engine.queueDefaults.timeoutMs == 30_000)
        #expect(configuration.engine.queueDefaults.maxDepth == 0)
        #expect(configuration.engine.queues == [QueueConfiguration(
            name: "images", concurrency: 2, rateLimit: RateLimit(ratePerSecond: 5, burst: 10), maxDepth: 0,
            maxAttempts: 5, backoff: Backoff(initialMs: 500, multiplier: 3, maxMs: 60_000), timeoutMs: 30_000)])
        #expect(configuration.engine.lockCapacities == ["gpu": 2])
        #expect(configuration.engine.rateKeys == ["openai": RateLimit(ratePerSecond: 50, burst: 50)])
        #expect(configuration.engine.typeQueues == ["render": "images"])
        #expect(configuration.execTypes == ["render": ExecHandler.Command(
            executable: "python3", arguments: ["render.py", "--fast"], environment: ["MODEL": "sdxl"],
            workingDirectory: "/srv/render", terminationGraceMs: 1500),
            "sketch": ExecHandler.Command(executable: "python3", arguments: ["sketch.py"], persistent: true)])
    }

    /// Each invalid file, and the message that refuses it: file, line and
    /// column, the key's path, and what is wrong.
    @Test(arguments: [
        ("workers: 0", "spool.yaml:1:10: workers: must be an integer from 1 to 10000 (got \"0\")"),
        ("workers: 1000000000000", "spool.yaml:1:10: workers: must be an integer from 1 to 10000 (got \"1000000000000\")"),
        ("queue_defaults: {timeout: 1e300}",
         "spool.yaml:1:27: queue_defaults.timeout: must be a number from 0 to 316224000 (got \"1e300\")"),
        ("queue_defaults: {max_attempts: 2147483647}",
         "spool.yaml:1:32: queue_defaults.max_attempts: must be an integer from 1 to 1000 (got \"2147483647\")"),
        ("queue_defaults:\n  backoff: {multiplier: .inf}",
         "spool.yaml:2:25: queue_defaults.backoff.multiplier: must be a number from 1 to 1000 (got \".inf\")"),
        ("retention_hours: 1e300", "spool.yaml:1:18: retention_hours: must be a number above 0 up to 87840 (got \"1e300\")"),
        ("max_batch_size: 0", "spool.yaml:1:17: max_batch_size: must be an integer from 1 to 1000000 (got \"0\")"),
        ("durability: fast", "spool.yaml:1:13: durability: must be one of full, normal (got \"fast\")"),
        ("wrokers: 4", "spool.yaml:1:1: wrokers: unknown key (known here: listen, db, durability, workers, threads, "
            + "max_receive_message_size, max_concurrent_streams, max_connections, http_idle_timeout, shutdown_grace, retention_hours, max_batch_size, max_queues, "
            + "progress_buffer_bytes, max_progress_streams_per_connection, max_progress_streams, http, advertise, lease_seconds, auth, tls, queue_defaults, queues, locks, rate_keys, types, schedules)"),
        ("queues:\n  images:\n    concurency: 2", "spool.yaml:3:5: queues.images.concurency: unknown key (known here: "
            + "concurrency, max_depth, max_attempts, timeout, max_wait, backoff, rate, fair_by)"),
        ("queues:\n  images:\n    rate: {burst: 3}", "spool.yaml:3:11: queues.images.rate: needs per_second, per_minute or per_hour"),
        ("rate_keys:\n  api: {per_second: 1, per_minute: 60}",
         "spool.yaml:2:8: rate_keys.api: takes one of per_second, per_minute and per_hour"),
        ("rate_keys:\n  api: {per_hour: 0.001}",
         "spool.yaml:2:19: rate_keys.api.per_hour: must be a number from 0.0036 to 3600000000000 (got \"0.001\")"),
        ("rate_keys:\n  api: {per_minute: 60, rate_limited: {decrease: 0}}",
         "spool.yaml:2:50: rate_keys.api.rate_limited.decrease: must be a number from 0.01 to 1 (got \"0\")"),
        ("rate_keys:\n  api: {per_minute: 60, rate_limited: {slow: 1}}",
         "spool.yaml:2:40: rate_keys.api.rate_limited.slow: unknown key (known here: decrease, recovery)"),
        ("queue_defaults:\n  backoff: {initial: 10, max: 1}", "spool.yaml:2:12: queue_defaults.backoff: max must not be below initial"),
        ("locks:\n  gpu: two", "spool.yaml:2:8: locks.gpu: must be an integer from 1 to 1000000 (got \"two\")"),
        ("rate_keys:\n  openai: {per_second: 0}",
         "spool.yaml:2:24: rate_keys.openai.per_second: must be a number from 1e-06 to 1000000000 (got \"0\")"),
        ("rate_keys:\n  openai: {per_second: 1e-300}",
         "spool.yaml:2:24: rate_keys.openai.per_second: must be a number from 1e-06 to 1000000000 (got \"1e-300\")"),
        ("types:\n  render:\n    queue: images", "spool.yaml:3:5: types.render: needs exec (a command spoold runs) or remote (run by remote workers)"),
        ("types:\n  render:\n    exec: {command: []}", "spool.yaml:3:21: types.render.exec.command: must name a program, e.g. [python3, render.py]"),
        ("types:\n  spool.echo:\n    exec: {command: [cat]}", "spool.yaml:3:5: types.spool.echo: types named spool.* are built in"),
        ("auth:\n  tokens: [a, \"\"]", "spool.yaml:2:11: auth.tokens[1]: a token must not be empty"),
        ("auth:\n  tokens: secret", "spool.yaml:2:11: auth.tokens: must be a list of strings (got \"secret\")"),
        ("- a list", "spool.yaml:1:1: must be a mapping (got a list)"),
        ("types:\n  render:\n    exec: {command: [x], persistent: 1}",
         "spool.yaml:3:38: types.render.exec.persistent: must be true or false (got \"1\")"),
        ("types:\n  render:\n    exec: {command: [x], env: {\"A=B\": c}}", "spool.yaml:3:39: types.render.exec.env.A=B: not an environment variable name"),
        ("schedules:\n  nightly: {cron: \"0 3 * *\", job: {type: spool.echo}}",
         "spool.yaml:2:19: schedules.nightly.cron: \"0 3 * *\" has 4 fields; a cron expression has 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)"),
        ("schedules:\n  nightly: {cron: \"0 3 * * *\", time_zone: Mars/Olympus, job: {type: spool.echo}}",
         "spool.yaml:2:43: schedules.nightly.time_zone: \"Mars/Olympus\" is not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)"),
        ("schedules:\n  nightly: {cron: \"0 3 * * *\", job: {type: report}}",
         "spool.yaml:2:37: schedules.nightly.job: type \"report\" is neither built in nor configured under types"),
        ("rate_keys:\n  api: {per_second: 1, burst: 5}\nschedules:\n  nightly: {cron: \"0 3 * * *\", job: {type: spool.echo, rate_key: api, rate_cost: 6}}",
         "spool.yaml:4:37: schedules.nightly.job: rate_cost 6 is more than rate key api's burst: no fire could start"),
        ("schedules:\n  nightly: {cron: \"0 3 * * *\", job: {type: spool.echo, rate_cost: 2}}",
         "spool.yaml:2:37: schedules.nightly.job: rate_cost needs a rate_key"),
        ("schedules:\n  nightly: {cron: \"0 3 * * *\"}", "spool.yaml:2:12: schedules.nightly: needs job: the job to enqueue, with at least its type"),
        ("schedules:\n  nightly: {cron: \"0 3 * * *\", overlap: wait, job: {type: spool.echo}}",
         "spool.yaml:2:41: schedules.nightly.overlap: must be one of skip, allow (got \"wait\")"),
    ])
    func anInvalidFileIsRefusedNamingTheKey(yaml: String, message: String) {
        #expect(throws: ConfigurationError(message)) { try SpoolConfiguration(yaml: yaml, file: "spool.yaml") }
    }

    @Test func ratesAreWrittenAsQuotasAreAndTheirRecoveryIsSet() throws {
        let configuration = try SpoolConfiguration(yaml: """
            queues:
              crawl: {rate: {per_minute: 90}}
            rate_keys:
              github: {per_hour: 5000, burst: 100, rate_limited: {decrease: 0.8, recovery: 0.05}}
              openai: {per_second: 50}
            """)
        #expect(configuration.engine.queue(named: "crawl").rateLimit == RateLimit(ratePerSecond: 1.5))
        #expect(configuration.engine.rateKeys["github"] == RateLimit(
            ratePerSecond: 5000.0 / 3600, burst: 100, recovery: RateRecovery(decrease: 0.8, recovery: 0.05)))
        #expect(configuration.engine.rateKeys["openai"] == RateLimit(ratePerSecond: 50, recovery: RateRecovery(decrease: 0.5, recovery: 0.02)))
    }

    @Test func schedulesAreRead() throws {
        let configuration = try SpoolConfiguration(yaml: """
            types:
              report: {remote: {}}
            schedules:
              nightly:
                cron: "30 2 * * *"
                time_zone: Europe/Berlin
                overlap: allow
                missed: skip
                job: {type: report, queue: reports, payload: "{}", priority: 3, labels: {team: data}, timeout: 60}
              tick:
                cron: "@hourly"
                job: {type: spool.echo}
            """)
        let schedules = configuration.engine.schedules
        #expect(schedules.map(\.name) == ["nightly", "tick"])
        #expect(schedules[0].cron.description == "30 2 * * *" && schedules[0].timeZoneName == "Europe/Berlin")
        #expect(schedules[0].overlap == .allow && schedules[0].missed == .skip)
        var job = JobRequest(type: "report", payload: Array("{}".utf8), queue: "reports", priority: 3)
        job.labels = ["team": "data"]
        job.timeoutMs = 60_000
        #expect(schedules[0].job == job)
        #expect(schedules[1].timeZoneName == "UTC" && schedules[1].overlap == .skip && schedules[1].missed == .runOnce)
    }

    @Test func yamlThatDoesNotParseIsRefusedWithThePosition() {
        #expect {
            try SpoolConfiguration(yaml: "queues: [unclosed", file: "spool.yaml")
        } throws: { error in
            "\(error)".hasPrefix("spool.yaml: not valid YAML:") && "\(error)".contains("line 1")
        }
    }

    @Test func remoteTypesAndWorkerTokensAreRead() throws {
        let configuration = try SpoolConfiguration(yaml: """
            auth: {tokens: [svc], worker_tokens: [wrk]}
            types:
              render: {remote: {lease: 30}, queue: images}
              mail: {remote: {}}
            """)
        #expect(configuration.engine.remoteTypes == ["render": RemoteTypeConfiguration(leaseMs: 30_000),
                                                      "mail": RemoteTypeConfiguration()])
        #expect(configuration.engine.typeQueues["render"] == "images")
        #expect(configuration.tokens.clients == ["svc"])
        #expect(configuration.tokens.workers == ["wrk"])
    }

    @Test(arguments: [
        ("types: {render: {remote: {lease: 0}}}", "types.render.remote.lease: must be from 1 to 86400 seconds"),
        ("types: {render: {remote: {lease: 1e300}}}", "types.render.remote.lease"),
        ("types: {render: {remote: {leese: 3}}}", "unknown key"),
        ("types: {render: {remote: {}, exec: {command: [x]}}}", "has both exec and remote"),
        ("types: {render: {}}", "needs exec"),
        ("auth: {worker_tokens: [w]}", "worker_tokens needs tokens too"),
        ("auth: {tokens: [a], worker_tokens: ['']}", "must not be empty"),
    ])
    func badRemoteSettingsAreRefusedNamingTheKey(yaml: String, expected: String) {
        #expect {
            try SpoolConfiguration(yaml: yaml)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }
}
