from spool_client._proto import queue_pb2 as _queue_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobAssignment(_message.Message):
    __slots__ = ["batch_id", "deadline_ms", "dependency_summary", "labels", "lease", "lease_ms", "max_attempts", "payload", "priority", "queue", "type"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    DEPENDENCY_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    LEASE_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    deadline_ms: int
    dependency_summary: str
    labels: _containers.ScalarMap[str, str]
    lease: Lease
    lease_ms: int
    max_attempts: int
    payload: bytes
    priority: int
    queue: str
    type: str
    def __init__(self, lease: _Optional[_Union[Lease, _Mapping]] = ..., type: _Optional[str] = ..., queue: _Optional[str] = ..., payload: _Optional[bytes] = ..., max_attempts: _Optional[int] = ..., priority: _Optional[int] = ..., deadline_ms: _Optional[int] = ..., lease_ms: _Optional[int] = ..., labels: _Optional[_Mapping[str, str]] = ..., batch_id: _Optional[str] = ..., dependency_summary: _Optional[str] = ...) -> None: ...

class JobAssignments(_message.Message):
    __slots__ = ["assignments"]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[JobAssignment]
    def __init__(self, assignments: _Optional[_Iterable[_Union[JobAssignment, _Mapping]]] = ...) -> None: ...

class JobCancel(_message.Message):
    __slots__ = ["cause", "lease", "message"]
    class Cause(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    CAUSE_LEASE_LOST: JobCancel.Cause
    CAUSE_REQUEST: JobCancel.Cause
    CAUSE_SHUTDOWN: JobCancel.Cause
    CAUSE_TIMEOUT: JobCancel.Cause
    CAUSE_UNSPECIFIED: JobCancel.Cause
    LEASE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    cause: JobCancel.Cause
    lease: Lease
    message: str
    def __init__(self, lease: _Optional[_Union[Lease, _Mapping]] = ..., cause: _Optional[_Union[JobCancel.Cause, str]] = ..., message: _Optional[str] = ...) -> None: ...

class JobFailure(_message.Message):
    __slots__ = ["message", "permanent", "retry_after_ms"]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PERMANENT_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    message: str
    permanent: bool
    retry_after_ms: int
    def __init__(self, message: _Optional[str] = ..., permanent: bool = ..., retry_after_ms: _Optional[int] = ...) -> None: ...

class JobOutcome(_message.Message):
    __slots__ = ["failure", "lease", "released", "result"]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    failure: JobFailure
    lease: Lease
    released: str
    result: bytes
    def __init__(self, lease: _Optional[_Union[Lease, _Mapping]] = ..., result: _Optional[bytes] = ..., failure: _Optional[_Union[JobFailure, _Mapping]] = ..., released: _Optional[str] = ...) -> None: ...

class JobOutcomes(_message.Message):
    __slots__ = ["outcomes"]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[JobOutcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[JobOutcome, _Mapping]]] = ...) -> None: ...

class JobProgressUpdate(_message.Message):
    __slots__ = ["lease", "progress"]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    lease: Lease
    progress: _queue_pb2.JobProgress
    def __init__(self, lease: _Optional[_Union[Lease, _Mapping]] = ..., progress: _Optional[_Union[_queue_pb2.JobProgress, _Mapping]] = ...) -> None: ...

class Lease(_message.Message):
    __slots__ = ["attempt", "job_id", "lease_id"]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    job_id: str
    lease_id: str
    def __init__(self, job_id: _Optional[str] = ..., attempt: _Optional[int] = ..., lease_id: _Optional[str] = ...) -> None: ...

class OutcomeAck(_message.Message):
    __slots__ = ["lease", "message", "refusal"]
    class Refusal(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    LEASE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_LEASE_LOST: OutcomeAck.Refusal
    REFUSAL_UNKNOWN_LEASE: OutcomeAck.Refusal
    REFUSAL_UNSPECIFIED: OutcomeAck.Refusal
    lease: Lease
    message: str
    refusal: OutcomeAck.Refusal
    def __init__(self, lease: _Optional[_Union[Lease, _Mapping]] = ..., refusal: _Optional[_Union[OutcomeAck.Refusal, str]] = ..., message: _Optional[str] = ...) -> None: ...

class WorkerCommand(_message.Message):
    __slots__ = ["ack", "assign", "assignments", "cancel", "drain", "welcome"]
    ACK_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    ASSIGN_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    DRAIN_FIELD_NUMBER: _ClassVar[int]
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    ack: OutcomeAck
    assign: JobAssignment
    assignments: JobAssignments
    cancel: JobCancel
    drain: WorkerDrain
    welcome: WorkerWelcome
    def __init__(self, welcome: _Optional[_Union[WorkerWelcome, _Mapping]] = ..., assign: _Optional[_Union[JobAssignment, _Mapping]] = ..., cancel: _Optional[_Union[JobCancel, _Mapping]] = ..., drain: _Optional[_Union[WorkerDrain, _Mapping]] = ..., ack: _Optional[_Union[OutcomeAck, _Mapping]] = ..., assignments: _Optional[_Union[JobAssignments, _Mapping]] = ...) -> None: ...

class WorkerDrain(_message.Message):
    __slots__ = ["deadline_ms", "message"]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    deadline_ms: int
    message: str
    def __init__(self, deadline_ms: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class WorkerDraining(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class WorkerHeartbeat(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class WorkerHello(_message.Message):
    __slots__ = ["batches", "capacity", "labels", "name", "types"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    batches: bool
    capacity: int
    labels: _containers.ScalarMap[str, str]
    name: str
    types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., types: _Optional[_Iterable[str]] = ..., capacity: _Optional[int] = ..., labels: _Optional[_Mapping[str, str]] = ..., batches: bool = ...) -> None: ...

class WorkerMessage(_message.Message):
    __slots__ = ["draining", "heartbeat", "hello", "outcome", "outcomes", "progress"]
    DRAINING_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    draining: WorkerDraining
    heartbeat: WorkerHeartbeat
    hello: WorkerHello
    outcome: JobOutcome
    outcomes: JobOutcomes
    progress: JobProgressUpdate
    def __init__(self, hello: _Optional[_Union[WorkerHello, _Mapping]] = ..., heartbeat: _Optional[_Union[WorkerHeartbeat, _Mapping]] = ..., progress: _Optional[_Union[JobProgressUpdate, _Mapping]] = ..., outcome: _Optional[_Union[JobOutcome, _Mapping]] = ..., draining: _Optional[_Union[WorkerDraining, _Mapping]] = ..., outcomes: _Optional[_Union[JobOutcomes, _Mapping]] = ...) -> None: ...

class WorkerWelcome(_message.Message):
    __slots__ = ["batches", "heartbeat_interval_ms", "worker_id"]
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    batches: bool
    heartbeat_interval_ms: int
    worker_id: str
    def __init__(self, worker_id: _Optional[str] = ..., heartbeat_interval_ms: _Optional[int] = ..., batches: bool = ...) -> None: ...
