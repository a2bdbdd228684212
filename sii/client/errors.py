"""What can go wrong talking to the SII, as types: transient errors retry, permanent ones don't."""

import re
from datetime import UTC, datetime


class SiiError(Exception):
    """Any failure talking to the SII."""


class SiiTransientError(SiiError):
    """Timeouts, 5xx, connection resets, 'try later' pages: worth retrying later."""


class SiiUnavailable(SiiTransientError):
    """The SII answered that it cannot serve requests now (maintenance page, HTTP 5xx)."""


class SiiTimeout(SiiTransientError):
    """The SII did not answer in time."""


class SiiConnectionError(SiiTransientError):
    """The connection failed or was reset (also what an IP block looks like)."""


class SiiIncompleteMonth(SiiTransientError):
    """The BHE report gave fewer boletas than it declares: the month is not stored as complete."""


class SiiSessionExpired(SiiTransientError):
    """The SII asked for a login again even after one fresh login."""


class SiiPaused(SiiTransientError):
    """The SII has been unavailable on one surface: the governor's breaker holds every request to it
    until a probe gets an answer, and this sync waited as long as it may in place."""

    def __init__(self, *, surface: str, since: float, until: float, retry_in: float) -> None:
        # `since` and `until` are on the governor's clock (Redis's); `retry_in`, seconds, on none:
        # the caller's own clock may differ from it.
        self.surface, self.since, self.until, self.retry_in = surface, since, until, retry_in
        opened = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        super().__init__(f"the SII ({surface}) has been unavailable since {opened}")


class SiiPermanentError(SiiError):
    """Retrying will not help: the request or the account needs fixing."""


class SiiBadCredentials(SiiPermanentError):
    """Wrong RUT or clave. Never retried: repeated wrong logins lock the SII account."""


class SiiNotAuthorized(SiiPermanentError):
    """The logged-in RUT may not see this data (F29 and BHE are keyed on the session)."""


class SiiRejected(SiiPermanentError):
    """The SII rejected the request (respEstado code, metaData.errors, HTTP 4xx)."""


def error_outcome(exc: Exception) -> str:
    """SiiBadCredentials -> "bad_credentials": the error's type, as a call's outcome says it."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__.removeprefix("Sii")).lower()
