"""No English words in the Chinese console: with the demo loaded and a child call walked through the webhooks
to a message, an SMS acknowledgement, an intake, its tasks (one overdue) and a police report, every page a
duty officer, a dispatcher and an admin can reach shows its visible text in Chinese."""
from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from dispatch.task_overdue import overdue_round
from hotline.registry.demo import DEMO_USERS
from hotline.registry.demo_history import load_history
from hotline.staff import create_user
from models import Case, CaseTask, Message, Officer, Order, StaffUser, utcnow
from tests.conftest import CHILD_NUMBER, ELDERLY_NUMBER
from tests.console.conftest import PASSWORD, csrf_of
from tests.webhooks.child_calls import case_of, voicemail_call

# Runs of three or more ASCII letters are English words; these few are names the Chinese console uses as they are:
ALLOWED = {
    "SMS",      # the channel's name as Chinese phones and carriers print it (短信 is used too)
    "CSV",      # the file format the import page and the exports ask for, as every spreadsheet program names it
    "UTF",      # UTF-8, the encoding's name as the "save as" dialog lists it (next to GB18030)
    "Excel",    # the spreadsheet program, a product name (the import page says which encoding it saves)
    "Twilio",   # the telephone provider, a company name (the softphone page says what it imitates)
    "English",  # the top bar's language switch names the other language in that language
}
# Not prose: <code> holds literals typed as shown (a setting, a command, a file's column names, a time zone, a page's
# address on the access log); scripts, styles and templates are not shown.
HIDDEN = ("script", "style", "template", "code")
WORD = re.compile(r"[A-Za-z]{3,}")
SKIPPED = ("/logout", ".csv", ".mp3", "lang=", "/rows", "/inbox")
CHILD_CALLER = "+8613904761234"  # the demo resident's mobile doubles as the child's here: a known number


class VisibleText(HTMLParser):
    """The text a reader reads: no tags, attribute values, scripts or styles, nor <code> literals."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN:
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def english_words(html: str, logins: set[str]) -> set[str]:
    """The English words in a page's visible text, each with the text around it, less the allowed ones and the
    console users' login names (identifiers staff type to sign in, shown as typed, e.g. on the users page)."""
    parser = VisibleText()
    parser.feed(html)
    text = re.sub(r"\s+", " ", " ".join(parser.parts))
    return {f"{m.group()}: …{text[max(0, m.start() - 30):m.end() + 30]}…" for m in WORD.finditer(text)
            if m.group() not in ALLOWED and m.group() not in logins}


def pattern(url: str) -> str:
    """One page per route and set of query names: /console/orders/17 and /console/orders/18 are the same page."""
    path, _, query = url.partition("?")
    names = sorted(part.split("=", 1)[0] for part in query.split("&") if part)
    return re.sub(r"\d+", "N", path) + "?" + "&".join(names)


def crawl(client, seeds: list[str], logins: set[str]) -> dict[str, set[str]]:
    """GET the seeds, then every console link found, one page per pattern: the English words of each page."""
    queue, seen, found = list(seeds), set(), {}
    while queue and len(found) < 120:
        url = queue.pop(0)
        if pattern(url) in seen:
            continue
        seen.add(pattern(url))
        resp = client.get(url)
        assert resp.status_code in (200, 302, 403), (url, resp.status_code)
        if resp.status_code != 200 or not resp.mimetype == "text/html":
            continue
        html = resp.get_data(as_text=True)
        found[url] = english_words(html, logins)
        for href in re.findall(r'href="(/console[^"#]*)"', html):
            href = href.replace("&amp;", "&")
            if not any(s in href for s in SKIPPED):
                queue.append(href)
    return found


CASE_PAGES = {"/console/cases/?", "/console/cases/N?", "/console/cases/N/intake?", "/console/cases/export?",
              "/console/workers/?", "/console/workers/N?", "/console/officers?", "/console/rota/?",
              "/console/reports/child/?from&to"}
ORDER_PAGES = {"/console/orders/?", "/console/orders/N?", "/console/technicians?", "/console/technicians/N?",
               "/console/residents?", "/console/residents/N?"}
SHARED = {"/console/import/?", "/console/outbox/?", "/console/reports/?", "/console/account/password?"}
# The pages each role must have been shown (a crawl that stopped early would prove nothing).
REACHED = {"duty_officer": CASE_PAGES | SHARED, "dispatcher": ORDER_PAGES | SHARED,
           "admin": CASE_PAGES | ORDER_PAGES | SHARED | {"/console/audit/?", "/console/users/?"}}


