"""`python -m bench.run [--smoke] [--only a,b]`: run the benchmarks side by side and write bench/RESULTS.md."""
from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from models import make_engine, make_session_factory

from . import calltime, dispatch_bench, matching, messages, profile_webhooks, seed, webhooks
from .env import find_servers, load_average, machine
from .stats import table

BENCH_DIR = Path(__file__).parent
ORDER = ("calltime", "messages", "matching", "webhooks", "profile", "dispatch")
FULL = {"residents": 100_000, "technicians": 10_000, "match_sizes": (1_000, 10_000, 100_000), "orders": 1_000}
SMOKE = {"residents": 1_000, "technicians": 200, "match_sizes": (100, 1_000), "orders": 20}


# Redis databases for a single benchmark run alone (tests use 15 and their own; a full run uses 11).
SOLO_REDIS_DB = {"webhooks": 5, "dispatch": 6, "matching": 7, "messages": 8, "calltime": 8, "profile": 9}


def _seed(servers, sizes: dict) -> None:
    servers.reset_schema()
    engine = make_engine(servers.database_url)
    with make_session_factory(engine)() as session:
        seed.seed_demo(session, servers.settings().tz)
        seed.seed_residents(session, sizes["residents"])
        seed.replace_technicians(session, sizes["technicians"])
    engine.dispose()


def _benchmark(name: str, servers, sizes: dict, smoke: bool) -> dict:
    if name == "calltime":
        return calltime.run()
    if name == "messages":
        return messages.run(servers)
    if name == "matching":
        return matching.run(servers, sizes, smoke)
    if name == "webhooks":
        return webhooks.run(servers, sizes["residents"], smoke)
    if name == "profile":
        return profile_webhooks.section(servers, sizes["residents"], smoke)
    return dispatch_bench.run(servers, sizes, smoke)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks, print and write the results; non-zero only if a benchmark crashed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes for CI (well under 2 minutes)")
    parser.add_argument("--only", default=",".join(ORDER), help=f"comma-separated subset of {','.join(ORDER)}")
    parser.add_argument("--out", default=None, help="where to write the results (default bench/RESULTS.md; "
                                                     "smoke: the run's temporary folder)")
    parser.add_argument("--database", default=None, help="PostgreSQL database to (re)build for the run "
                                                          "(default hotline_bench; hotline_bench_NAME for --only NAME)")
    parser.add_argument("--redis-db", type=int, default=None, help="Redis database of 127.0.0.1:6379, flushed "
                                                                   "(default 11; one per benchmark for --only NAME)")
    args = parser.parse_args(argv)
    # One benchmark alone gets its own database and Redis db, so it can run beside another one or a full run.
    alone = args.only if args.only in SOLO_REDIS_DB else None
    args.database = args.database or (f"hotline_bench_{alone}" if alone else "hotline_bench")
    args.redis_db = args.redis_db if args.redis_db is not None else SOLO_REDIS_DB.get(alone, 11)
    sizes = SMOKE if args.smoke else FULL
    started = time.monotonic()
    servers = find_servers(args.smoke, args.database, args.redis_db)
    print(f"database: {servers.database_kind}; redis: {servers.redis_kind}; work dir {servers.workdir}", flush=True)
    load_before = load_average()
    sections, crashed = [], []
    try:
        _seed(servers, sizes)
        for name in [n for n in ORDER if n in args.only.split(",")]:
            print(f"== {name}", flush=True)
            t0 = time.monotonic()
            try:
                section = _benchmark(name, servers, sizes, args.smoke)
            except Exception:
                crashed.append(name)
                section = {"title": name, "lines": ["CRASHED:", "```", traceback.format_exc(), "```"], "targets": []}
                print(traceback.format_exc(), file=sys.stderr)
            section["seconds"] = time.monotonic() - t0
            sections.append(section)
            print("\n".join(section["lines"]), flush=True)
        info = machine(servers)
    finally:
        servers.flush_redis()
        servers.stop()
    text = _render(info, servers, sizes, sections, load_before, load_average(), args.smoke,
                   time.monotonic() - started)
    out = Path(args.out) if args.out else (servers.workdir / "RESULTS.md" if args.smoke else BENCH_DIR / "RESULTS.md")
    out.write_text(text, encoding="utf-8")
    print(f"\nwritten to {out}")
    print("\n".join(line for line in text.splitlines() if "PASS" in line or "FAIL" in line))
    return 1 if crashed else 0


def _render(info, servers, sizes, sections, load_before, load_after, smoke, seconds) -> str:
    lines = ["# Hotline benchmarks" + (" (smoke sizes)" if smoke else ""), "",
             f"Written by `{'make bench-smoke' if smoke else 'make bench'}` (`python -m bench.run"
             f"{' --smoke' if smoke else ''}`) on {info['date']} in {seconds:.0f} s. Headline figures are ratios "
             "measured side by side in this run; absolute times are noisy on a shared machine.", "",
             "## Machine and servers", "",
             f"- {info['cores']} cores, {info['cpu']}, {info['ram']} RAM, Linux {info['kernel']}",
             f"- load average (1/5/15 min) before: {load_before}; after: {load_after} "
             "(anything else running shares these cores)",
             f"- database: {servers.database_kind}" + (f" {info['PostgreSQL']}"
                                                      if "PostgreSQL" in info else f" {info.get('SQLite', '')}"),
             f"- redis: {servers.redis_kind}, server {info['redis-server']}",
             "- Python {python}, Flask {Flask}, Werkzeug {Werkzeug}, SQLAlchemy {SQLAlchemy}, RQ {rq}, "
             "redis-py {redis}, gunicorn {gunicorn}, psycopg {psycopg}, twilio {twilio}, "
             "aiohttp {aiohttp}".format(**info),
             f"- sizes: {sizes['residents']:,} residents, {sizes['technicians']:,} technicians "
             f"(matching: {', '.join(f'{n:,}' for n in sizes['match_sizes'])}), "
             f"{sizes['orders']:,} dispatched orders", "",
             "## Targets", ""]
    rows = [[s["title"], t, v, ok] for s in sections for t, v, ok in s["targets"]]
    lines += table(["benchmark", "target", "measured", ""], rows)
    for section in sections:
        lines += ["", f"## {section['title']}", f"({section['seconds']:.0f} s)", ""] + section["lines"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
