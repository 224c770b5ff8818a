"""Password guessing limits in Redis: a lock per user name, a slow-down (never a lock) per address."""
from __future__ import annotations

from hotline import db

MAX_FAILURES = 5            # password checks per user name before the name locks
LOCK_SECONDS = 15 * 60      # how long the lock (and the count) lasts
ADDRESS_PER_MINUTE = 20     # sign-in attempts a minute from one address before it must wait

# Counted before the password is checked, in one atomic step: parallel guesses cannot all pass a
# "not locked yet" test before any of them is counted. While under the limit each attempt restarts the
# window; attempts on a locked name do not, so the lock ends LOCK_SECONDS after the last checked guess.
_COUNT_ATTEMPT = """
local n = redis.call('INCR', KEYS[1])
if n <= tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return n
"""

# A fixed one-minute window per address; returns {count, seconds left in the window}.
_COUNT_WINDOW = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('TTL', KEYS[1])}
"""


def _redis():
    return db.state().queue.connection


def _user_key(username: str) -> str:
    return f"hotline:login-fail:user:{username.lower()}"


def user_may_try(username: str) -> bool:
    """Count one password check for this user name; False (check nothing) once MAX_FAILURES are used up."""
    return int(_redis().eval(_COUNT_ATTEMPT, 1, _user_key(username), MAX_FAILURES, LOCK_SECONDS)) <= MAX_FAILURES


def clear_user(username: str) -> None:
    """A right password: the name's count starts again."""
    _redis().delete(_user_key(username))


def address_wait(address: str) -> int:
    """Count one sign-in attempt from this address; the seconds it must wait when over the limit, else 0.

    Officers behind one office NAT share an address, so an address is only slowed down, never locked:
    one person's typos cannot lock out the others."""
    count, ttl = _redis().eval(_COUNT_WINDOW, 1, f"hotline:login-rate:addr:{address}", 60)
    return max(int(ttl), 1) if int(count) > ADDRESS_PER_MINUTE else 0
