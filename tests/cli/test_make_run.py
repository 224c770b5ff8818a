"""`make run`'s launcher on a fresh instance folder: embedded Redis, migrations, demo data, worker and web
server as real processes, driven over HTTP with signed webhooks (local mode, the local token)."""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
import requests
from twilio.request_validator import RequestValidator

from hotline.config import PROJECT_ROOT
from hotline.registry.demo import DEMO_RESIDENT_PHONE, DEMO_TECHNICIAN_PHONE

API_TOKEN = "launcher-test-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def hotline(tmp_path):
    """The launcher running on a free port with nothing configured but the instance folder."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "DATABASE_", "TWILIO_", "HOTLINE_"))}
    env.update(INSTANCE_PATH=str(tmp_path / "instance"), HOTLINE_BIND=f"127.0.0.1:{port}",
               PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", HOTLINE_API_TOKEN=API_TOKEN, WEB_WORKERS="1")
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "hotline.cli.launcher"], cwd=PROJECT_ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    (tmp_path / "launcher.pid").write_text(str(proc.pid))
    try:
        _wait(lambda: requests.get(f"{base}/healthz", timeout=1).ok, 60, proc, tmp_path)
        token = (tmp_path / "instance" / "local_twilio_token").read_text().strip()
        yield base, token, tmp_path
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _wait(check, seconds, proc=None, tmp_path=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError((tmp_path / "run.log").read_text(errors="replace"))
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


def _post(base, token, url, params) -> ET.Element:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    signature = RequestValidator(token).compute_signature(base + path, params)
    resp = requests.post(base + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)
    assert resp.status_code == 200, resp.text
    return ET.fromstring(resp.content)


def _order(base):
    resp = requests.get(f"{base}/api/orders", headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=5)
    orders = resp.json()["orders"]
    return orders[0] if orders else None


def test_make_run_takes_a_call_offers_it_and_takes_the_technicians_reply(hotline):
    base, token, tmp_path = hotline
    call = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32, "From": DEMO_RESIDENT_PHONE,
            "To": "+864768000001", "CallStatus": "ringing", "Direction": "inbound"}
    root = _post(base, token, "/twilio/voice", call)
    assert "张桂兰您好" in "".join(root.itertext())
    root = _post(base, token, root.find("Gather").get("action"), {**call, "Digits": "2"})
    root = _post(base, token, root.find("Gather").get("action"), {**call, "Digits": "1"})
    assert "15分钟内上门" in "".join(root.itertext())
    _wait(lambda: _order(base)["status"] == "offered", 30)  # the worker process offered it
    sms = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": call["AccountSid"],
           "From": DEMO_TECHNICIAN_PHONE, "To": "+864768000001", "Body": "1"}
    reply = _post(base, token, "/twilio/sms", sms)
    assert "已接单" in "".join(reply.itertext())
    order = _order(base)
    assert order["status"] == "accepted" and order["technician"]["phone"] == DEMO_TECHNICIAN_PHONE
    assert "13904761234" not in (tmp_path / "run.log").read_text(errors="replace")  # numbers masked in logs


def test_unsigned_webhook_is_refused_by_the_running_server(hotline):
    base, _token, _ = hotline
    resp = requests.post(f"{base}/twilio/voice", data={"CallSid": "CA1", "From": DEMO_RESIDENT_PHONE}, timeout=5)
    assert resp.status_code == 403


def test_make_run_prints_demo_logins_that_open_the_console(hotline):
    base, _token, tmp_path = hotline
    logins = (tmp_path / "instance" / "demo_logins.txt").read_text().split("\n")
    user, role, password = next(line.split(" ") for line in logins if line.startswith("dispatcher "))
    _wait(lambda: password in (tmp_path / "run.log").read_text(errors="replace"), 10)  # the banner shows it
    browser = requests.Session()
    page = browser.get(f"{base}/console/login", timeout=5).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = browser.post(f"{base}/console/login", data={"username": user, "password": password, "csrf_token": token},
                        timeout=5)
    assert resp.ok and "调度员" in resp.text and role == "dispatcher"
    assert "家政维修" in browser.get(f"{base}/console/reports/", timeout=10).text  # the demo history is there


def test_a_terminated_launcher_stops_the_web_server_the_worker_and_redis(hotline):
    base, _token, tmp_path = hotline
    launcher = int((tmp_path / "launcher.pid").read_text())
    os.kill(launcher, signal.SIGTERM)  # the launcher alone, as `kill` or a closed terminal would
    _wait(lambda: _gone(launcher), 30)
    _wait(lambda: _group_empty(launcher), 30)
    with pytest.raises(requests.RequestException):
        requests.get(f"{base}/healthz", timeout=2)


def _gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
        os.kill(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        return True
    return False


def _group_empty(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False
