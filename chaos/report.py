"""The figures of the fault run, counted from the database and the providers' fakes, and the one table."""
from __future__ import annotations

from collections import Counter

from .evidence import Evidence, duplicates

RECIPIENT_LIMITED = "isv.BUSINESS_LIMIT_CONTROL"
HELD_CALL = ("held", "cancelled", "merged")

LATE_GRACE = 40.0  # seconds past due that still count as on time (reconcile interval 20 s + grace 10 s + slack)


def _first_201_after(ev: Evidence, t: float) -> float | None:
    ends = [r["end"] for r in ev.timeline if r["status"] == 201 and r["start"] >= t]
    return min(ends) if ends else None


def _row_of(ev: Evidence, r: dict):
    """The outbox row of one request in a fake's timeline: by SID, by outbox key (Alibaba), else by content."""
    keyed = next((m for m in ev.outbound if r.get("key") and r["key"] in (m.key, f"#{m.id}")), None)
    return ev.row_of_sid.get(r["sid"]) or keyed or next(
        (m for m in ev.outbound if m.to_phone == r["to"] and m.body == r["body"]), None)


def moved_on(ev: Evidence) -> dict:
    """Offer rows the provider refused for flow control (Alibaba's BUSINESS_LIMIT_CONTROL): failed by design, the
    order going on to the next technician. Row id -> when it did (next offer out, escalated), or None."""
    attempts = {a.id: a for a in ev.attempts}
    orders = {o.id: o for o in ev.orders}
    offers = [(int(m.key.split(":")[1]), m) for m in ev.outbound if (m.key or "").startswith("offer:")]
    out: dict = {}
    for attempt_id, m in offers:
        if m.status != "failed" or RECIPIENT_LIMITED not in (m.error or "") or attempt_id not in attempts:
            continue
        order = orders.get(attempts[attempt_id].order_id)
        nexts = [ev.delivered[o.id] for i, o in offers if i > attempt_id and o.id in ev.delivered
                 and attempts.get(i) is not None and attempts[i].order_id == attempts[attempt_id].order_id]
        if order is not None and order.escalated_at is not None:
            nexts.append(order.escalated_at.timestamp())
        out[m.id] = min(nexts, default=None)
    return out


def _done(ev: Evidence, row, moved: dict) -> float | None:
    """When an outbox row's work got through: the provider accepted it, (an offer refused) it moved on, or (a call
    the provider's per-number limit refused) it was held, its last try's time: never dropped, counted apart."""
    if row is not None and row.channel == "call" and row.status in HELD_CALL and row.id not in ev.delivered:
        return row.claimed_at.timestamp() if row.claimed_at is not None else row.created_at.timestamp()
    return None if row is None else ev.delivered.get(row.id) or moved.get(row.id)


