"""Where a webhook's time goes: py-spy's raw stacks of the gunicorn request threads, sorted into named parts.

py-spy samples every thread at a fixed rate, idle ones too (`--idle`), so a request thread's samples are its
wall time: waiting on PostgreSQL, on Redis, on the pool or for the GIL counts where the thread waits. Only
samples inside gunicorn's handling of a request count (an idle thread waiting for work has no request).
Each sample goes to the part the rules below name (LEAF_RULES innermost first, then OWNER_RULES outermost
first); a part's share is its samples over all the request samples.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

REQUEST_FRAME = ".handle (gunicorn/workers/gthread.py"  # ThreadWorker.handle: one request (keep-alive: several)
PROJECT_DIRS = ("hotline/", "ivr_flows/", "dispatch/", "models/", "bench/")  # bench/: the anchors' own code
DB_DRIVER = "psycopg/"
POOL_FILES = ("sqlalchemy/pool/", "sqlalchemy/util/queue.py")
# Innermost first: a sample anywhere inside one of these is that part's, whoever called it.
LEAF_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("RQ enqueue (Redis round trip, job pickling)", ("(redis/", "(rq/")),
    ("logging", ("(logging/",)),
    ("form parsing (werkzeug)", ("werkzeug/formparser.py", "._load_form_data (")),
)
# Then outermost first: the first frame one of these names owns the sample (so the validator's own
# MultiDict reads are the signature check's).
OWNER_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("signature check", ("signature_valid (hotline/", "scrub_nul (hotline/",
                         "validate (twilio/request_validator.py")),
    ("receipts (dedupe)", ("hotline/webhooks/receipts.py",)),
    ("hooks (before/after request, teardown)", ("webhook_limits (hotline/", "security_headers (hotline/",
                                                "refuse_nul (hotline/", "console_csrf (hotline/",
                                                "close_session (hotline/", "open_session (hotline/console",
                                                "Flask.preprocess_request (", "Flask.process_response (",
                                                "Flask.do_teardown_appcontext (", "console_helpers (")),
    ("TwiML rendering", ("(twilio/twiml/", "(ivr_flows/twiml.py", "twiml (hotline/webhooks/calls.py")),
    ("IVR engine and prompts", ("(ivr_flows/engine.py", "(ivr_flows/prompts.py")),
    ("callback URLs (url_for)", ("public_url (hotline/webhooks/calls.py",)),
    ("SQLAlchemy engine/Core overhead (execute, params, result)", ("(sqlalchemy/",)),
)
GENERIC = ("(flask/", "(werkzeug/", "(gunicorn/", "_WorkItem.run (", ".wrapper (hotline/", "(threading.py",
           "(concurrent/")
# Innermost frames that block on a lock, a socket or the kernel: py-spy's "on-CPU" mode counts some of these
# threads as active (they are not), so the CPU split leaves them out.
WAIT_LEAVES = ("(concurrent/futures/thread.py:81)", "Condition.wait (threading.py", "EpollSelector.select (",
               "PollSelector.select (", "Connection.wait (psycopg/", "_read_from_socket (redis/", "recv_into (",
               "SocketIO.readinto (socket.py", "Queue.get (queue.py", "Event.wait (threading.py")
OWN_CODE = "the app's own Python (views, phone parsing, codes)"


def frame_file(frame: str) -> str:
    """The file part of a py-spy frame "function (path/to/file.py:123)"."""
    return frame.rsplit("(", 1)[-1].rstrip(")").rsplit(":", 1)[0]


def project_frame(frames: list[str]) -> str:
    """The innermost frame of the project's own code in a stack (root first), as "module.function"."""
    for frame in reversed(frames):
        if ".wrapper (" in frame:  # a decorator's: the function it wraps is the one to name
            continue
        path = frame_file(frame)
        for root in PROJECT_DIRS:
            at = path.rfind("/" + root)
            if at >= 0 or path.startswith(root):
                module = path[at + 1 if at >= 0 else 0:].removesuffix(".py").replace("/", ".")
                return f"{module}.{frame.split(' (', 1)[0]}"
    return "(no project frame)"


def _database_part(frames: list[str], at: int) -> str:
    """A sample inside the driver: the pool's own round trip (connect, ping, reset), else the statement of the
    project frame above it."""
    above = frames[:at]
    if any(f.startswith("connect (psycopg/") for f in frames[at:]):
        return "DB: opening a connection"
    pool = [f for f in above if any(p in f for p in POOL_FILES)]
    if pool:
        return f"DB: the pool's own round trip ({pool[-1].split(' (', 1)[0]})"
    return f"DB statement: {project_frame(above)}"


