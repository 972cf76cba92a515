"""The one exception tree of BEAST MODE.

Every error a user can see is one of these, and its message says what happened and what to do
next. The tree, in the manner of httpx's own::

    BeastModeError
    ├── ConfigurationError          bad ENCRYPTION_KEY, unreadable home directory, bad settings
    │   └── StorageError            the registry is corrupt, read-only, locked or its disk is full
    ├── InvalidRegistrationError    a registration field failed validation (names the field)
    ├── ModelNotFoundError          "Custom model not found: <id>"
    ├── DecryptionError             "Failed to decrypt API key"
    ├── ModelUnavailableError       a model that cannot run here (no provider key, local engine off)
    ├── ProviderError               "Custom model request failed: <reason>"
    │   ├── TransportError          the request never got a well-formed answer
    │   │   ├── ConnectError        connection refused, DNS, TLS
    │   │   ├── DeadlineExceeded    total deadline or time-to-first-token deadline passed
    │   │   └── StreamInterrupted   reset mid-stream, or a stream that ended without its terminator
    │   ├── UpstreamHTTPError       the endpoint answered with an HTTP error status
    │   │   ├── AuthenticationFailed    401 / 403: the key is invalid
    │   │   ├── EndpointNotFound        404
    │   │   ├── EndpointRedirected      3xx: the registered URL is not the API's own
    │   │   ├── RateLimited             429 (carries retry_after seconds when given)
    │   │   ├── UpstreamServerError     5xx, 529 overloaded
    │   │   └── InvalidRequest          any other 4xx: "Invalid request format (HTTP 400: ...)"
    │   ├── MalformedResponse       not JSON, an HTML page, JSON of the wrong shape
    │   ├── ResponseTooLarge        the answer (or one stream event) passed its size cap,
    │   │                           counted after decompression while reading
    │   └── UpstreamStreamError     an in-band error event inside a 200 stream
    ├── AllModelsFailed             the router ran out of models; carries each attempt's error
    ├── ModelOutputError            a model's answer held nothing usable (empty, no code)
    ├── UnsafePathError             generated files pointing outside the workspace
    └── PathRefusedError            the workspace guard refused to read, write or list a path

The router catches only `ProviderError`, `DecryptionError`, `ModelNotFoundError` and
`ModelUnavailableError`, so `asyncio.CancelledError` always propagates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

UPSTREAM_MESSAGE_LIMIT = 300


class BeastModeError(Exception):
    """Base class of every error BEAST MODE raises on purpose."""


class ConfigurationError(BeastModeError):
    """The environment or settings are unusable; the message says which and how to fix it."""


class StorageError(ConfigurationError):
    """The registry or its directory cannot be used; the message says why and what to do."""


class InvalidRegistrationError(BeastModeError):
    """A registration field is invalid; `field` names it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"Invalid model registration: {field}: {problem}")
        self.field = field
        self.problem = problem


class ModelNotFoundError(BeastModeError):
    """A `custom:<id>` reference names a model that is not registered."""

    def __init__(self, model_id: str) -> None:
        super().__init__(
            f"Custom model not found: {model_id} "
            "(check the id with `beastmode models list`; register it with `beastmode models add`)"
        )
        self.model_id = model_id


class DecryptionError(BeastModeError):
    """A stored API key cannot be decrypted with the configured key(s).

    `key_source` names the key actually in use: "ENCRYPTION_KEY", or "the key file <path>"
    (with what is wrong with the file, if anything); None when the caller does not know it.
    """

    def __init__(self, model_id: str, key_source: str | None = None) -> None:
        if key_source == "ENCRYPTION_KEY":
            where = "with ENCRYPTION_KEY, which may have changed"
            restore = "Restore the old key (a comma-separated ENCRYPTION_KEY lets old keys decrypt)"
        elif key_source is not None:
            where = f"with {key_source}"
            restore = "Restore the old key file (every line of it decrypts, the first encrypts)"
        else:
            where = "with the configured key (ENCRYPTION_KEY, or else secret.key)"
            restore = "Restore the old key"
        super().__init__(
            f"Failed to decrypt API key for custom:{model_id} {where}. {restore}, "
            f"or re-register the model with `beastmode models add --id {model_id} ...`"
        )
        self.model_id = model_id
        self.key_source = key_source


class ModelUnavailableError(BeastModeError):
    """A model reference that cannot be used on this machine right now."""


