from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_SCHEDULED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_SCHEDULED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState

class JobSpec(_message.Message):
    __slots__ = ("queue", "type", "payload", "priority", "idempotency_key", "lock_keys", "rate_key", "max_attempts", "timeout_ms", "run_at_ms", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LOCK_KEYS_FIELD_NUMBER: _ClassVar[int]
    RATE_KEY_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    RUN_AT_MS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    queue: str
    type: str
    payload: bytes
    priority: int
    idempotency_key: str
    lock_keys: _containers.RepeatedScalarFieldContainer[str]
    rate_key: str
    max_attempts: int
    timeout_ms: int
    run_at_ms: int
    labels: _containers.ScalarMap[str, str]
    def __init__(self, queue: _Optional[str] = ..., type: _Optional[str] = ..., payload: _Optional[bytes] = ..., priority: _Optional[int] = ..., idempotency_key: _Optional[str] = ..., lock_keys: _Optional[_Iterable[str]] = ..., rate_key: _Optional[str] = ..., max_attempts: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., run_at_ms: _Optional[int] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class JobProgress(_message.Message):
    __slots__ = ("fraction", "step", "message")
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    fraction: float
    step: str
    message: str
    def __init__(self, fraction: _Optional[float] = ..., step: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class JobError(_message.Message):
    __slots__ = ("code", "message", "retryable")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    retryable: bool
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., retryable: _Optional[bool] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("id", "queue", "type", "state", "priority", "attempt", "max_attempts", "position", "progress", "result", "error", "batch_id", "idempotency_key", "lock_keys", "rate_key", "labels", "run_at_ms", "created_at_ms", "started_at_ms", "finished_at_ms", "updated_at_ms", "eta_ms", "timeout_ms", "wait")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LOCK_KEYS_FIELD_NUMBER: _ClassVar[int]
    RATE_KEY_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    RUN_AT_MS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ETA_MS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    id: str
    queue: str
    type: str
    state: JobState
    priority: int
    attempt: int
    max_attempts: int
    position: int
    progress: JobProgress
    result: bytes
    error: JobError
    batch_id: str
    idempotency_key: str
    lock_keys: _containers.RepeatedScalarFieldContainer[str]
    rate_key: str
    labels: _containers.ScalarMap[str, str]
    run_at_ms: int
    created_at_ms: int
    started_at_ms: int
    finished_at_ms: int
    updated_at_ms: int
    eta_ms: int
    timeout_ms: int
    wait: WaitReason
    def __init__(self, id: _Optional[str] = ..., queue: _Optional[str] = ..., type: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., priority: _Optional[int] = ..., attempt: _Optional[int] = ..., max_attempts: _Optional[int] = ..., position: _Optional[int] = ..., progress: _Optional[_Union[JobProgress, _Mapping]] = ..., result: _Optional[bytes] = ..., error: _Optional[_Union[JobError, _Mapping]] = ..., batch_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., lock_keys: _Optional[_Iterable[str]] = ..., rate_key: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., run_at_ms: _Optional[int] = ..., created_at_ms: _Optional[int] = ..., started_at_ms: _Optional[int] = ..., finished_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., eta_ms: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., wait: _Optional[_Union[WaitReason, _Mapping]] = ...) -> None: ...

class WaitReason(_message.Message):
    __slots__ = ("kind", "text", "key", "holder_job_ids", "ahead", "until_ms")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[WaitReason.Kind]
        KIND_RUN_AT: _ClassVar[WaitReason.Kind]
        KIND_BEHIND: _ClassVar[WaitReason.Kind]
        KIND_QUEUE_CONCURRENCY: _ClassVar[WaitReason.Kind]
        KIND_WORKERS: _ClassVar[WaitReason.Kind]
        KIND_LOCK: _ClassVar[WaitReason.Kind]
        KIND_RATE: _ClassVar[WaitReason.Kind]
        KIND_PAUSED: _ClassVar[WaitReason.Kind]
        KIND_NO_WORKER: _ClassVar[WaitReason.Kind]
    KIND_UNSPECIFIED: WaitReason.Kind
    KIND_RUN_AT: WaitReason.Kind
    KIND_BEHIND: WaitReason.Kind
    KIND_QUEUE_CONCURRENCY: WaitReason.Kind
    KIND_WORKERS: WaitReason.Kind
    KIND_LOCK: WaitReason.Kind
    KIND_RATE: WaitReason.Kind
    KIND_PAUSED: WaitReason.Kind
    KIND_NO_WORKER: WaitReason.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    HOLDER_JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    AHEAD_FIELD_NUMBER: _ClassVar[int]
    UNTIL_MS_FIELD_NUMBER: _ClassVar[int]
    kind: WaitReason.Kind
    text: str
    key: str
    holder_job_ids: _containers.RepeatedScalarFieldContainer[str]
    ahead: int
    until_ms: int
    def __init__(self, kind: _Optional[_Union[WaitReason.Kind, str]] = ..., text: _Optional[str] = ..., key: _Optional[str] = ..., holder_job_ids: _Optional[_Iterable[str]] = ..., ahead: _Optional[int] = ..., until_ms: _Optional[int] = ...) -> None: ...

class EnqueueRequest(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: JobSpec
    def __init__(self, job: _Optional[_Union[JobSpec, _Mapping]] = ...) -> None: ...

class EnqueueResponse(_message.Message):
    __slots__ = ("job", "deduplicated")
    JOB_FIELD_NUMBER: _ClassVar[int]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    job: Job
    deduplicated: bool
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ..., deduplicated: _Optional[bool] = ...) -> None: ...

class EnqueueBatchRequest(_message.Message):
    __slots__ = ("jobs", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    JOBS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[JobSpec]
    labels: _containers.ScalarMap[str, str]
    def __init__(self, jobs: _Optional[_Iterable[_Union[JobSpec, _Mapping]]] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class EnqueuedJob(_message.Message):
    __slots__ = ("id", "state", "deduplicated")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    id: str
    state: JobState
    deduplicated: bool
    def __init__(self, id: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., deduplicated: _Optional[bool] = ...) -> None: ...

class EnqueueBatchResponse(_message.Message):
    __slots__ = ("batch_id", "jobs")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    jobs: _containers.RepeatedCompositeFieldContainer[EnqueuedJob]
    def __init__(self, batch_id: _Optional[str] = ..., jobs: _Optional[_Iterable[_Union[EnqueuedJob, _Mapping]]] = ...) -> None: ...

class CancelRequest(_message.Message):
    __slots__ = ("job_id", "batch_id", "reason")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    batch_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., batch_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelResponse(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ...) -> None: ...

class StreamProgressRequest(_message.Message):
    __slots__ = ("job_ids", "batch_id", "queue", "all_queues", "after_seq", "position_interval_ms")
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    ALL_QUEUES_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    POSITION_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    job_ids: _containers.RepeatedScalarFieldContainer[str]
    batch_id: str
    queue: str
    all_queues: bool
    after_seq: int
    position_interval_ms: int
    def __init__(self, job_ids: _Optional[_Iterable[str]] = ..., batch_id: _Optional[str] = ..., queue: _Optional[str] = ..., all_queues: _Optional[bool] = ..., after_seq: _Optional[int] = ..., position_interval_ms: _Optional[int] = ...) -> None: ...

class ProgressEvent(_message.Message):
    __slots__ = ("seq", "time_ms", "kind", "job", "note", "batch")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[ProgressEvent.Kind]
        KIND_SNAPSHOT: _ClassVar[ProgressEvent.Kind]
        KIND_STATE: _ClassVar[ProgressEvent.Kind]
        KIND_PROGRESS: _ClassVar[ProgressEvent.Kind]
        KIND_POSITION: _ClassVar[ProgressEvent.Kind]
    KIND_UNSPECIFIED: ProgressEvent.Kind
    KIND_SNAPSHOT: ProgressEvent.Kind
    KIND_STATE: ProgressEvent.Kind
    KIND_PROGRESS: ProgressEvent.Kind
    KIND_POSITION: ProgressEvent.Kind
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    seq: int
    time_ms: int
    kind: ProgressEvent.Kind
    job: Job
    note: str
    batch: BatchSummary
    def __init__(self, seq: _Optional[int] = ..., time_ms: _Optional[int] = ..., kind: _Optional[_Union[ProgressEvent.Kind, str]] = ..., job: _Optional[_Union[Job, _Mapping]] = ..., note: _Optional[str] = ..., batch: _Optional[_Union[BatchSummary, _Mapping]] = ...) -> None: ...

class JobCounts(_message.Message):
    __slots__ = ("scheduled", "queued", "running", "succeeded", "failed", "cancelled")
    SCHEDULED_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    scheduled: int
    queued: int
    running: int
    succeeded: int
    failed: int
    cancelled: int
    def __init__(self, scheduled: _Optional[int] = ..., queued: _Optional[int] = ..., running: _Optional[int] = ..., succeeded: _Optional[int] = ..., failed: _Optional[int] = ..., cancelled: _Optional[int] = ...) -> None: ...

class BatchSummary(_message.Message):
    __slots__ = ("batch_id", "total", "counts", "percent", "eta_ms")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    ETA_MS_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    total: int
    counts: JobCounts
    percent: float
    eta_ms: int
    def __init__(self, batch_id: _Optional[str] = ..., total: _Optional[int] = ..., counts: _Optional[_Union[JobCounts, _Mapping]] = ..., percent: _Optional[float] = ..., eta_ms: _Optional[int] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ("queues", "job_ids", "batch_id", "only_selected")
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    ONLY_SELECTED_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedScalarFieldContainer[str]
    job_ids: _containers.RepeatedScalarFieldContainer[str]
    batch_id: str
    only_selected: bool
    def __init__(self, queues: _Optional[_Iterable[str]] = ..., job_ids: _Optional[_Iterable[str]] = ..., batch_id: _Optional[str] = ..., only_selected: _Optional[bool] = ...) -> None: ...

class QueueStatus(_message.Message):
    __slots__ = ("name", "counts", "concurrency", "max_depth", "throughput_per_minute", "mean_run_ms", "running_job_ids", "paused")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    THROUGHPUT_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    MEAN_RUN_MS_FIELD_NUMBER: _ClassVar[int]
    RUNNING_JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    name: str
    counts: JobCounts
    concurrency: int
    max_depth: int
    throughput_per_minute: float
    mean_run_ms: int
    running_job_ids: _containers.RepeatedScalarFieldContainer[str]
    paused: bool
    def __init__(self, name: _Optional[str] = ..., counts: _Optional[_Union[JobCounts, _Mapping]] = ..., concurrency: _Optional[int] = ..., max_depth: _Optional[int] = ..., throughput_per_minute: _Optional[float] = ..., mean_run_ms: _Optional[int] = ..., running_job_ids: _Optional[_Iterable[str]] = ..., paused: _Optional[bool] = ...) -> None: ...

class WorkerSlot(_message.Message):
    __slots__ = ("index", "busy", "job_id", "queue", "since_ms")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    BUSY_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    index: int
    busy: bool
    job_id: str
    queue: str
    since_ms: int
    def __init__(self, index: _Optional[int] = ..., busy: _Optional[bool] = ..., job_id: _Optional[str] = ..., queue: _Optional[str] = ..., since_ms: _Optional[int] = ...) -> None: ...

class RateLimiterStatus(_message.Message):
    __slots__ = ("key", "rate_per_second", "configured_rate_per_second", "burst", "tokens", "utilisation")
    KEY_FIELD_NUMBER: _ClassVar[int]
    RATE_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    CONFIGURED_RATE_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    BURST_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    UTILISATION_FIELD_NUMBER: _ClassVar[int]
    key: str
    rate_per_second: float
    configured_rate_per_second: float
    burst: float
    tokens: float
    utilisation: float
    def __init__(self, key: _Optional[str] = ..., rate_per_second: _Optional[float] = ..., configured_rate_per_second: _Optional[float] = ..., burst: _Optional[float] = ..., tokens: _Optional[float] = ..., utilisation: _Optional[float] = ...) -> None: ...

class LockStatus(_message.Message):
    __slots__ = ("key", "capacity", "holders", "waiters")
    KEY_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    HOLDERS_FIELD_NUMBER: _ClassVar[int]
    WAITERS_FIELD_NUMBER: _ClassVar[int]
    key: str
    capacity: int
    holders: _containers.RepeatedScalarFieldContainer[str]
    waiters: int
    def __init__(self, key: _Optional[str] = ..., capacity: _Optional[int] = ..., holders: _Optional[_Iterable[str]] = ..., waiters: _Optional[int] = ...) -> None: ...

class RemoteWorkerStatus(_message.Message):
    __slots__ = ("worker_id", "name", "peer", "types", "capacity", "job_ids", "labels", "connected_at_ms", "last_heartbeat_ms", "draining")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_MS_FIELD_NUMBER: _ClassVar[int]
    DRAINING_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    name: str
    peer: str
    types: _containers.RepeatedScalarFieldContainer[str]
    capacity: int
    job_ids: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.ScalarMap[str, str]
    connected_at_ms: int
    last_heartbeat_ms: int
    draining: bool
    def __init__(self, worker_id: _Optional[str] = ..., name: _Optional[str] = ..., peer: _Optional[str] = ..., types: _Optional[_Iterable[str]] = ..., capacity: _Optional[int] = ..., job_ids: _Optional[_Iterable[str]] = ..., labels: _Optional[_Mapping[str, str]] = ..., connected_at_ms: _Optional[int] = ..., last_heartbeat_ms: _Optional[int] = ..., draining: _Optional[bool] = ...) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("server_time_ms", "queues", "workers", "rate_limiters", "locks", "jobs", "batch", "remote_workers")
    SERVER_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITERS_FIELD_NUMBER: _ClassVar[int]
    LOCKS_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    REMOTE_WORKERS_FIELD_NUMBER: _ClassVar[int]
    server_time_ms: int
    queues: _containers.RepeatedCompositeFieldContainer[QueueStatus]
    workers: _containers.RepeatedCompositeFieldContainer[WorkerSlot]
    rate_limiters: _containers.RepeatedCompositeFieldContainer[RateLimiterStatus]
    locks: _containers.RepeatedCompositeFieldContainer[LockStatus]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    batch: BatchSummary
    remote_workers: _containers.RepeatedCompositeFieldContainer[RemoteWorkerStatus]
    def __init__(self, server_time_ms: _Optional[int] = ..., queues: _Optional[_Iterable[_Union[QueueStatus, _Mapping]]] = ..., workers: _Optional[_Iterable[_Union[WorkerSlot, _Mapping]]] = ..., rate_limiters: _Optional[_Iterable[_Union[RateLimiterStatus, _Mapping]]] = ..., locks: _Optional[_Iterable[_Union[LockStatus, _Mapping]]] = ..., jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., batch: _Optional[_Union[BatchSummary, _Mapping]] = ..., remote_workers: _Optional[_Iterable[_Union[RemoteWorkerStatus, _Mapping]]] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("queue", "states", "type", "batch_id", "labels", "created_after_ms", "created_before_ms", "oldest_first", "page_size", "page_token")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_MS_FIELD_NUMBER: _ClassVar[int]
    OLDEST_FIRST_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    queue: str
    states: _containers.RepeatedScalarFieldContainer[JobState]
    type: str
    batch_id: str
    labels: _containers.ScalarMap[str, str]
    created_after_ms: int
    created_before_ms: int
    oldest_first: bool
    page_size: int
    page_token: str
    def __init__(self, queue: _Optional[str] = ..., states: _Optional[_Iterable[_Union[JobState, str]]] = ..., type: _Optional[str] = ..., batch_id: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., created_after_ms: _Optional[int] = ..., created_before_ms: _Optional[int] = ..., oldest_first: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token", "total")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    next_page_token: str
    total: int
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total: _Optional[int] = ...) -> None: ...

class RetryRequest(_message.Message):
    __slots__ = ("job_id", "reason")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RetryResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class UpdateQueueRequest(_message.Message):
    __slots__ = ("queue", "pause", "concurrency", "rate", "reset")
    class Pause(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        PAUSE_UNCHANGED: _ClassVar[UpdateQueueRequest.Pause]
        PAUSE_PAUSE: _ClassVar[UpdateQueueRequest.Pause]
        PAUSE_RESUME: _ClassVar[UpdateQueueRequest.Pause]
    PAUSE_UNCHANGED: UpdateQueueRequest.Pause
    PAUSE_PAUSE: UpdateQueueRequest.Pause
    PAUSE_RESUME: UpdateQueueRequest.Pause
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    PAUSE_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    RESET_FIELD_NUMBER: _ClassVar[int]
    queue: str
    pause: UpdateQueueRequest.Pause
    concurrency: int
    rate: QueueRate
    reset: bool
    def __init__(self, queue: _Optional[str] = ..., pause: _Optional[_Union[UpdateQueueRequest.Pause, str]] = ..., concurrency: _Optional[int] = ..., rate: _Optional[_Union[QueueRate, _Mapping]] = ..., reset: _Optional[bool] = ...) -> None: ...

class QueueRate(_message.Message):
    __slots__ = ("per_second", "burst")
    PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    BURST_FIELD_NUMBER: _ClassVar[int]
    per_second: float
    burst: float
    def __init__(self, per_second: _Optional[float] = ..., burst: _Optional[float] = ...) -> None: ...

class UpdateQueueResponse(_message.Message):
    __slots__ = ("queue",)
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    queue: QueueStatus
    def __init__(self, queue: _Optional[_Union[QueueStatus, _Mapping]] = ...) -> None: ...

class EnqueueStreamRequest(_message.Message):
    __slots__ = ("correlation_id", "job", "more")
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    correlation_id: int
    job: JobSpec
    more: _containers.RepeatedCompositeFieldContainer[EnqueueStreamRequest]
    def __init__(self, correlation_id: _Optional[int] = ..., job: _Optional[_Union[JobSpec, _Mapping]] = ..., more: _Optional[_Iterable[_Union[EnqueueStreamRequest, _Mapping]]] = ...) -> None: ...

class EnqueueStreamResponse(_message.Message):
    __slots__ = ("correlation_id", "job", "deduplicated", "error_code", "error_message", "more", "packs")
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    PACKS_FIELD_NUMBER: _ClassVar[int]
    correlation_id: int
    job: Job
    deduplicated: bool
    error_code: int
    error_message: str
    more: _containers.RepeatedCompositeFieldContainer[EnqueueStreamResponse]
    packs: bool
    def __init__(self, correlation_id: _Optional[int] = ..., job: _Optional[_Union[Job, _Mapping]] = ..., deduplicated: _Optional[bool] = ..., error_code: _Optional[int] = ..., error_message: _Optional[str] = ..., more: _Optional[_Iterable[_Union[EnqueueStreamResponse, _Mapping]]] = ..., packs: _Optional[bool] = ...) -> None: ...
