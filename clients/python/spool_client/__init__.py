"""Spool's Python client: spool.v1.JobQueue over grpcio, with a watch() that resumes."""
from spool_client.client import (BatchSummary, Client, Enqueued, Job, JobSpec, JobState, Payload, ProgressEvent,
                                 SpoolError, job_spec)

__all__ = ["BatchSummary", "Client", "Enqueued", "Job", "JobSpec", "JobState", "Payload", "ProgressEvent",
           "SpoolError", "job_spec"]