def recovery(ev: Evidence, events: list[dict]) -> list[dict]:
    """Per fault: how long after it the work it hit was done; `last` names the work that took longest."""
    out = []
    first_offer = _first_offer_times(ev)
    rows = {m.id: m for m in ev.outbound}
    codes = {o.id: o.code for o in ev.orders}
    moved = moved_on(ev)
    for e in events:
        t, items = e["at"], []   # (when done or None, what)
        if "status" in e:   # provider burst: each refused request until the same message got through
            for f in [r for r in ev.timeline if r["status"] == e["status"] and r["start"] >= t - 0.1][:e["n"]]:
                later = [r["end"] for r in ev.timeline if r["status"] == 201 and r["to"] == f["to"]
                         and r["body"] == f["body"] and r["start"] >= f["start"]]
                later += [t for t in [_done(ev, _row_of(ev, f), moved)] if t is not None]
                items.append((min(later) if later else None, f"refused send: {f['body'][:14]}"))
        if "up" in e:       # Redis: work committed during the outage, and offer timeouts due in it
            lo, hi = t - 2, e["up"] + 2
            items += [(first_offer.get(o.id), f"offer of order {o.code}") for o in ev.orders
                      if lo <= o.created_at.timestamp() <= hi]
            items += [(_done(ev, m, moved), m.key) for m in ev.outbound if lo <= m.created_at.timestamp() <= hi]
            items += [(a.answered_at.timestamp(), f"timeout of offer {a.id}") for a in ev.attempts
                      if a.status == "expired" and lo <= a.expires_at.timestamp() <= hi]
        if "slow" in e:     # provider timeouts: the sends that started while the fake was slow, until recorded
            for r in ev.timeline:
                if t <= r["start"] <= t + e["for"]:
                    row = _row_of(ev, r)
                    items.append((_done(ev, row, moved), row.key if row else "slow send"))
        if "pid" in e:      # worker kill: sends in flight at the kill
            items.append((_first_201_after(ev, t + 0.01), "first send after the kill"))
            for r in ev.timeline:
                if r["start"] <= t <= r["end"] + 0.1:
                    row = _row_of(ev, r)
                    items.append((_done(ev, row, moved) if row else r["end"], row.key if row else "in flight"))
        # The work pending in the database at the fault (snapshot), first hit by this fault.
        items += [(_done(ev, rows.get(i), moved), rows[i].key if i in rows else f"row {i}")
                  for st in ("sending", "queued") for i in e.get(st, [])]
        items += [(first_offer.get(i), f"offer of order {codes.get(i, i)}") for i in e.get("pending_orders", [])]
        if not items:
            items.append((_first_201_after(ev, e.get("up", t)), "first send after"))
        when, what = max(items, key=lambda x: float("inf") if x[0] is None else x[0])
        out.append({**e, "recovered_after": None if when is None else max(0.0, when - t), "last": what})
    return out


def _first_offer_times(ev: Evidence) -> dict:
    """Order id -> when its first offer SMS reached the fake, or when it was escalated."""
    by_attempt = {a.id: a.order_id for a in ev.attempts}
    first: dict = {}
    for m in ev.outbound:
        if (m.key or "").startswith("offer:") and m.id in ev.delivered:
            order_id = by_attempt.get(int(m.key.split(":")[1]))
            first[order_id] = min(first.get(order_id, ev.delivered[m.id]), ev.delivered[m.id])
    for o in ev.orders:
        if o.escalated_at is not None and o.id not in first:
            first[o.id] = o.escalated_at.timestamp()
    return first


def _order_done(ev: Evidence, m) -> bool:
    """Whether the order of an offer row got a technician or was cancelled (nothing left to move on to)."""
    attempt = next((a for a in ev.attempts if a.id == int(m.key.split(":")[1])), None)
    order = next((o for o in ev.orders if attempt is not None and o.id == attempt.order_id), None)
    return order is not None and order.status not in ("pending", "offered", "escalated")