def part_of(frames: list[str]) -> str:
    """The named part one stack (root first) belongs to."""
    for at in range(len(frames) - 1, -1, -1):
        frame = frames[at]
        if DB_DRIVER in frame_file(frame):
            return _database_part(frames, at)
        if any(p in frame_file(frame) for p in POOL_FILES):
            return "SQLAlchemy pool (checkout, waits for a connection)"
        for part, tests in LEAF_RULES:
            if any(t in frame for t in tests):
                return part
    for frame in frames:
        for part, tests in OWNER_RULES:
            if any(t in frame for t in tests):
                return part
    if any(not any(g in f for g in GENERIC) and any(root in frame_file(f) for root in PROJECT_DIRS) for f in frames):
        return OWN_CODE
    for frame in reversed(frames):
        if "(flask/" in frame or "(werkzeug/" in frame:
            return "Flask/werkzeug (routing, request/response objects)"
        if "(gunicorn/" in frame:
            return "gunicorn (HTTP parse, socket write)"
    return "other (stdlib, interpreter)"


@dataclass
class Profile:
    """Samples of the request threads, by part and by (part, project function)."""

    parts: Counter = field(default_factory=Counter)
    detail: Counter = field(default_factory=Counter)
    views: Counter = field(default_factory=Counter)
    idle: int = 0
    waiting: Counter = field(default_factory=Counter)  # per part: samples whose innermost frame is a wait
    idle_waiting: int = 0

    @property
    def total(self) -> int:
        """Samples inside a request."""
        return sum(self.parts.values())

    def add_raw(self, text: str) -> None:
        """Add py-spy's `--format raw` output (one "frame;frame;... count" line per distinct stack)."""
        for line in text.splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = [f for f in stack.split(";") if f]
            waits = is_wait(frames[-1]) if frames else False
            if not any(REQUEST_FRAME in f for f in frames):
                self.idle += int(count)
                self.idle_waiting += int(count) if waits else 0
                continue
            part = part_of(frames)
            self.parts[part] += int(count)
            if waits:
                self.waiting[part] += int(count)
            self.detail[(part, project_frame(frames))] += int(count)
            self.views[_view(frames)] += int(count)


def _view(frames: list[str]) -> str:
    """The webhook a request stack is in: the frame just under Flask's dispatch_request."""
    for at, frame in enumerate(frames):
        if ".dispatch_request (flask/app.py" in frame and at + 1 < len(frames):
            inner = frames[at + 1:]
            # the decorators' wrappers come first: the view is the first frame that is not one
            named = [f for f in inner if ".wrapper (" not in f and not f.startswith("wrapper (")]
            return project_frame(named[:1]) if named else project_frame(inner[:1])
    return "(outside the view: hooks, routing, gunicorn)"


def is_wait(frame: str) -> bool:
    """Whether a stack's innermost frame is a blocking wait (WAIT_LEAVES)."""
    return any(leaf in frame for leaf in WAIT_LEAVES)


def gap_part(part: str) -> str:
    """A part as the gap table names it: every statement's driver time is one part (the apps' statements differ)."""
    return "DB driver (psycopg: send, wait, read the result)" if part.startswith("DB statement:") else part


def worker_split(profile: Profile, cpu_us: float) -> dict[str, float]:
    """The workers' CPU per request (µs) split by the on-CPU samples that are not waits (`is_wait`): each part's,
    and gunicorn's own outside any request."""
    busy = {part: count - profile.waiting[part] for part, count in profile.parts.items()}
    outside = profile.idle - profile.idle_waiting
    samples = sum(busy.values()) + outside
    if not samples:
        return {}
    split: Counter = Counter()
    for part, count in busy.items():
        split[gap_part(part)] += cpu_us * count / samples
    split["gunicorn outside a request (accept, poll, keep-alive)"] += cpu_us * outside / samples
    return dict(split)


def gap_rows(hotline: dict[str, float], anchor: dict[str, float]) -> list[list[str]]:
    """Rows "part, hotline µs, anchor µs, extra µs, share of the extra", largest extra first, then the total."""
    extra = {p: hotline.get(p, 0.0) - anchor.get(p, 0.0) for p in set(hotline) | set(anchor)}
    total = sum(extra.values())
    rows = [[p, f"{hotline.get(p, 0.0):.0f}", f"{anchor.get(p, 0.0):.0f}", f"{e:+.0f}",
             f"{e / total * 100:.0f}%" if total else "-"] for p, e in sorted(extra.items(), key=lambda kv: -kv[1])]
    return rows + [["**all**", f"{sum(hotline.values()):.0f}", f"{sum(anchor.values()):.0f}", f"{total:+.0f}",
                    "100%" if total else "-"]]
