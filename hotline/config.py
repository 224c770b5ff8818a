"""Settings: read once from the environment (a `.env` file may supply it) into one object."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, fields, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from dotenv import dotenv_values

from dispatch.budget import DEFAULT as SMS_BUDGET_DEFAULT, budget_text
from dispatch.call_budget import DEFAULT as CALL_BUDGET_DEFAULT, call_budget_text
from ivr_flows.engine import ELDERLY_FLOW, child_key_problem

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_ELDERLY_NUMBER = "+864768000001"
DEMO_CHILD_NUMBER = "+864768000002"


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with the defaults a fresh machine runs on."""

    instance_path: Path = PROJECT_ROOT / "instance"
    database_url: str = ""
    redis_url: str = ""
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_timeout_seconds: float = 10.0
    # Who sends SMS and places calls: "twilio", "local" (the outbox), or "" for twilio when credentials are set.
    phone_provider: str = ""
    public_base_url: str = "http://127.0.0.1:5000"
    elderly_number: str = DEMO_ELDERLY_NUMBER
    child_number: str = DEMO_CHILD_NUMBER
    # Both lines on one number: this key of the elderly line's menu enters the child line ("" = two numbers only).
    child_line_key: str = ""
    sms_from_number: str = ""
    api_token: str = ""
    timezone: str = "Asia/Shanghai"
    offer_timeout_seconds: int = 180
    service_radius_km: float = 3.0
    secret_key: str = ""
    ivr_language: str = "zh-CN"
    dial_timeout_seconds: int = 20
    queue_name: str = "hotline"
    fallback_number: str = ""
    sla_arrival_minutes: float = 15
    alert_repeat_seconds: int = 300
    alert_max_repeats: int = 3
    # A casework task overdue alerts the duty officers at its due time, and this many seconds later (still
    # not done or cancelled) the supervisors and the township's child supervisor.
    task_escalate_seconds: int = 7200
    bind: str = "127.0.0.1:5000"
    web_workers: int = 2
    # Threads per web worker (gunicorn gthread): a webhook mostly waits on the database, so one process
    # serves several at once; the database pool keeps a connection for each thread.
    web_threads: int = 4
    # The satisfaction call after an order completes, this many seconds later (0: at once).
    satisfaction_delay_seconds: int = 600
    # Local hours with no satisfaction calls ("21-8": 21:00 to 08:00); a call due then waits for the end.
    satisfaction_quiet_hours: str = "21-8"
    # The arrival call (issue 15): when a technician reports arrival the resident is called to confirm it;
    # silence is tried once more this many minutes later, and that many minutes after the last try the visit
    # is left unverified.
    arrival_call_retry_minutes: int = 5
    # The console's browser softphone drives real webhooks: on by default only in local mode.
    softphone: str = "auto"  # auto | on | off
    # A console sign-in ends after this many minutes without a click (a shared office PC left signed in),
    # and at the latest this many hours after it began, however busy.
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    # Reverse proxies in front of the app that append to X-Forwarded-For / X-Forwarded-Proto. 0: clients
    # connect directly, and those headers are ignored (anyone can send them).
    trusted_proxy_count: int = 0
    # Who sends SMS and who places calls; "" for PHONE_PROVIDER's choice (twilio | aliyun | tencent | local).
    sms_provider: str = ""
    voice_provider: str = ""
    # Alibaba Cloud SMS (SMS_PROVIDER=aliyun): credentials, region, the approved signature, the template file,
    # the API endpoint ("" for the region's; "http://127.0.0.1:8080" for a fake), and the push endpoints' guard.
    aliyun_access_key_id: str = ""
    aliyun_access_key_secret: str = ""
    aliyun_region: str = "cn-hangzhou"
    aliyun_sign_name: str = ""
    aliyun_templates: str = ""
    aliyun_sms_endpoint: str = ""
    aliyun_timeout_seconds: float = 10.0
    aliyun_push_token: str = ""
    aliyun_push_allow: str = ""
    # An SMS sent through Alibaba with no receipt this many minutes later is looked up (QuerySendDetails).
    aliyun_receipt_minutes: int = 10
    # Alibaba Cloud voice (VOICE_PROVIDER=aliyun): its API endpoint ("" for the region's) and the number calls
    # show (CalledShowNumber: a number bought in the voice console; IvrCall, the calls that take a key, needs it).
    aliyun_voice_endpoint: str = ""
    aliyun_voice_show_number: str = ""
    # Tencent Cloud SMS (SMS_PROVIDER=tencent): API key, region, the SMS application (SdkAppId), the approved
    # signature, the template file, the API endpoint ("" for Tencent's; "http://127.0.0.1:8080" for a fake), and
    # the callback endpoints' guard (a token in the path, optional source addresses).
    tencent_secret_id: str = ""
    tencent_secret_key: str = ""
    tencent_region: str = "ap-guangzhou"
    tencent_sms_app_id: str = ""
    tencent_sms_sign: str = ""
    tencent_templates: str = ""
    tencent_sms_endpoint: str = ""
    tencent_timeout_seconds: float = 10.0
    tencent_callback_token: str = ""
    tencent_callback_allow: str = ""
    # At most N SMS per S seconds to one number ("N/S,..."; "off": no limit): GoAlert's caps by default.
    # Over it, alerts are held and merged, offers go to the next technician (dispatch/budget.py).
    sms_budget: str = SMS_BUDGET_DEFAULT
    # At most N calls per S seconds to one number: Alibaba voice's per-number limits by default; over it a call
    # waits (held) and is placed later if still wanted (dispatch/call_budget.py, dispatch/held_calls.py).
    call_budget: str = CALL_BUDGET_DEFAULT
    # `flask anonymise-cases`: a case closed more than this many years ago loses its free text and the
    # child's identity (PIPL: kept no longer than needed); the figures stay.
    case_retention_years: int = 5

    @property
    def softphone_enabled(self) -> bool:
        """Whether the console offers the softphone (local mode, unless SOFTPHONE says otherwise)."""
        return self.softphone == "on" or (self.softphone == "auto" and self.local_mode)

    @property
    def phone_provider_name(self) -> str:
        """The provider chosen: PHONE_PROVIDER, else twilio when TWILIO_ACCOUNT_SID is set, else local."""
        return self.phone_provider or ("twilio" if self.twilio_account_sid else "local")

    @property
    def sms_provider_name(self) -> str:
        """Who sends SMS: SMS_PROVIDER, else PHONE_PROVIDER's choice."""
        return self.sms_provider or self.phone_provider_name

    @property
    def voice_provider_name(self) -> str:
        """Who places calls: VOICE_PROVIDER, else PHONE_PROVIDER's choice."""
        return self.voice_provider or self.phone_provider_name

    @property
    def local_mode(self) -> bool:
        """The local provider for SMS and calls: both go to the outbox table and the log only."""
        return self.sms_provider_name == "local" and self.voice_provider_name == "local"

    @property
    def sender(self) -> str:
        """The number outbound SMS and calls come from."""
        return self.sms_from_number or self.elderly_number

    @property
    def tz(self) -> ZoneInfo:
        """The rota and reports time zone."""
        return ZoneInfo(self.timezone)

    @property
    def redis_embedded(self) -> bool:
        """No REDIS_URL given: the embedded Redis that `make run` starts on a socket in instance/."""
        return self.redis_url == f"unix://{Path(self.instance_path) / 'redis.sock'}"

    def with_overrides(self, **changes) -> Settings:
        """A copy with some fields changed (tests, CLI)."""
        return replace(self, **changes)


