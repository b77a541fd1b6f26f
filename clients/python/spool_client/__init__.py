"""Spool's Python client: spool.v1.JobQueue over grpcio, with a watch() that resumes,
and a Worker for spool.v1.Workers."""
from spool_client.client import (BatchSummary, Client, Enqueued, Job, JobSpec, JobState, ListJobsResponse, Payload,
                                 ProgressEvent, QueueStatus, SpoolError, job_spec)
from spool_client.aio import AsyncClient
from spool_client.aio_worker import AsyncJobContext, AsyncWorker
from spool_client.worker import JobContext, PermanentError, RetryableError, Worker

__all__ = ["AsyncClient", "AsyncJobContext", "AsyncWorker", "BatchSummary", "Client", "Enqueued", "Job", "JobContext", "JobSpec", "JobState", "ListJobsResponse", "Payload",
           "QueueStatus",
           "PermanentError", "ProgressEvent", "RetryableError", "SpoolError", "Worker", "job_spec"]