class ProviderError(BeastModeError):
    """A call to a model endpoint failed.

    `reason` is the part after "Custom model request failed: "; `status` is the upstream HTTP
    status when there was one. Messages never contain request headers, so never an API key.
    """

    kind = "provider_error"

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(f"Custom model request failed: {reason}")
        self.reason = reason
        self.status = status

    def redact_with(self, redact: Callable[[str], str]) -> None:
        """Pass this error's message through `redact` (in place), e.g. to remove echoed keys."""
        self.reason = redact(self.reason)
        self.args = (f"Custom model request failed: {self.reason}",)


class TransportError(ProviderError):
    """The request never produced a complete, well-formed answer."""

    kind = "transport"


class ConnectError(TransportError):
    """The endpoint could not be reached (refused, unknown host, TLS failure)."""

    kind = "connect"


class DeadlineExceeded(TransportError):
    """The total deadline or the time-to-first-token deadline passed."""

    kind = "timeout"


class StreamInterrupted(TransportError):
    """The connection broke mid-answer, or the stream ended without its terminator."""

    kind = "stream_interrupted"


class UpstreamHTTPError(ProviderError):
    """The endpoint answered with an HTTP error status."""

    kind = "http_error"


class AuthenticationFailed(UpstreamHTTPError):
    """401 or 403: the endpoint rejected the API key."""

    kind = "auth"


class EndpointNotFound(UpstreamHTTPError):
    """404: wrong endpoint URL or unknown upstream model."""

    kind = "not_found"


class EndpointRedirected(UpstreamHTTPError):
    """3xx: the endpoint sent us elsewhere; redirects are not followed (the key would go along)."""

    kind = "redirect"


class RateLimited(UpstreamHTTPError):
    """429: too many requests; `retry_after` is in seconds when the endpoint said."""

    kind = "rate_limited"

    def __init__(
        self, reason: str, *, status: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(reason, status=status)
        self.retry_after = retry_after


class UpstreamServerError(UpstreamHTTPError):
    """5xx or 529: the endpoint failed or is overloaded."""

    kind = "server_error"


class InvalidRequest(UpstreamHTTPError):
    """Any other 4xx: the endpoint refused the request itself; falling back would not help."""

    kind = "invalid_request"


class MalformedResponse(ProviderError):
    """The answer was not the JSON the wire format promises."""

    kind = "malformed"


class ResponseTooLarge(ProviderError):
    """The answer, or one event of a stream, passed its size cap (counted after decompression)."""

    kind = "too_large"


class UpstreamStreamError(ProviderError):
    """The endpoint reported an error inside a stream that had started with HTTP 200."""

    kind = "stream_error"


@dataclass(frozen=True)
class FailedAttempt:
    """One model the router tried, and why it did not answer."""

    model_ref: str
    error: BeastModeError


class AllModelsFailed(BeastModeError):
    """Every model in the chain failed (or was cooling down); carries each attempt."""

    def __init__(self, attempts: Sequence[FailedAttempt]) -> None:
        self.attempts = tuple(attempts)
        if not attempts:
            message = "No model is configured. Register one with `beastmode models add`."
        elif len(attempts) == 1:
            message = str(attempts[0].error)
        else:
            tried = "; ".join(f"{a.model_ref}: {a.error}" for a in attempts)
            message = f"All models failed ({tried})"
        super().__init__(message)

    @property
    def last_error(self) -> BeastModeError | None:
        """The error of the last model tried, if any."""
        return self.attempts[-1].error if self.attempts else None


class ModelOutputError(BeastModeError):
    """The model answered, but the answer held nothing that could be applied."""


class UnsafePathError(BeastModeError):
    """Generated files named paths outside the workspace; nothing was written."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = tuple(paths)
        super().__init__(
            "Refused to write files outside the workspace (nothing was written): "
            + ", ".join(self.paths)
        )


class PathRefusedError(BeastModeError):
    """The workspace guard (`guard.py`) refused a path; nothing was read or written.

    `action` is what was refused (read, write, list, ...), `reason` why, e.g. "it is a symlink
    to /etc/passwd, outside the workspace /x".
    """

    def __init__(self, path: str, reason: str, action: str = "use") -> None:
        super().__init__(f"Refused to {action} {path}: {reason}")
        self.path = path
        self.reason = reason
        self.action = action


def truncate_upstream_message(message: str, limit: int = UPSTREAM_MESSAGE_LIMIT) -> str:
    """Shorten an upstream error message to one line of at most `limit` characters."""
    one_line = " ".join(message.split())
    if len(one_line) <= limit:
        return one_line
    return one_line[: limit - 1] + "…"