def _quiet_hours(raw: str) -> str:
    """"21-8" (start-end hours, local), or "off" for none; anything else is a configuration error."""
    raw = raw.strip()
    if raw.lower() in ("off", "none"):
        return ""
    if raw:
        parts = raw.split("-")
        if len(parts) != 2 or not all(p.isdigit() and int(p) < 24 for p in parts):
            raise ValueError(f"SATISFACTION_QUIET_HOURS must look like 21-8 (or be off), not {raw!r}")
        raw = "-".join(str(int(p)) for p in parts)
    return raw


def _child_line_key(raw: str) -> str:
    """One digit the elderly menu does not use, or "" / "off" for none; anything else is a configuration error."""
    key = raw.strip()
    if key.lower() in ("", "off"):
        return ""
    problem = child_key_problem(ELDERLY_FLOW, key)
    if problem:
        raise ValueError(problem)
    return key


def _positive(raw: str) -> int:
    """A whole number of at least 1 (a lifetime of 0 would sign everyone out at once)."""
    value = int(raw)
    if value < 1:
        raise ValueError(f"expected a whole number of at least 1, not {raw!r}")
    return value


def _count(raw: str) -> int:
    """A whole number of at least 0."""
    value = int(raw)
    if value < 0:
        raise ValueError(f"expected a whole number of at least 0, not {raw!r}")
    return value