def figures(ev: Evidence, driver, stats, fault_events: list[dict], settings: dict, end: float, side,
            voice=None) -> dict:
    """Every figure of the table, from the evidence, the driver's own record and the SMS side's."""
    calls = list(driver.calls.values())
    orders_by_sid = Counter(o.call_sid for o in ev.orders if o.call_sid)
    pairs = {(o.call_sid, o.code) for o in ev.orders}
    mine = [o for o in ev.orders if o.call_sid in driver.calls]
    heard = [c for c in calls if c.codes]
    lost = [(c.sid, code) for c in heard for code in c.codes if (c.sid, code) not in pairs]
    lost += [(c.sid, "emergency") for c in calls if c.kind == "emergency" and c.finished
             and orders_by_sid[c.sid] == 0 and all(s == 200 for s in c.statuses)]
    refused = [c.sid for c in calls if c.expect_order and c.kind != "emergency" and c.finished and not c.codes]
    first_offer = _first_offer_times(ev)
    unoffered = [o.code for o in mine if o.id not in first_offer and o.status != "cancelled"]
    accepted = Counter(a.order_id for a in ev.attempts if a.status == "accepted")
    kills = [e["at"] for e in fault_events if "pid" in e]
    window, slow, other = duplicates(ev, kills, side.timeout)
    # Alerts: every outbound row of a voicemail/missed call or case must have reached the fake.
    case_of_call = {c.call_sid: c for c in ev.cases}
    alert_lost, cases_lost = [], []
    for c in calls:
        if c.kind.startswith("child") and c.sid not in case_of_call and c.statuses and c.statuses[0] == 200:
            cases_lost.append(c.sid)
        if not c.expect_alert or not c.finished:
            continue
        if c.kind.startswith("child"):
            case = case_of_call.get(c.sid)
            rows = [m for m in ev.outbound if case is not None and m.case_id == case.id
                    and (m.key or "").startswith(f"case-alert:{case.id}:1:")]
        else:
            rows = [m for m in ev.outbound if (m.key or "").startswith(f"callback:{c.sid}:")]
        if not rows or any(m.id not in ev.delivered for m in rows):
            alert_lost.append(c.sid)
    escalation_lost = [m.key for m in ev.outbound
                       if (m.key or "").startswith("escalated:") and m.id not in ev.delivered]
    moved = moved_on(ev)
    # A call the provider's per-number limit refused waits as `held` (placed later, or cancelled or merged if no
    # longer wanted): never lost, counted on the voice side's line.
    undelivered = [m.key for m in ev.outbound if m.id not in ev.delivered and m.id not in moved
                   and not (m.channel == "call" and m.status in HELD_CALL)]
    stuck = [m.key for m in ev.outbound if m.status in ("queued", "sending")]
    forged_accepted = [f for f in driver.forged if f["status"] != 403 or f["sid"] in ev.call_logs
                       or f["sid"] in ev.inbound_sids]
    replay_diff = [r for r in driver.replays if not r["new_token"] and not r["same"]]
    burst_bad = [b for b in driver.bursts if b["distinct"] != 1 or set(b["statuses"]) != {200}]
    regressions = [c.sid for c in calls if c.finished and c.sid in ev.call_logs
                   and ev.call_logs[c.sid].status != "completed"]
    expiry_late = [a.answered_at.timestamp() - a.expires_at.timestamp() for a in ev.attempts
                   if a.status == "expired" and a.answered_at is not None]
    round_late = [b - a - settings["alert_repeat"] for ats in ev.alert_events.values()
                  for a, b in zip(ats, ats[1:], strict=False)]
    overdue = [a.id for a in ev.attempts if a.status == "pending" and a.expires_at.timestamp() < end - LATE_GRACE]
    overdue += [c.code for c in ev.cases if c.status in ("voicemail", "missed") and c.next_alert_at is not None
                and c.next_alert_at.timestamp() < end - LATE_GRACE]
    overdue += [o.code for o in ev.orders if o.status == "pending"]
    rec = recovery(ev, fault_events)
    worst = [r["recovered_after"] for r in rec]
    return {
        "calls": calls, "heard": heard, "orders": mine, "lost": lost, "refused": refused,
        "dup_orders": [sid for sid, n in orders_by_sid.items() if n > 1] + [c.sid for c in calls if len(c.codes) > 1],
        "unoffered": unoffered, "double_assigned": [o for o, n in accepted.items() if n > 1],
        "window": window, "slow_dups": slow, "other_dups": other, "unknown_sms": ev.unknown,
        "alert_lost": alert_lost,
        "cases_lost": cases_lost, "escalation_lost": escalation_lost, "undelivered": undelivered, "stuck": stuck,
        "forged_accepted": forged_accepted, "replay_diff": replay_diff, "burst_bad": burst_bad,
        "regressions": regressions, "expiry_late": max(expiry_late, default=0.0),
        "round_late": max(round_late, default=0.0), "overdue": overdue, "recovery": rec,
        "max_recovery": None if None in worst else max(worst, default=0.0),
        "server_errors": stats.server_errors, "connection_errors": stats.connection_errors,
        "moved_on": len(moved), "stuck_offers": [m.key for m in ev.outbound if m.id in moved and moved[m.id] is None
                                                  and not _order_done(ev, m)],
        "provider": side.name, "voice": settings["voice"], **side.figures(ev),
        **(voice.figures(ev) if voice is not None else {}),
    }


