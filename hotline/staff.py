"""Console users without the web: names, roles and password hashes (used by the console, the CLI and the demo)."""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from models import ROLES, StaffUser, user_by_name, utcnow

MAX_USERNAME = 64
MIN_PASSWORD, MAX_PASSWORD = 8, 256


class UserRefused(ValueError):
    """A user name, role or password the console does not accept; `key` names its console text."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Checked against when the user does not exist, so both cases take the same time (made on first use,
    # not at import: scrypt is deliberately slow).
    return generate_password_hash("not-a-password")


def plausible_username(username: str) -> bool:
    """Whether a user with this name could exist: 1-64 printable characters, no spaces."""
    return 0 < len(username) <= MAX_USERNAME and username.isprintable() and not any(c.isspace() for c in username)


def check_new_password(password: str) -> None:
    """Refuse a password too short to resist guessing or too long to hash cheaply."""
    if len(password) < MIN_PASSWORD:
        raise UserRefused("users.password_short", f"password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserRefused("users.password_long", f"password must be at most {MAX_PASSWORD} characters")


def create_user(session_: Session, username: str, password: str, role: str, display_name: str = "") -> StaffUser:
    """Add a console user (caller commits); refuses an unknown role, a taken or malformed name, a bad password."""
    if role not in ROLES:
        raise UserRefused("users.bad_role", f"role must be one of {', '.join(ROLES)}")
    if not plausible_username(username):
        raise UserRefused("users.bad_name", "user name must be 1-64 characters, no spaces or control characters")
    display_name = display_name.strip()[:100]
    if not display_name.isprintable():
        raise UserRefused("users.bad_name", "display name must not contain control characters")
    check_new_password(password)
    if user_by_name(session_, username):
        raise UserRefused("users.taken", f"user {username} already exists")
    user = StaffUser(username=username, password_hash=generate_password_hash(password), role=role,
                     display_name=display_name or username, created_at=utcnow())
    session_.add(user)
    return user


def set_password(user: StaffUser, password: str) -> None:
    """Give `user` a new password (caller ends their sessions and commits)."""
    check_new_password(password)
    user.password_hash = generate_password_hash(password)