# Environment variable -> (field, converter)
_ENV = {
    "DATABASE_URL": ("database_url", str),
    "REDIS_URL": ("redis_url", str),
    "TWILIO_ACCOUNT_SID": ("twilio_account_sid", str),
    "TWILIO_AUTH_TOKEN": ("twilio_auth_token", str),
    "TWILIO_API_BASE_URL": ("twilio_api_base_url", str),
    "TWILIO_TIMEOUT_SECONDS": ("twilio_timeout_seconds", float),
    "PHONE_PROVIDER": ("phone_provider", lambda raw: raw.strip().lower()),
    "PUBLIC_BASE_URL": ("public_base_url", str),
    "HOTLINE_ELDERLY_NUMBER": ("elderly_number", str),
    "HOTLINE_CHILD_NUMBER": ("child_number", str),
    "HOTLINE_CHILD_LINE_KEY": ("child_line_key", _child_line_key),
    "SMS_FROM_NUMBER": ("sms_from_number", str),
    "HOTLINE_API_TOKEN": ("api_token", str),
    "HOTLINE_TIMEZONE": ("timezone", str),
    "OFFER_TIMEOUT_SECONDS": ("offer_timeout_seconds", int),
    "SERVICE_RADIUS_KM": ("service_radius_km", float),
    "SECRET_KEY": ("secret_key", str),
    "IVR_LANGUAGE": ("ivr_language", str),
    "DIAL_TIMEOUT_SECONDS": ("dial_timeout_seconds", int),
    "HOTLINE_QUEUE": ("queue_name", str),
    "INSTANCE_PATH": ("instance_path", Path),
    "HOTLINE_BIND": ("bind", str),
    "ALERT_REPEAT_SECONDS": ("alert_repeat_seconds", int),
    "HOTLINE_FALLBACK_NUMBER": ("fallback_number", str),
    "SLA_ARRIVAL_MINUTES": ("sla_arrival_minutes", float),
    "ALERT_MAX_REPEATS": ("alert_max_repeats", int),
    "TASK_ESCALATE_SECONDS": ("task_escalate_seconds", _positive),
    "WEB_WORKERS": ("web_workers", int),
    "WEB_THREADS": ("web_threads", int),
    "SATISFACTION_DELAY_SECONDS": ("satisfaction_delay_seconds", int),
    "SATISFACTION_QUIET_HOURS": ("satisfaction_quiet_hours", _quiet_hours),
    "ARRIVAL_CALL_RETRY_MINUTES": ("arrival_call_retry_minutes", _positive),
    "SOFTPHONE": ("softphone", str),
    "SESSION_IDLE_MINUTES": ("session_idle_minutes", _positive),
    "SESSION_MAX_HOURS": ("session_max_hours", _positive),
    "TRUSTED_PROXY_COUNT": ("trusted_proxy_count", _count),
    "SMS_PROVIDER": ("sms_provider", lambda raw: raw.strip().lower()),
    "VOICE_PROVIDER": ("voice_provider", lambda raw: raw.strip().lower()),
    "ALIYUN_ACCESS_KEY_ID": ("aliyun_access_key_id", str),
    "ALIYUN_ACCESS_KEY_SECRET": ("aliyun_access_key_secret", str),
    "ALIYUN_REGION": ("aliyun_region", str),
    "ALIYUN_SIGN_NAME": ("aliyun_sign_name", str),
    "ALIYUN_TEMPLATES": ("aliyun_templates", str),
    "ALIYUN_SMS_ENDPOINT": ("aliyun_sms_endpoint", str),
    "ALIYUN_TIMEOUT_SECONDS": ("aliyun_timeout_seconds", float),
    "ALIYUN_PUSH_TOKEN": ("aliyun_push_token", str),
    "ALIYUN_PUSH_ALLOW": ("aliyun_push_allow", str),
    "CASE_RETENTION_YEARS": ("case_retention_years", _positive),
    "ALIYUN_RECEIPT_MINUTES": ("aliyun_receipt_minutes", _positive),
    "TENCENT_SECRET_ID": ("tencent_secret_id", str),
    "TENCENT_SECRET_KEY": ("tencent_secret_key", str),
    "TENCENT_REGION": ("tencent_region", str),
    "TENCENT_SMS_APP_ID": ("tencent_sms_app_id", str),
    "TENCENT_SMS_SIGN": ("tencent_sms_sign", str),
    "TENCENT_TEMPLATES": ("tencent_templates", str),
    "TENCENT_SMS_ENDPOINT": ("tencent_sms_endpoint", str),
    "TENCENT_TIMEOUT_SECONDS": ("tencent_timeout_seconds", float),
    "TENCENT_CALLBACK_TOKEN": ("tencent_callback_token", str),
    "TENCENT_CALLBACK_ALLOW": ("tencent_callback_allow", str),
    "ALIYUN_VOICE_ENDPOINT": ("aliyun_voice_endpoint", str),
    "ALIYUN_VOICE_SHOW_NUMBER": ("aliyun_voice_show_number", lambda raw: raw.strip()),
    "SMS_BUDGET": ("sms_budget", budget_text),
    "CALL_BUDGET": ("call_budget", call_budget_text),
}