def table(f: dict, driver, stats, ev: Evidence, procs, meta: dict, voice=None) -> tuple[str, bool]:
    """The table, and whether every must-be-zero figure is zero."""
    kinds = Counter(c.kind for c in f["calls"])
    rows: list[tuple[str, str, bool]] = []

    def row(label, value, must_zero=False):
        n = len(value) if isinstance(value, (list, set, dict)) else value
        rows.append((label, str(n), must_zero and n != 0))

    fmt = lambda s: "not recovered" if s is None else f"{s:.1f}"  # noqa: E731
    row("calls driven", f"{len(f['calls'])} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})")
    statuses = ", ".join(f"{k}: {n}" for k, n in sorted(stats.by_status.items()))
    row("webhook requests sent", f"{stats.requests} (HTTP {statuses})")
    row("orders created", f"{len(f['orders'])} ({len(f['heard'])} calls heard a code)")
    row("orders lost", f["lost"], True)
    row("calls refused an order (no code heard)", f["refused"], True)
    row("duplicate orders", f["dup_orders"], True)
    row("orders never offered nor escalated", f["unoffered"], True)
    row("orders with two winners", f["double_assigned"], True)
    row(f"SMS ({f['provider']}) + calls ({f['voice']}) accepted by the fakes",
        f"{len(ev.fake_sent)} ({len(ev.outbound)} outbox rows)")
    row("duplicate SMS per attempt", f["other_dups"], True)
    row("  duplicates: worker killed mid-send (documented)", f["window"])
    # Alibaba: a retry after a timeout asks QuerySendDetails first, so a late answer must never mean two SMS.
    row("  duplicates: provider answered after the timeout", f["slow_dups"], f["provider"] == "aliyun")
    row("  messages matching no outbox row", f["unknown_sms"], True)
    row("max time from fault to recovery (s)", fmt(f["max_recovery"]), f["max_recovery"] is None)
    row("alerts lost (voicemail/missed)", f["alert_lost"], True)
    row("child-line cases lost", f["cases_lost"], True)
    row("escalation SMS lost", f["escalation_lost"], True)
    row("outbox rows never delivered", f["undelivered"], True)
    row("offers refused by flow control (moved on / stuck)", f"{f['moved_on']} / {len(f['stuck_offers'])}",
        bool(f["stuck_offers"]))
    row("outbox rows left queued/sending", f["stuck"], True)
    row("overdue work at the end", f["overdue"], True)
    row("max offer-timeout lateness (s)", f"{f['expiry_late']:.1f}")
    row("max alert-round lateness (s)", f"{f['round_late']:.1f}")
    row("5xx answers seen by the driver", f["server_errors"], True)
    row("connection errors seen by the driver", f["connection_errors"], True)
    row("forged requests sent / accepted", f"{len(driver.forged)} / {len(f['forged_accepted'])}",
        bool(f["forged_accepted"]))
    row("replays sent (same token / new token)", f"{sum(not r['new_token'] for r in driver.replays)} / "
        f"{sum(r['new_token'] for r in driver.replays)}")
    row("replays answered differently", f["replay_diff"], True)
    if f["provider"] == "aliyun":
        _push_rows(row, f, driver)
    if voice is not None and hasattr(voice, "rows"):
        voice.rows(row, f)
    row("  re-deliveries with a new token answered differently",
        sum(1 for r in driver.replays if r["new_token"] and not r["same"]))
    row("parallel bursts (x20) not answered alike", f"{len(f['burst_bad'])} of {len(driver.bursts)}",
        bool(f["burst_bad"]))
    row("call status regressed by a late callback", f["regressions"], True)
    row("technician replies (accept/won/decline/arrived/done)", "/".join(str(driver.tech_actions[k]) for k in
        ("accept", "won", "decline", "arrived", "done")))
    row("officer acknowledgements sent", driver.acks)
    row(f"worker exits not caused by the run ({'restarted' if procs.supervise else 'NOT restarted'})",
        procs.unexpected_exits, True)
    row("driver errors", driver.errors, True)
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'figure':<{width}}value", "-" * (width + 24)]
    lines += [f"{label:<{width}}{value}{'   <-- MUST BE 0' if bad else ''}" for label, value, bad in rows]
    lines += ["", "faults (seconds into the drive; recovery = until the work it hit got through):"]
    for r in f["recovery"]:
        extra = f", Redis back after {r['up'] - r['at']:.1f}" if "up" in r else ""
        extra += f", web down {r['web_down']:.1f}" if "web_down" in r else ""
        extra += (", hit a send in flight" if r.get("mid_send") else ", no send in flight") if "pid" in r else ""
        lines.append(f"  +{r['at'] - meta['t0']:5.1f}  {r['name']:<32} recovered after {fmt(r['recovered_after'])}"
                     f"{extra} (last: {r['last']})")
    lines += ["", f"timings: setup {meta['setup']:.1f}s, drive {meta['drive']:.1f}s, quiescence "
              f"{meta['quiesce']:.1f}s ({'reached' if meta['quiet'] else 'NOT reached'}), total {meta['total']:.1f}s"]
    ok = not any(bad for _, _, bad in rows) and meta["quiet"]
    lines.append("RESULT: " + ("PASS" if ok else "FAIL"))
    return "\n".join(lines), ok


