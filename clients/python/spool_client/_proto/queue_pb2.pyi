from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
JOB_STATE_BLOCKED: JobState
JOB_STATE_CANCELLED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SCHEDULED: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_UNSPECIFIED: JobState

class BatchSummary(_message.Message):
    __slots__ = ["batch_id", "counts", "eta_ms", "percent", "total"]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    ETA_MS_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    counts: JobCounts
    eta_ms: int
    percent: float
    total: int
    def __init__(self, batch_id: _Optional[str] = ..., total: _Optional[int] = ..., counts: _Optional[_Union[JobCounts, _Mapping]] = ..., percent: _Optional[float] = ..., eta_ms: _Optional[int] = ...) -> None: ...

class CancelRequest(_message.Message):
    __slots__ = ["batch_id", "job_id", "reason"]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., batch_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelResponse(_message.Message):
    __slots__ = ["jobs"]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ...) -> None: ...

class EnqueueBatchRequest(_message.Message):
    __slots__ = ["callback", "idempotency_key", "jobs", "labels", "parent_id"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CALLBACK_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    callback: JobSpec
    idempotency_key: str
    jobs: _containers.RepeatedCompositeFieldContainer[JobSpec]
    labels: _containers.ScalarMap[str, str]
    parent_id: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[JobSpec, _Mapping]]] = ..., labels: _Optional[_Mapping[str, str]] = ..., idempotency_key: _Optional[str] = ..., callback: _Optional[_Union[JobSpec, _Mapping]] = ..., parent_id: _Optional[str] = ...) -> None: ...

class EnqueueBatchResponse(_message.Message):
    __slots__ = ["batch_id", "callback", "deduplicated", "jobs"]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_FIELD_NUMBER: _ClassVar[int]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    callback: EnqueuedJob
    deduplicated: bool
    jobs: _containers.RepeatedCompositeFieldContainer[EnqueuedJob]
    def __init__(self, batch_id: _Optional[str] = ..., jobs: _Optional[_Iterable[_Union[EnqueuedJob, _Mapping]]] = ..., deduplicated: bool = ..., callback: _Optional[_Union[EnqueuedJob, _Mapping]] = ...) -> None: ...

class EnqueueRequest(_message.Message):
    __slots__ = ["job"]
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: JobSpec
    def __init__(self, job: _Optional[_Union[JobSpec, _Mapping]] = ...) -> None: ...

class EnqueueResponse(_message.Message):
    __slots__ = ["deduplicated", "job"]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    deduplicated: bool
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ..., deduplicated: bool = ...) -> None: ...

class EnqueueStreamRequest(_message.Message):
    __slots__ = ["correlation_id", "job", "more"]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    correlation_id: int
    job: JobSpec
    more: _containers.RepeatedCompositeFieldContainer[EnqueueStreamRequest]
    def __init__(self, correlation_id: _Optional[int] = ..., job: _Optional[_Union[JobSpec, _Mapping]] = ..., more: _Optional[_Iterable[_Union[EnqueueStreamRequest, _Mapping]]] = ...) -> None: ...

class EnqueueStreamResponse(_message.Message):
    __slots__ = ["correlation_id", "deduplicated", "error_code", "error_message", "job", "more", "packs"]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    PACKS_FIELD_NUMBER: _ClassVar[int]
    correlation_id: int
    deduplicated: bool
    error_code: int
    error_message: str
    job: Job
    more: _containers.RepeatedCompositeFieldContainer[EnqueueStreamResponse]
    packs: bool
    def __init__(self, correlation_id: _Optional[int] = ..., job: _Optional[_Union[Job, _Mapping]] = ..., deduplicated: bool = ..., error_code: _Optional[int] = ..., error_message: _Optional[str] = ..., more: _Optional[_Iterable[_Union[EnqueueStreamResponse, _Mapping]]] = ..., packs: bool = ...) -> None: ...