def _instance_secret(instance: Path, name: str) -> str:
    """A random secret kept in instance/ so it survives restarts and is shared by web and worker."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_hex(32)
    path.write_text(value)
    path.chmod(0o600)
    return value


def child_environment() -> dict[str, str]:
    """The process environment without any variable the settings read: what a process that sets the hotline's
    settings itself (the benchmarks' and the chaos run's servers) starts its children with, so the machine's
    PATH and locale pass on and none of this shell's own settings does."""
    return {k: v for k, v in os.environ.items() if k not in _ENV}


def load_settings(env: dict | None = None, **overrides) -> Settings:
    """Read settings from `env` (default: `.env` overlaid by the process environment), then overrides."""
    if env is None:
        env = {**dotenv_values(PROJECT_ROOT / ".env"), **os.environ}
    values: dict = {}
    for var, (name, convert) in _ENV.items():
        raw = env.get(var)
        if raw not in (None, ""):
            try:
                values[name] = convert(raw)
            except ValueError as error:
                raise ValueError(f"{var}: {error}") from error
    values.update(overrides)
    settings = Settings(**{k: v for k, v in values.items() if k in {f.name for f in fields(Settings)}})
    return _fill_generated(settings)


def _fill_generated(settings: Settings) -> Settings:
    """Defaults that depend on other settings or live in instance/."""
    changes: dict = {}
    instance = Path(settings.instance_path)
    if not settings.database_url:
        instance.mkdir(parents=True, exist_ok=True)
        changes["database_url"] = f"sqlite:///{instance / 'hotline.db'}"
    if not settings.redis_url:
        # The embedded Redis that `make run` starts listens on a socket in instance/.
        changes["redis_url"] = f"unix://{instance / 'redis.sock'}"
    if not settings.secret_key:
        changes["secret_key"] = _instance_secret(instance, "secret_key")
    if settings.child_number == settings.elderly_number:
        # Every call to it would be a child-line call and the elderly menu out of reach.
        raise ValueError("HOTLINE_CHILD_NUMBER is the elderly line's number: to run both lines on one number set "
                         "HOTLINE_CHILD_LINE_KEY instead (HOTLINE_CHILD_NUMBER may then name another number or "
                         "stay unset)")
    if settings.twilio_account_sid and not settings.twilio_auth_token:
        raise ValueError("TWILIO_ACCOUNT_SID is set but TWILIO_AUTH_TOKEN is not")
    if not settings.twilio_auth_token:
        # Local mode still checks signatures, against a token only this machine knows.
        changes["twilio_auth_token"] = _instance_secret(instance, "local_twilio_token")
    return replace(settings, **changes) if changes else settings
