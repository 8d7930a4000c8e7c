"""The application's state machine, readable in one screen: (from, action) → (to, roles).
Later steps (investigation, review, notice, approval) join this table in their issue."""

from accounts.models import Role

from .models import Application

S = Application.Status
WINDOW = (Role.CLERK, Role.TOWNSHIP_REVIEWER)

TRANSITIONS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    (S.NEEDS_MATERIALS, "complete_materials"): (S.RECEIVED, WINDOW),
    (S.RECEIVED, "mark_missing"): (S.NEEDS_MATERIALS, WINDOW),
    (S.RECEIVED, "withdraw"): (S.WITHDRAWN, WINDOW),
    (S.NEEDS_MATERIALS, "withdraw"): (S.WITHDRAWN, WINDOW),
}


def target(status: str, action: str, role: str) -> str | None:
    """The status ``action`` leads to from ``status`` for ``role``; None if not allowed."""
    to, roles = TRANSITIONS.get((status, action), (None, ()))
    return to if role in roles else None
