"""`make chaos`: the fault run. See chaos/__init__.py; `python -m chaos.run --help` for the options."""
from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
import traceback
from concurrent.futures import wait
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, exists, func, or_, select

from hotline.config import child_environment

from . import database, scenarios
from .client import Stats, Webhooks
from .driver import Driver
from .evidence import collect
from .fake import TimedFakeTwilio
from .faults import Faults
from .infra import AppProcesses, RedisServer, free_port
from .report import details, figures, table
from .sides import SMS, VOICE

ACCOUNT_SID = "AC" + "c4" * 16
AUTH_TOKEN = "chaos-auth-token-" + "7" * 15
API_TOKEN = "chaos-api-token"
ELDERLY, CHILD = "+864768000001", "+864768000002"
OFFER_TIMEOUT, ALERT_REPEAT = 20, 15
HELD_WINDOW, HELD_WAIT = 75, 90   # seconds: a call refused for the 1/min limit is tried again after 60
TIMEZONE = "Asia/Shanghai"


def app_env(db_url: str, redis_url: str, fake_url: str, web_port: int, instance: Path) -> dict:
    """The environment of gunicorn, the workers and `flask db upgrade`: Twilio mode against the fake (the SMS
    and voice sides add SMS_PROVIDER, VOICE_PROVIDER and their own settings)."""
    env = child_environment()  # the machine's PATH and locale, never this shell's own settings
    env.update({
        "DATABASE_URL": db_url, "REDIS_URL": redis_url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_API_BASE_URL": fake_url, "TWILIO_TIMEOUT_SECONDS": "10",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}", "HOTLINE_API_TOKEN": API_TOKEN,
        "HOTLINE_ELDERLY_NUMBER": ELDERLY, "HOTLINE_CHILD_NUMBER": CHILD, "SMS_FROM_NUMBER": "",
        "OFFER_TIMEOUT_SECONDS": str(OFFER_TIMEOUT), "ALERT_REPEAT_SECONDS": str(ALERT_REPEAT),
        "ALERT_MAX_REPEATS": "3", "SLA_ARRIVAL_MINUTES": "15", "SERVICE_RADIUS_KM": "3", "IVR_LANGUAGE": "zh-CN",
        "HOTLINE_TIMEZONE": TIMEZONE, "HOTLINE_QUEUE": "hotline", "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "chaos-secret", "DIAL_TIMEOUT_SECONDS": "20", "HOTLINE_FALLBACK_NUMBER": "",
        # Hundreds of orders to a few technicians: the SMS budget would skip most offers, the call budget hold
        # the landline notices (both have their own tests).
        "SMS_BUDGET": "off", "CALL_BUDGET": "off", "PYTHONUNBUFFERED": "1",
    })
    return env


def quiet_now(session_factory, pushes=lambda: 0, held_after: datetime | None = None) -> str:
    """Every order offered or escalated, nothing queued or being sent, every voicemail/missed case alerted,
    no reply or receipt still waiting for the provider's push (`pushes`), and no call the provider's per-number
    limit refused after `held_after` still held (its 1/min window lets it out, or a later one: counted)."""
    from dispatch.call_budget import LIMITED
    from models import Case, Message, OfferAttempt, Order

    with session_factory() as s:
        offered = exists().where(OfferAttempt.order_id == Order.id)
        unoffered = s.scalar(select(func.count()).select_from(Order).where(
            or_(Order.status == "pending", and_(Order.status.not_in(("escalated", "cancelled")), ~offered))))
        busy = s.scalar(select(func.count()).select_from(Message).where(Message.direction == "outbound",
                                                                      Message.status.in_(("queued", "sending"))))
        unalerted = s.scalar(select(func.count()).select_from(Case).where(Case.status.in_(("voicemail", "missed")),
                                                                        Case.alert_round < 1))
        held = 0 if held_after is None else s.scalar(select(func.count()).select_from(Message).where(
            Message.channel == "call", Message.status == "held", Message.error.startswith(LIMITED),
            Message.claimed_at > held_after))
    pending = pushes()
    if unoffered == busy == unalerted == pending == held == 0:
        return ""
    return (f"{unoffered} order(s) not offered, {busy} outbox row(s) queued/sending, {unalerted} case(s) not "
            f"alerted, {pending} push item(s) pending, {held} call(s) held by the provider's 1/min limit")