@pytest.fixture
def login(app):
    """A test client signed in as one of the demo's console users (by login name)."""
    def _login(username: str):
        client = app.test_client()
        token = csrf_of(client.get("/console/login").get_data(as_text=True))
        resp = client.post("/console/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        assert resp.status_code == 302
        client.csrf = csrf_of(client.get("/console/login").get_data(as_text=True))
        return client
    return _login


@pytest.fixture
def walked(app, db, demo, tw, login, run_worker, settings):
    """The demo with its history, an elderly order by phone, and a child case taken from a call to a police report."""
    load_history(db, utcnow())
    db.commit()
    elderly = tw.new_call(from_="+8613904761234", to=ELDERLY_NUMBER)
    resp = elderly.post("/twilio/voice")
    elderly.follow(elderly.follow(resp, Digits="2"), Digits="1")
    case = case_of(db, voicemail_call(tw, CHILD_CALLER))
    run_worker()
    # Whoever the rota alerted at this hour (the demo's shifts change at local midnight), not a fixed name.
    alerted = db.scalar(select(Message.to_phone).where(Message.case_id == case.id,
                                                       Message.key.startswith("case-alert:")).order_by(Message.id))
    officer = db.scalar(select(Officer).where(Officer.phone == alerted))
    tw.sms(from_=officer.phone, to=CHILD_NUMBER, body=f"收到 {case.code}")
    for username, role, name in DEMO_USERS:
        create_user(db, username, PASSWORD, role, name)
    db.commit()
    duty = login("duty")
    base = f"/console/cases/{case.code}"
    now = (utcnow() + timedelta(minutes=2)).astimezone(settings.tz).strftime("%Y-%m-%dT%H:%M")
    intake = {"contact_type": "child_self", "risk_level": "critical", "category": ["violence/physical"],
              "summary": "孩子说被继父打", "child-0-name": "小明", "child-0-sex": "male", "child-0-age": "9",
              "child-0-township": "林东镇", "child-0-village": "东城村", "child-0-living": "left_behind"}
    for path, form in ((f"{base}/intake", intake), (f"{base}/callback", {}),
                       (f"{base}/police", {"reporter": "王海燕", "station": "林东派出所", "report_no": "甲0042",
                                           "reported_at": now})):
        assert duty.post(path, data={**form, "csrf_token": duty.csrf}).status_code == 303, path
    db.expire_all()
    case = db.scalar(select(Case).where(Case.id == case.id))
    assert case.acknowledged_at is not None and case.police_recorded_at is not None
    task = db.scalar(select(CaseTask).where(CaseTask.case_id == case.id).order_by(CaseTask.id))
    assert task is not None, "the critical intake opens the risk level's tasks"
    task.next_overdue_at = task.due_at = utcnow() - timedelta(minutes=1)
    db.commit()
    overdue_round(db, task.id, 1, settings, utcnow())
    db.commit()
    run_worker()
    return case


@pytest.mark.parametrize("role", ["duty_officer", "dispatcher", "admin"])
def test_every_page_a_role_reaches_shows_no_english_words_in_chinese(walked, db, login, role):
    client = login(next(username for username, demo_role, _ in DEMO_USERS if demo_role == role))
    logins = set(db.scalars(select(StaffUser.username)))
    base = f"/console/cases/{walked.code}"
    found = crawl(client, ["/console/?lang=zh-CN", base, f"{base}/intake", "/console/orders/",
                           "/console/account/password"], logins)
    assert REACHED[role] <= {pattern(url) for url in found}
    english = [f"{url} {word}" for url, words in sorted(found.items()) for word in sorted(words)]
    assert english == [], "\n".join(english)


def test_every_case_and_order_of_the_demo_shows_its_timeline_without_english_words(walked, db, login):
    client = login("admin")
    logins = set(db.scalars(select(StaffUser.username)))
    urls = [f"/console/cases/{code}" for code in db.scalars(select(Case.code))]
    urls += [f"/console/orders/{order_id}" for order_id in db.scalars(select(Order.id))]
    english = [f"{url} {word}" for url in urls for word in sorted(english_words(client.get(url).get_data(as_text=True),
                                                                                logins))]
    assert len(urls) > 250 and english == [], "\n".join(english)
