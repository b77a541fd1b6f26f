#!/usr/bin/env python3
"""An image render for spoold's exec handler: reads a JSON job from stdin,
reports progress per denoising step as JSON lines on stdout, and answers with
a small PPM image (base64, as result_b64).

Payload (all optional): {"prompt": "a red fox", "steps": 8, "step_ms": 100,
"width": 32, "height": 32, "fail": "permanent" | "retryable"}.

The exec protocol it speaks (README: "The exec handler"):
  {"progress": 0.25, "step": "denoise 2/8", "message": "..."}   progress
  {"result_b64": "..."} or {"result": "..."}                     the result
  {"error": "...", "retryable": false, "retry_after_ms": 2000}  why it failed
Exit 0 is success. SIGTERM (a cancel or a timeout) stops it cleanly.
"""
import base64
import json
import os
import signal
import sys
import time


def say(**message):
    print(json.dumps(message), flush=True)


def stopped(signum, _frame):
    print(f"render: stopped by signal {signum} at a step boundary", file=sys.stderr, flush=True)
    sys.exit(128 + signum)


def main() -> int:
    signal.signal(signal.SIGTERM, stopped)
    raw = sys.stdin.buffer.read()
    try:
        job = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as error:
        say(error=f"the payload is not JSON: {error}", retryable=False)
        return 2
    if not isinstance(job, dict):
        say(error="the payload must be a JSON object", retryable=False)
        return 2
    prompt = str(job.get("prompt", "a test pattern"))
    steps = int(job.get("steps", 8))
    step_ms = int(job.get("step_ms", 100))
    width, height = int(job.get("width", 32)), int(job.get("height", 32))
    if not (1 <= steps <= 1000 and 1 <= width <= 1024 and 1 <= height <= 1024):
        say(error="steps must be 1..1000 and width, height 1..1024", retryable=False)
        return 2
    if job.get("fail") == "permanent":
        say(error=f"refusing the prompt {prompt!r}", retryable=False)
        return 1
    if job.get("fail") == "retryable":
        say(error="the GPU is busy", retry_after_ms=int(job.get("retry_after_ms", 1000)))
        return 1

    print(f"render: job {os.environ.get('SPOOL_JOB_ID')} attempt {os.environ.get('SPOOL_ATTEMPT')}: {prompt!r}",
          flush=True)  # not JSON: spoold logs it
    seed = sum(prompt.encode()) % 256
    for step in range(1, steps + 1):
        time.sleep(step_ms / 1000)
        say(progress=step / steps, step=f"denoise {step}/{steps}")
    pixels = bytes((x * 255 // width + seed) % 256 if c == 0 else (y * 255 // height) if c == 1 else seed
                   for y in range(height) for x in range(width) for c in range(3))
    image = f"P6 {width} {height} 255\n".encode() + pixels
    say(result_b64=base64.b64encode(image).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
