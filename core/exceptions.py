"""Domain exceptions raised by services. One handler turns each into a page message or an
HTTP status (``core.api.exception_handler`` for the API)."""


class DomainError(Exception):
    """A rule of the domain refused the request. HTTP 400."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, message, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field

    @property
    def messages(self) -> list[str]:
        """Every message to show the user (one, or one per failed rule)."""
        return [self.message]


class ConflictError(DomainError):
    """The record changed under the caller (a second click, a concurrent editor). HTTP 409."""

    status_code = 409
    default_code = "conflict"


class OutOfScopeError(DomainError):
    """The actor's role or jurisdiction does not allow this. HTTP 403."""

    status_code = 403
    default_code = "forbidden"


class ValidationFailed(DomainError):
    """Several rules failed at once; ``errors`` lists (field path, message) so a form can show
    each next to its field (paths like ``members.2.id_number``). HTTP 400."""

    default_code = "invalid"

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__(errors[0][1], field=errors[0][0])
        self.errors = errors

    @property
    def messages(self) -> list[str]:
        return [message for _field, message in self.errors]
