#!/usr/bin/env python3
"""A long-lived image render for a persistent exec type: it loads its model
once, then takes one job after another.

    types:
      render:
        exec:
          command: [python3, render_persistent.py]
          persistent: true

spoold (or `spoolctl work --persistent`) starts it once per job running at
once and writes each job to its standard input as one JSON line:

    {"id": "…", "type": "render", "attempt": 1, "labels": {…}, "payload": "…"}

("payload_b64" instead of "payload" when the payload is not UTF-8). It
answers each job with the exec messages (docs/exec.md): progress lines, then
one result or error line, which ends the job. It exits when its standard
input closes. If it dies during a job, the job is retried and a fresh
process is started for the next one.

Payload (all optional): {"prompt": "a red fox", "steps": 4, "step_ms": 50,
"die_on_attempt": 1} (the last exits mid-job on that attempt, to show a
crash being retried).
"""
import json
import os
import sys
import time


def say(**message):
    print(json.dumps(message), flush=True)


def load_model():
    """Stands for the expensive part: done once per process, not per job."""
    time.sleep(0.2)
    return {"loaded_at": time.time(), "pid": os.getpid()}


def render(model, job, served):
    try:
        payload = json.loads(job.get("payload") or "{}")
    except json.JSONDecodeError as error:
        return say(error=f"the payload is not JSON: {error}", retryable=False)
    if not isinstance(payload, dict):
        return say(error="the payload must be a JSON object", retryable=False)
    steps = int(payload.get("steps", 4))
    for step in range(steps):
        if payload.get("die_on_attempt") == job["attempt"] and step == 1:
            os._exit(3)  # a crash in the middle of the job
        time.sleep(int(payload.get("step_ms", 50)) / 1000)
        say(progress=(step + 1) / steps, step=f"denoise {step + 1}/{steps}")
    say(result=json.dumps({"prompt": payload.get("prompt", "a test pattern"), "pid": model["pid"],
                           "jobs_served": served, "job": job["id"], "attempt": job["attempt"]}))


def main() -> int:
    model = load_model()
    served = 0
    for line in sys.stdin:
        served += 1
        render(model, json.loads(line), served)
    return 0


if __name__ == "__main__":
    sys.exit(main())