def pending_work(session_factory) -> dict:
    """Outbox rows being sent or waiting, and orders not yet offered: what a fault at this moment can hit."""
    from models import Message, Order

    with session_factory() as s:
        rows = s.execute(select(Message.id, Message.status).where(
            Message.direction == "outbound", Message.status.in_(("queued", "sending")))).all()
        orders = list(s.scalars(select(Order.id).where(Order.status == "pending")))
    return {"sending": [i for i, st in rows if st == "sending"], "queued": [i for i, st in rows if st == "queued"],
            "pending_orders": orders}


def drive(driver: Driver, calls: int, seconds: float, t0: float) -> None:
    """Launch the calls evenly over `seconds`, with ~5% forged requests between them."""
    plan = scenarios.plan(driver, calls)
    forged = max(4, round(0.05 * calls * 5))  # ~5% of the webhooks (about five per call)
    slots = sorted([(i * seconds / len(plan), fn, args) for i, (fn, args) in enumerate(plan)]
                   + [(driver.rng.uniform(0, seconds), driver.forge, ()) for _ in range(forged)],
                   key=lambda x: x[0])
    futures = []
    for at, fn, args in slots:
        time.sleep(max(0.0, t0 + at - time.time()))
        futures.append(driver.submit(fn, *args))
    wait(futures, timeout=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300, help="calls to drive (default 300)")
    parser.add_argument("--quick", action="store_true", help="40 calls: a smoke run for CI")
    parser.add_argument("--provider", choices=sorted(SMS), default="twilio",
                        help="who sends SMS (the app's SMS_PROVIDER, against its fake; default twilio)")
    parser.add_argument("--voice-provider", choices=sorted(VOICE), default=None,
                        help="who places calls (VOICE_PROVIDER; default: the SMS provider's, Twilio for local; "
                             "inbound voice stays on Twilio's webhooks)")
    parser.add_argument("--settle", type=float, default=120.0, help="max seconds to wait for quiescence")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--no-supervise", action="store_true",
                        help="do not restart a worker that exits by itself (only the ones the run kills)")
    parser.add_argument("--out", help="also write the table to this file")
    parser.add_argument("--keep-logs", help="copy the processes' logs to this folder")
    parser.add_argument("--database-url", default=database.DEFAULT_URL,
                        help="PostgreSQL database to drop, recreate and use (its name must contain 'chaos')")
    args = parser.parse_args(argv)
    # "Either provider" means the whole side: --provider aliyun places the calls through Alibaba too.
    args.voice_provider = args.voice_provider or (args.provider if args.provider in VOICE else "twilio")
    calls = 40 if args.quick else args.calls
    seed = args.seed if args.seed is not None else int(time.time())
    drive_seconds = max(25.0, calls * 0.2)
    db_url = args.database_url

    def _interrupt(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)

    started = time.time()
    workdir = Path(tempfile.mkdtemp(prefix="hotline-chaos-"))
    redis = procs = driver = fake = faults = side = voice = None
    db_made = False
    ok = False
    try:
        print(f"chaos: {calls} calls over {drive_seconds:.0f}s, seed {seed}, database {db_url}, SMS "
              f"{args.provider}, calls {args.voice_provider}", flush=True)
        redis = RedisServer(workdir)
        redis.start()
        fake = TimedFakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN).start()
        web_port = free_port()
        stats = Stats()
        hooks = Webhooks(f"http://127.0.0.1:{web_port}", AUTH_TOKEN, ACCOUNT_SID, stats)
        side, voice = SMS[args.provider](fake, hooks, seed), VOICE[args.voice_provider](fake, hooks, seed)
        instance = workdir / "instance"
        env = {**app_env(db_url, redis.url, fake.base_url, web_port, instance), **side.env(instance),
               **voice.env(instance)}
        database.recreate(db_url)
        db_made = True
        database.migrate(env)
        phones = database.seed(db_url, TIMEZONE)
        phones["unknown"] = [f"+86156047700{i:02d}" for i in range(20)]
        procs = AppProcesses(env, workdir, web_port, workers=2, supervise=not args.no_supervise)
        procs.start()
        side.start()
        voice.start()
        driver = Driver(hooks, side, phones, {"elderly": ELDERLY, "child": CHILD}, seed)
        setup = time.time() - started
        print(f"chaos: setup done in {setup:.1f}s (redis :{redis.port}, web :{web_port}, twilio {fake.base_url})",
              flush=True)

        from models import make_engine, make_session_factory, utcnow
        engine = make_engine(db_url)
        session_factory = make_session_factory(engine)
        t0 = time.time()
        faults = Faults(side, redis, procs, drive_seconds, lambda: pending_work(session_factory), voice)
        faults.start(t0)
        drive(driver, calls, drive_seconds, t0)
        faults.join()
        faults.after_drive()
        drive_end = time.time()
        print(f"chaos: drive done in {drive_end - t0:.1f}s; waiting for quiescence", flush=True)

        driver.settle = True
        quiet, streak, said = False, 0, time.time()
        while time.time() < drive_end + args.settle:
            # Calls Alibaba refused for the number's 1/min limit go out a minute later: wait for those (a call
            # refused again, or held for its 5/h, stays held and is counted), until HELD_WAIT after the drive.
            held_after = utcnow() - timedelta(seconds=HELD_WINDOW) if time.time() < drive_end + HELD_WAIT else None
            waiting = quiet_now(session_factory, lambda: side.pending() + voice.pending(), held_after)
            streak = 0 if waiting else streak + 1
            if waiting and time.time() - said >= 10:
                print(f"chaos: +{time.time() - drive_end:.0f}s still waiting: {waiting}", flush=True)
                said = time.time()
            if streak >= 3:
                quiet = True
                break
            time.sleep(1.0)
        engine.dispose()
        quiesce_end = time.time()
        driver.stop()
        side.stop()
        voice.stop()
        procs.stop_workers()
        procs.stop()
        evidence = collect(db_url, side, voice)
        meta = {"t0": t0, "setup": setup, "drive": drive_end - t0, "quiesce": quiesce_end - drive_end,
                "quiet": quiet, "total": time.time() - started}
        figs = figures(evidence, driver, stats, faults.events,
                       {"alert_repeat": ALERT_REPEAT, "voice": voice.name}, quiesce_end, side, voice)
        text, ok = table(figs, driver, stats, evidence, procs, meta, voice)
        if faults.errors:
            text += "\nfault errors: " + "; ".join(faults.errors)
            ok = False
        print("\n" + text, flush=True)
        more = details(figs)
        for at, pid, why in procs.unexpected_exits:
            more += f"\nworker {pid} exited by itself at +{at - t0:.1f}s: {why}"
        more = more.strip()
        if more:
            print("\ndetails:\n" + more, flush=True)
        if args.out:
            Path(args.out).write_text(text + "\n" + (("\ndetails:\n" + more + "\n") if more else ""),
                                      encoding="utf-8")
    except KeyboardInterrupt:
        print("chaos: interrupted; cleaning up", file=sys.stderr, flush=True)
        ok = False
    except Exception:  # noqa: BLE001 - report, clean up, exit non-zero
        traceback.print_exc()
        print("chaos: failed; cleaning up", file=sys.stderr, flush=True)
        ok = False
    finally:
        for stop in (faults and faults.stop, driver and driver.stop, side and side.stop, voice and voice.stop,
                     procs and procs.stop,
                     fake and fake.stop, redis and redis.stop):
            if stop:
                try:
                    stop()
                except Exception as exc:  # noqa: BLE001 - clean up the rest anyway
                    print(f"chaos: cleanup: {type(exc).__name__}: {exc}", file=sys.stderr)
        if db_made:
            try:
                database.drop(db_url)
            except Exception as exc:  # noqa: BLE001
                print(f"chaos: could not drop the chaos database: {exc}", file=sys.stderr)
        if args.keep_logs:
            shutil.copytree(workdir, args.keep_logs, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("instance", "*.rdb"))
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
