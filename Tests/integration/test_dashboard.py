"""The dashboard in a real browser: Debian's chromium, headless, driven by
selenium through chromedriver, against a live spoold.

Set SPOOL_SCREENSHOTS to a folder to keep the screenshots (README's picture is
made this way); otherwise they go to the test's temporary folder."""
import base64
import json
import os
import pathlib
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import Spoold
from test_http import enqueue, get_json, post_json, request

CONFIG = """
queues:
  render: {concurrency: 1}
  crawl: {concurrency: 2, rate: {per_second: 5, burst: 5}}
locks:
  repo:acme/web: 1
"""


def sleep_job(queue, steps, step_ms, **extra):
    payload = json.dumps({"steps": steps, "step_ms": step_ms}).encode()
    return {"type": "spool.sleep", "queue": queue, "payload": base64.b64encode(payload).decode(), **extra}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    spoold = Spoold.configured(tmp_path_factory.mktemp("dashboard"), CONFIG)
    yield spoold
    spoold.terminate()


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    assert chromium and driver_path, "chromium and chromium-driver are installed by scripts/setup.sh --test"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1440,1000", "--force-device-scale-factor=1"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


@pytest.fixture
def screenshots(tmp_path):
    folder = pathlib.Path(os.environ.get("SPOOL_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wait_for(browser, predicate, timeout=30):
    return WebDriverWait(browser, timeout, poll_frequency=0.05).until(lambda _: predicate())


def text(browser, selector):
    """The element's text now, read in one step (the page re-renders as events come)."""
    return browser.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : null", selector)


def console_errors(browser):
    """The page's own errors (answers the API gave, 404s included, are the tests' business)."""
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE" and entry["source"] != "network"]


def test_a_waiting_job_shows_its_position_then_finishes_live(server, browser, screenshots):
    blocker = enqueue(server, sleep_job("render", steps=20, step_ms=100))
    job = enqueue(server, sleep_job("render", steps=4, step_ms=50, labels={"repo": "acme/web"}))
    assert job["state"] == "JOB_STATE_QUEUED" and job["position"] == 1

    browser.get(f"http://127.0.0.1:{server.port}/#/job/{job['id']}")
    wait_for(browser, lambda: text(browser, ".job-head [data-testid=state]") == "QUEUED")
    assert text(browser, "[data-testid=position]") == "#1"
    assert text(browser, "[data-testid=wait-reason]") == "queue render runs 1 at once, all busy"
    assert "steps" in text(browser, "[data-testid=payload]")
    browser.save_screenshot(str(screenshots / "job-waiting.png"))

    # No reload: the page follows the job's events.
    wait_for(browser, lambda: text(browser, ".job-head [data-testid=state]") == "SUCCEEDED")
    timeline = text(browser, "[data-testid=timeline]")
    assert "RUNNING" in timeline and "SUCCEEDED" in timeline
    assert '"steps": 4' in text(browser, "[data-testid=result]")
    assert get_json(server, f"/api/v1/jobs/{blocker['id']}")["state"] == "JOB_STATE_SUCCEEDED"
    assert console_errors(browser) == []


def test_the_cancel_button_cancels_a_running_job(server, browser):
    job = enqueue(server, sleep_job("render", steps=600, step_ms=100))
    browser.get(f"http://127.0.0.1:{server.port}/#/job/{job['id']}")
    wait_for(browser, lambda: text(browser, ".job-head [data-testid=state]") == "RUNNING")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=cancel]").click()
    wait_for(browser, lambda: text(browser, ".job-head [data-testid=state]") == "CANCELLED")
    assert get_json(server, f"/api/v1/jobs/{job['id']}")["state"] == "JOB_STATE_CANCELLED"
    assert "cancelled from the dashboard" in text(browser, "[data-testid=error]")


def test_the_overview_shows_queues_limits_locks_and_a_live_feed(server, browser, screenshots):
    browser.get(f"http://127.0.0.1:{server.port}/#/")
    wait_for(browser, lambda: browser.execute_script("return document.getElementById('live').className") == "live on")
    long = enqueue(server, sleep_job("render", steps=300, step_ms=100, lockKeys=["repo:acme/web"]))
    for index in range(6):
        enqueue(server, sleep_job("crawl", steps=10, step_ms=300 + 100 * index, labels={"repo": "acme/web"}))
    waiting = [enqueue(server, sleep_job("render", steps=3, step_ms=100)) for _ in range(3)]
    wait_for(browser, lambda: "RUNNING" in (text(browser, "[data-testid=feed]") or ""))
    wait_for(browser, lambda: (text(browser, "[data-testid=queue-render] [data-testid=count-queued]") or "").endswith("3"))
    page = text(browser, "main")
    assert "queue:crawl" in page and "repo:acme/web" in page
    browser.save_screenshot(str(screenshots / "dashboard.png"))
    for job in [long] + waiting:
        post_json(server, f"/api/v1/jobs/{job['id']}/cancel", {})
    assert console_errors(browser) == []


def test_a_batch_page_follows_the_batch_to_the_end(server, browser, pb):
    queue_pb2, queue_pb2_grpc = pb
    with server.channel() as channel:
        batch = queue_pb2_grpc.JobQueueStub(channel).EnqueueBatch(queue_pb2.EnqueueBatchRequest(jobs=[
            queue_pb2.JobSpec(type="spool.sleep", queue="crawl", payload=b'{"steps": 2, "step_ms": 50}')
            for _ in range(5)]))
    browser.get(f"http://127.0.0.1:{server.port}/#/batch/{batch.batch_id}")
    wait_for(browser, lambda: (text(browser, "[data-testid=batch-percent]") or "").startswith("100%"))
    assert browser.execute_script("return document.querySelectorAll('main tbody tr').length") == 5


def test_an_unknown_job_says_so(server, browser):
    browser.get(f"http://127.0.0.1:{server.port}/#/job/no-such-job")
    wait_for(browser, lambda: "NOT_FOUND" in (text(browser, "#page-error") or ""))
    assert request(server, "GET", "/api/v1/jobs/no-such-job")[0].status == 404


def test_the_pause_button_pauses_and_resumes_a_queue(server, browser):
    browser.get(f"http://127.0.0.1:{server.port}/#/")
    wait_for(browser, lambda: text(browser, "[data-testid=pause-render]") == "Pause")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=pause-render]").click()
    wait_for(browser, lambda: text(browser, "[data-testid=queue-render] [data-testid=paused]") == "PAUSED")
    assert next(q for q in get_json(server, "/api/v1/status")["queues"] if q["name"] == "render")["paused"]
    wait_for(browser, lambda: text(browser, "[data-testid=pause-render]") == "Resume")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=pause-render]").click()
    wait_for(browser, lambda: text(browser, "[data-testid=queue-render] [data-testid=paused]") is None)
    assert not next(q for q in get_json(server, "/api/v1/status")["queues"] if q["name"] == "render")["paused"]