def _push_rows(row, f: dict, driver) -> None:
    """Alibaba's push: replies lost or unanswered, batches left unacknowledged, wrong tokens, pushed twice."""
    pusher = driver.side.pusher
    statuses = ", ".join(f"{k}: {n}" for k, n in sorted(pusher.by_status.items()))
    row("Alibaba pushes (SmsUp+SmsReport batches)", f"{pusher.pushes} (HTTP {statuses}; 0 = no connection)")
    row("  answers lost (pushed again) / batches pushed twice", f"{pusher.lost_answers} / {len(pusher.replays)}")
    row("  batches pushed twice not answered code 0", f["push_replays_bad"], True)
    row("  pushes still unacknowledged at the end", f["pushes_pending"], True)
    row("SmsUp replies lost (no inbound row)", f["replies_lost"], True)
    row("SmsUp replies never answered by SMS", f["replies_unanswered"], True)
    row("SMS rows without a receipt (not delivered/failed)", f["no_receipt"], True)
    row("wrong-token pushes sent / accepted", f"{len(pusher.forged)} / {len(f['forged_pushes_accepted'])}",
        bool(f["forged_pushes_accepted"]))


def details(f: dict, limit: int = 5) -> str:
    """The first few offenders of each failing figure, for the findings."""
    def show(item):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], dict) and "sid" in item[0]:
            record, row = item
            return f"{row.key if row is not None else '-'} (unrecorded {record['sid']} to {record['to'][-4:]})"
        return repr(item)

    out = []
    for key in ("lost", "refused", "dup_orders", "unoffered", "double_assigned", "other_dups", "unknown_sms",
                "alert_lost", "cases_lost", "escalation_lost", "undelivered", "stuck", "overdue", "server_errors",
                "connection_errors", "forged_accepted", "replay_diff", "burst_bad", "regressions", "window",
                "slow_dups", "stuck_offers", "push_replays_bad", "replies_lost", "replies_unanswered", "no_receipt",
                "forged_pushes_accepted", "voice_dups", "voice_unsettled", "voice_key1_not_acked",
                "voice_double_effects", "voice_replays_bad"):
        if f.get(key):
            out.append(f"{key}: " + "; ".join(show(x) for x in f[key][:limit]))
    return "\n".join(out)