class EnqueuedJob(_message.Message):
    __slots__ = ["deduplicated", "id", "state"]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    deduplicated: bool
    id: str
    state: JobState
    def __init__(self, id: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., deduplicated: bool = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ["batch_id", "job_ids", "only_selected", "queues"]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    ONLY_SELECTED_FIELD_NUMBER: _ClassVar[int]
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    job_ids: _containers.RepeatedScalarFieldContainer[str]
    only_selected: bool
    queues: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, queues: _Optional[_Iterable[str]] = ..., job_ids: _Optional[_Iterable[str]] = ..., batch_id: _Optional[str] = ..., only_selected: bool = ...) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ["batch", "jobs", "locks", "queues", "rate_limiters", "remote_workers", "schedules", "server_time_ms", "workers"]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    LOCKS_FIELD_NUMBER: _ClassVar[int]
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITERS_FIELD_NUMBER: _ClassVar[int]
    REMOTE_WORKERS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULES_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    batch: BatchSummary
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    locks: _containers.RepeatedCompositeFieldContainer[LockStatus]
    queues: _containers.RepeatedCompositeFieldContainer[QueueStatus]
    rate_limiters: _containers.RepeatedCompositeFieldContainer[RateLimiterStatus]
    remote_workers: _containers.RepeatedCompositeFieldContainer[RemoteWorkerStatus]
    schedules: _containers.RepeatedCompositeFieldContainer[ScheduleStatus]
    server_time_ms: int
    workers: _containers.RepeatedCompositeFieldContainer[WorkerSlot]
    def __init__(self, server_time_ms: _Optional[int] = ..., queues: _Optional[_Iterable[_Union[QueueStatus, _Mapping]]] = ..., workers: _Optional[_Iterable[_Union[WorkerSlot, _Mapping]]] = ..., rate_limiters: _Optional[_Iterable[_Union[RateLimiterStatus, _Mapping]]] = ..., locks: _Optional[_Iterable[_Union[LockStatus, _Mapping]]] = ..., jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., batch: _Optional[_Union[BatchSummary, _Mapping]] = ..., remote_workers: _Optional[_Iterable[_Union[RemoteWorkerStatus, _Mapping]]] = ..., schedules: _Optional[_Iterable[_Union[ScheduleStatus, _Mapping]]] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ["attempt", "batch_id", "created_at_ms", "dependency_summary", "depends_on", "depends_on_batches", "error", "eta_ms", "expire_at_ms", "finished_at_ms", "id", "idempotency_key", "labels", "lock_keys", "max_attempts", "position", "priority", "progress", "queue", "rate_cost", "rate_key", "result", "run_at_ms", "run_if_dependencies_fail", "started_at_ms", "state", "timeout_ms", "type", "updated_at_ms", "wait"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    DEPENDENCY_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_BATCHES_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ETA_MS_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_AT_MS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LOCK_KEYS_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    RATE_COST_FIELD_NUMBER: _ClassVar[int]
    RATE_KEY_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    RUN_AT_MS_FIELD_NUMBER: _ClassVar[int]
    RUN_IF_DEPENDENCIES_FAIL_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    batch_id: str
    created_at_ms: int
    dependency_summary: str
    depends_on: _containers.RepeatedScalarFieldContainer[str]
    depends_on_batches: _containers.RepeatedScalarFieldContainer[str]
    error: JobError
    eta_ms: int
    expire_at_ms: int
    finished_at_ms: int
    id: str
    idempotency_key: str
    labels: _containers.ScalarMap[str, str]
    lock_keys: _containers.RepeatedScalarFieldContainer[str]
    max_attempts: int
    position: int
    priority: int
    progress: JobProgress
    queue: str
    rate_cost: int
    rate_key: str
    result: bytes
    run_at_ms: int
    run_if_dependencies_fail: bool
    started_at_ms: int
    state: JobState
    timeout_ms: int
    type: str
    updated_at_ms: int
    wait: WaitReason
    def __init__(self, id: _Optional[str] = ..., queue: _Optional[str] = ..., type: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., priority: _Optional[int] = ..., attempt: _Optional[int] = ..., max_attempts: _Optional[int] = ..., position: _Optional[int] = ..., progress: _Optional[_Union[JobProgress, _Mapping]] = ..., result: _Optional[bytes] = ..., error: _Optional[_Union[JobError, _Mapping]] = ..., batch_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., lock_keys: _Optional[_Iterable[str]] = ..., rate_key: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., run_at_ms: _Optional[int] = ..., created_at_ms: _Optional[int] = ..., started_at_ms: _Optional[int] = ..., finished_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., eta_ms: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., wait: _Optional[_Union[WaitReason, _Mapping]] = ..., expire_at_ms: _Optional[int] = ..., depends_on: _Optional[_Iterable[str]] = ..., depends_on_batches: _Optional[_Iterable[str]] = ..., run_if_dependencies_fail: bool = ..., dependency_summary: _Optional[str] = ..., rate_cost: _Optional[int] = ...) -> None: ...

class JobCounts(_message.Message):
    __slots__ = ["blocked", "cancelled", "failed", "queued", "running", "scheduled", "succeeded"]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    blocked: int
    cancelled: int
    failed: int
    queued: int
    running: int
    scheduled: int
    succeeded: int
    def __init__(self, scheduled: _Optional[int] = ..., queued: _Optional[int] = ..., running: _Optional[int] = ..., succeeded: _Optional[int] = ..., failed: _Optional[int] = ..., cancelled: _Optional[int] = ..., blocked: _Optional[int] = ...) -> None: ...

class JobError(_message.Message):
    __slots__ = ["code", "message", "retryable"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    retryable: bool
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., retryable: bool = ...) -> None: ...

class JobProgress(_message.Message):
    __slots__ = ["fraction", "message", "step"]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    fraction: float
    message: str
    step: str
    def __init__(self, fraction: _Optional[float] = ..., step: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class JobSpec(_message.Message):
    __slots__ = ["depends_on", "depends_on_batches", "depends_on_items", "expire_at_ms", "idempotency_key", "labels", "lock_keys", "max_attempts", "parent_id", "payload", "priority", "queue", "rate_cost", "rate_key", "run_at_ms", "run_if_dependencies_fail", "timeout_ms", "type"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DEPENDS_ON_BATCHES_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_ITEMS_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_AT_MS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LOCK_KEYS_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    RATE_COST_FIELD_NUMBER: _ClassVar[int]
    RATE_KEY_FIELD_NUMBER: _ClassVar[int]
    RUN_AT_MS_FIELD_NUMBER: _ClassVar[int]
    RUN_IF_DEPENDENCIES_FAIL_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    depends_on: _containers.RepeatedScalarFieldContainer[str]
    depends_on_batches: _containers.RepeatedScalarFieldContainer[str]
    depends_on_items: _containers.RepeatedScalarFieldContainer[int]
    expire_at_ms: int
    idempotency_key: str
    labels: _containers.ScalarMap[str, str]
    lock_keys: _containers.RepeatedScalarFieldContainer[str]
    max_attempts: int
    parent_id: str
    payload: bytes
    priority: int
    queue: str
    rate_cost: int
    rate_key: str
    run_at_ms: int
    run_if_dependencies_fail: bool
    timeout_ms: int
    type: str
    def __init__(self, queue: _Optional[str] = ..., type: _Optional[str] = ..., payload: _Optional[bytes] = ..., priority: _Optional[int] = ..., idempotency_key: _Optional[str] = ..., lock_keys: _Optional[_Iterable[str]] = ..., rate_key: _Optional[str] = ..., max_attempts: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., run_at_ms: _Optional[int] = ..., labels: _Optional[_Mapping[str, str]] = ..., expire_at_ms: _Optional[int] = ..., depends_on: _Optional[_Iterable[str]] = ..., depends_on_batches: _Optional[_Iterable[str]] = ..., depends_on_items: _Optional[_Iterable[int]] = ..., run_if_dependencies_fail: bool = ..., parent_id: _Optional[str] = ..., rate_cost: _Optional[int] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ["batch_id", "created_after_ms", "created_before_ms", "labels", "oldest_first", "page_size", "page_token", "queue", "states", "type"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_MS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    OLDEST_FIRST_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    created_after_ms: int
    created_before_ms: int
    labels: _containers.ScalarMap[str, str]
    oldest_first: bool
    page_size: int
    page_token: str
    queue: str
    states: _containers.RepeatedScalarFieldContainer[JobState]
    type: str
    def __init__(self, queue: _Optional[str] = ..., states: _Optional[_Iterable[_Union[JobState, str]]] = ..., type: _Optional[str] = ..., batch_id: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., created_after_ms: _Optional[int] = ..., created_before_ms: _Optional[int] = ..., oldest_first: bool = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ["jobs", "next_page_token", "total"]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    next_page_token: str
    total: int
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total: _Optional[int] = ...) -> None: ...

class LockStatus(_message.Message):
    __slots__ = ["capacity", "holders", "key", "waiters"]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    HOLDERS_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    WAITERS_FIELD_NUMBER: _ClassVar[int]
    capacity: int
    holders: _containers.RepeatedScalarFieldContainer[str]
    key: str
    waiters: int
    def __init__(self, key: _Optional[str] = ..., capacity: _Optional[int] = ..., holders: _Optional[_Iterable[str]] = ..., waiters: _Optional[int] = ...) -> None: ...

class ProgressEvent(_message.Message):
    __slots__ = ["batch", "job", "kind", "note", "seq", "time_ms"]
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    BATCH_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    KIND_POSITION: ProgressEvent.Kind
    KIND_PROGRESS: ProgressEvent.Kind
    KIND_SNAPSHOT: ProgressEvent.Kind
    KIND_STATE: ProgressEvent.Kind
    KIND_UNSPECIFIED: ProgressEvent.Kind
    NOTE_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    batch: BatchSummary
    job: Job
    kind: ProgressEvent.Kind
    note: str
    seq: int
    time_ms: int
    def __init__(self, seq: _Optional[int] = ..., time_ms: _Optional[int] = ..., kind: _Optional[_Union[ProgressEvent.Kind, str]] = ..., job: _Optional[_Union[Job, _Mapping]] = ..., note: _Optional[str] = ..., batch: _Optional[_Union[BatchSummary, _Mapping]] = ...) -> None: ...

class QueueRate(_message.Message):
    __slots__ = ["burst", "per_second"]
    BURST_FIELD_NUMBER: _ClassVar[int]
    PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    burst: float
    per_second: float
    def __init__(self, per_second: _Optional[float] = ..., burst: _Optional[float] = ...) -> None: ...

class QueueStatus(_message.Message):
    __slots__ = ["concurrency", "counts", "max_depth", "mean_run_ms", "name", "paused", "running_job_ids", "throughput_per_minute"]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    MEAN_RUN_MS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    RUNNING_JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    THROUGHPUT_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    concurrency: int
    counts: JobCounts
    max_depth: int
    mean_run_ms: int
    name: str
    paused: bool
    running_job_ids: _containers.RepeatedScalarFieldContainer[str]
    throughput_per_minute: float
    def __init__(self, name: _Optional[str] = ..., counts: _Optional[_Union[JobCounts, _Mapping]] = ..., concurrency: _Optional[int] = ..., max_depth: _Optional[int] = ..., throughput_per_minute: _Optional[float] = ..., mean_run_ms: _Optional[int] = ..., running_job_ids: _Optional[_Iterable[str]] = ..., paused: bool = ...) -> None: ...

class RateLimiterStatus(_message.Message):
    __slots__ = ["burst", "configured_rate_per_second", "key", "rate_per_second", "tokens", "utilisation"]
    BURST_FIELD_NUMBER: _ClassVar[int]
    CONFIGURED_RATE_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    RATE_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    UTILISATION_FIELD_NUMBER: _ClassVar[int]
    burst: float
    configured_rate_per_second: float
    key: str
    rate_per_second: float
    tokens: float
    utilisation: float
    def __init__(self, key: _Optional[str] = ..., rate_per_second: _Optional[float] = ..., configured_rate_per_second: _Optional[float] = ..., burst: _Optional[float] = ..., tokens: _Optional[float] = ..., utilisation: _Optional[float] = ...) -> None: ...

class RemoteWorkerStatus(_message.Message):
    __slots__ = ["capacity", "connected_at_ms", "draining", "job_ids", "labels", "last_heartbeat_ms", "name", "peer", "types", "worker_id"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    DRAINING_FIELD_NUMBER: _ClassVar[int]
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_MS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    capacity: int
    connected_at_ms: int
    draining: bool
    job_ids: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.ScalarMap[str, str]
    last_heartbeat_ms: int
    name: str
    peer: str
    types: _containers.RepeatedScalarFieldContainer[str]
    worker_id: str
    def __init__(self, worker_id: _Optional[str] = ..., name: _Optional[str] = ..., peer: _Optional[str] = ..., types: _Optional[_Iterable[str]] = ..., capacity: _Optional[int] = ..., job_ids: _Optional[_Iterable[str]] = ..., labels: _Optional[_Mapping[str, str]] = ..., connected_at_ms: _Optional[int] = ..., last_heartbeat_ms: _Optional[int] = ..., draining: bool = ...) -> None: ...

class RetryRequest(_message.Message):
    __slots__ = ["job_id", "reason"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RetryResponse(_message.Message):
    __slots__ = ["job"]
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class ScheduleStatus(_message.Message):
    __slots__ = ["cron", "fired", "last_error", "last_fire_ms", "last_job_id", "name", "next_fire_ms", "overlap", "skipped", "time_zone"]
    CRON_FIELD_NUMBER: _ClassVar[int]
    FIRED_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    LAST_FIRE_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NEXT_FIRE_MS_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    cron: str
    fired: int
    last_error: str
    last_fire_ms: int
    last_job_id: str
    name: str
    next_fire_ms: int
    overlap: str
    skipped: int
    time_zone: str
    def __init__(self, name: _Optional[str] = ..., cron: _Optional[str] = ..., time_zone: _Optional[str] = ..., overlap: _Optional[str] = ..., next_fire_ms: _Optional[int] = ..., last_fire_ms: _Optional[int] = ..., last_job_id: _Optional[str] = ..., fired: _Optional[int] = ..., skipped: _Optional[int] = ..., last_error: _Optional[str] = ...) -> None: ...

class StreamProgressRequest(_message.Message):
    __slots__ = ["after_seq", "all_queues", "batch_id", "job_ids", "position_interval_ms", "queue"]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    ALL_QUEUES_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    POSITION_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    after_seq: int
    all_queues: bool
    batch_id: str
    job_ids: _containers.RepeatedScalarFieldContainer[str]
    position_interval_ms: int
    queue: str
    def __init__(self, job_ids: _Optional[_Iterable[str]] = ..., batch_id: _Optional[str] = ..., queue: _Optional[str] = ..., all_queues: bool = ..., after_seq: _Optional[int] = ..., position_interval_ms: _Optional[int] = ...) -> None: ...

class UpdateQueueRequest(_message.Message):
    __slots__ = ["concurrency", "pause", "queue", "rate", "reset"]
    class Pause(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    PAUSE_FIELD_NUMBER: _ClassVar[int]
    PAUSE_PAUSE: UpdateQueueRequest.Pause
    PAUSE_RESUME: UpdateQueueRequest.Pause
    PAUSE_UNCHANGED: UpdateQueueRequest.Pause
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    RESET_FIELD_NUMBER: _ClassVar[int]
    concurrency: int
    pause: UpdateQueueRequest.Pause
    queue: str
    rate: QueueRate
    reset: bool
    def __init__(self, queue: _Optional[str] = ..., pause: _Optional[_Union[UpdateQueueRequest.Pause, str]] = ..., concurrency: _Optional[int] = ..., rate: _Optional[_Union[QueueRate, _Mapping]] = ..., reset: bool = ...) -> None: ...

class UpdateQueueResponse(_message.Message):
    __slots__ = ["queue"]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    queue: QueueStatus
    def __init__(self, queue: _Optional[_Union[QueueStatus, _Mapping]] = ...) -> None: ...

class WaitReason(_message.Message):
    __slots__ = ["ahead", "holder_job_ids", "key", "kind", "text", "until_ms"]
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    AHEAD_FIELD_NUMBER: _ClassVar[int]
    HOLDER_JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_BEHIND: WaitReason.Kind
    KIND_DEPENDENCIES: WaitReason.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    KIND_LOCK: WaitReason.Kind
    KIND_NO_WORKER: WaitReason.Kind
    KIND_PAUSED: WaitReason.Kind
    KIND_QUEUE_CONCURRENCY: WaitReason.Kind
    KIND_RATE: WaitReason.Kind
    KIND_RUN_AT: WaitReason.Kind
    KIND_UNSPECIFIED: WaitReason.Kind
    KIND_WORKERS: WaitReason.Kind
    TEXT_FIELD_NUMBER: _ClassVar[int]
    UNTIL_MS_FIELD_NUMBER: _ClassVar[int]
    ahead: int
    holder_job_ids: _containers.RepeatedScalarFieldContainer[str]
    key: str
    kind: WaitReason.Kind
    text: str
    until_ms: int
    def __init__(self, kind: _Optional[_Union[WaitReason.Kind, str]] = ..., text: _Optional[str] = ..., key: _Optional[str] = ..., holder_job_ids: _Optional[_Iterable[str]] = ..., ahead: _Optional[int] = ..., until_ms: _Optional[int] = ...) -> None: ...

class WorkerSlot(_message.Message):
    __slots__ = ["busy", "index", "job_id", "queue", "since_ms"]
    BUSY_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    busy: bool
    index: int
    job_id: str
    queue: str
    since_ms: int
    def __init__(self, index: _Optional[int] = ..., busy: bool = ..., job_id: _Optional[str] = ..., queue: _Optional[str] = ..., since_ms: _Optional[int] = ...) -> None: ...

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
