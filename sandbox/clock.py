"""Wall-clock helpers: the departments speak China Standard Time."""

from datetime import date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8))


def now_iso() -> str:
    """The current time, ISO 8601 with the +08:00 offset, to the millisecond."""
    return datetime.now(CHINA_TZ).isoformat(timespec="milliseconds")


def today() -> date:
    """Today's date in China."""
    return datetime.now(CHINA_TZ).date()
