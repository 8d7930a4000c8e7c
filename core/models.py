from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class CalendarDay(models.Model):
    """A day that breaks the Monday–Friday rule: a statutory holiday on a weekday, or an
    adjusted working weekend day (调休). Editable by the city admin, because the State Council
    publishes each year's calendar late."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday (day off)")
        WORKDAY = "workday", _("Adjusted working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("working-day calendar")

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.name}".strip()

    @property
    def audit_region_code(self) -> str:
        return ""  # city-wide policy data


class AuditEvent(models.Model):
    """One line of the audit log: who did what to which record, when, from what to what, why.

    Written for every change of a history-tracked model (with before/after values) and by
    every workflow service (with from/to state and reason). ``region_code`` is the 12-digit
    code of the region the record belongs to, so auditors see only their jurisdiction; an
    empty code is city-wide and visible to city-level auditors only.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        TRANSITION = "transition", _("Status change")
        VIEW = "view", _("Viewed sensitive data")
        LOGIN = "login", _("Logged in")
        LOGOUT = "logout", _("Logged out")
        LOGIN_FAILED = "login_failed", _("Failed login")

    occurred_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    object_type = models.CharField(_("record type"), max_length=100, blank=True)
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    object_repr = models.CharField(_("record"), max_length=200, blank=True)
    region_code = models.CharField(_("region code"), max_length=12, blank=True)
    case_key = models.CharField(
        _("case"),
        max_length=40,
        blank=True,
        help_text=_("The case a record belongs to, e.g. household:42, for its change history."),
    )
    from_state = models.CharField(_("from"), max_length=32, blank=True)
    to_state = models.CharField(_("to"), max_length=32, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # SHA-256 of the previous event's seal and this event's content (``core.auditchain``):
    # set once by the sealing job, never changed; blank until then.
    seal = models.CharField(_("seal"), max_length=64, blank=True, default="", editable=False)
    # The event's place in the chain, given with its seal: the order of sealing, not of ids (an
    # event whose transaction commits after a later id was sealed is chained after it).
    chain_position = models.BigIntegerField(
        _("position in the chain"), null=True, blank=True, unique=True, editable=False
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["case_key", "-occurred_at"], name="audit_case_idx"),
            models.Index(
                fields=["region_code"],
                name="audit_region_prefix_idx",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self):
        return (
            f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"
        )


class Heartbeat(models.Model):
    """Last time a background process (worker, beat) proved it was alive."""

    name = models.CharField(max_length=32, primary_key=True)
    seen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("heartbeat")

    def __str__(self):
        return f"{self.name} {self.seen_at:%Y-%m-%d %H:%M:%S}"


class Sequence(models.Model):
    """A named counter for human-readable numbers (household numbers, receipts). Allocation
    locks the row, so numbers are unique and gap-free per name within a transaction."""

    name = models.CharField(max_length=64, primary_key=True)
    last_value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("number sequence")

    def __str__(self):
        return f"{self.name}={self.last_value}"


class JobRun(models.Model):
    """One run of a scheduled job: when, what it did, how it ended. A running row is also the
    job's lock: at most one per job (a partial unique index), so two schedulers or a retried
    task firing together cannot both run it."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped: already running")

    job = models.CharField(_("job"), max_length=64)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    counts = models.JSONField(_("what it did"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job"], condition=Q(status="running"), name="job_run_one_running"
            )
        ]
        indexes = [models.Index(fields=["job", "-started_at"], name="job_run_recent_idx")]

    def __str__(self):
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 1)


class Alert(models.Model):
    """An item in a user's in-app inbox (a deadline reached, a review opened). ``key`` makes
    raising the same alert twice a no-op."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="alerts",
        verbose_name=_("user"),
    )
    key = models.CharField(_("key"), max_length=100)
    message = models.CharField(_("message"), max_length=300)
    url = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="alert_once_per_key")]
        indexes = [models.Index(fields=["user", "read_at"], name="alert_inbox_idx")]

    def __str__(self):
        return self.message