def test_job_search_by_label_pages_through_the_matches(server, browser, screenshots):
    ids = [enqueue(server, {"type": "spool.echo", "labels": {"repo": "acme/search", "n": str(n)}})["id"] for n in range(30)]
    browser.get(f"http://127.0.0.1:{server.port}/#/jobs?label=repo%3Dacme%2Fsearch")
    wait_for(browser, lambda: text(browser, "[data-testid=total]") == "30 jobs match")
    first_page = browser.execute_script("return [...document.querySelectorAll('[data-testid=jobs] tbody tr td:first-child')].map(e => e.innerText)")
    assert first_page == list(reversed(ids))[:25]
    browser.save_screenshot(str(screenshots / "dashboard-jobs.png"))
    browser.find_element(By.CSS_SELECTOR, "[data-testid=next-page]").click()
    wait_for(browser, lambda: browser.execute_script("return document.querySelectorAll('[data-testid=jobs] tbody tr').length") == 5)


def test_the_retry_button_runs_a_cancelled_job_again(server, browser):
    job = enqueue(server, sleep_job("crawl", steps=600, step_ms=100, runAtMs=4102444800000))
    post_json(server, f"/api/v1/jobs/{job['id']}/cancel", {})
    browser.get(f"http://127.0.0.1:{server.port}/#/job/{job['id']}")
    wait_for(browser, lambda: text(browser, ".job-head [data-testid=state]") == "CANCELLED")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=retry]").click()
    wait_for(browser, lambda: text(browser, ".job-head [data-testid=state]") in ("QUEUED", "RUNNING"))
    assert get_json(server, f"/api/v1/jobs/{job['id']}")["state"] in ("JOB_STATE_QUEUED", "JOB_STATE_RUNNING")
    post_json(server, f"/api/v1/jobs/{job['id']}/cancel", {})
    assert console_errors(browser) == []


def test_a_blocked_job_shows_what_it_waits_for_then_runs_live(server, browser, screenshots):
    first = enqueue(server, sleep_job("crawl", steps=10, step_ms=100))
    job = enqueue(server, {"type": "spool.echo", "queue": "crawl", "dependsOn": [first["id"]]})
    assert job["state"] == "JOB_STATE_BLOCKED"

    browser.get(f"http://127.0.0.1:{server.port}/#/job/{job['id']}")
    wait_for(browser, lambda: text(browser, ".job-head [data-testid=state]") == "BLOCKED")
    assert text(browser, "[data-testid=dependencies-left]") == "1"
    assert text(browser, "[data-testid=wait-reason]") == f"waits for 1 dependency: job {first['id']}"
    browser.save_screenshot(str(screenshots / "job-blocked.png"))

    # Released and run once its dependency succeeded, without a reload.
    wait_for(browser, lambda: text(browser, ".job-head [data-testid=state]") == "SUCCEEDED")
    assert "BLOCKED" in text(browser, "[data-testid=timeline]")
    assert console_errors(browser) == []
