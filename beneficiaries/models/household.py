"""Households and their members (the register), and recorded moves between households."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.fields import DigestField, EncryptedCharField
from core.validators import account_number, phone_number, plain_text
from regions.models import Region

from .. import people

ZERO = Decimal("0.00")


class ResidenceType(models.TextChoices):
    URBAN = "urban", _("Urban")
    RURAL = "rural", _("Rural")


class Household(models.Model):
    """A household (户): the members who live together, registered at a village."""

    number = models.CharField(_("household number"), max_length=20, unique=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("village/community"),
        on_delete=models.PROTECT,
        related_name="households",
    )
    address = models.CharField(_("address"), max_length=200)
    residence_type = models.CharField(
        _("residence type"),
        max_length=8,
        choices=ResidenceType.choices,
        help_text=_("From the hukou; decides which standard applies."),
    )
    phone = EncryptedCharField(_("phone"), max_length=20, blank=True, validators=[phone_number])
    phone_digest = DigestField(source="phone")
    bank_name = models.CharField(_("bank"), max_length=64, blank=True, validators=[plain_text])
    bank_account_name = models.CharField(
        _("account holder"), max_length=64, blank=True, validators=[plain_text]
    )
    bank_account_number = EncryptedCharField(
        _("account number"), max_length=32, blank=True, validators=[account_number]
    )
    poverty_registered = models.BooleanField(
        _("registered poor household (建档立卡)"), default=False
    )
    marginal = models.BooleanField(_("near-dibao household (低保边缘)"), default=False)
    employs_others = models.BooleanField(_("employs other people"), default=False)
    separately_registered = models.BooleanField(
        _("separately registered (单独登记)"),
        default=False,
        help_text=_("A member is a close relative of civil-affairs staff or a village cadre."),
    )
    separate_registration_reason = models.CharField(
        _("reason for separate registration"), max_length=200, blank=True
    )
    head = models.OneToOneField(
        "Member",
        verbose_name=_("head of household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_household",
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["phone_digest"], name="household_phone_digest_idx"),
            # A district's or township's households by id from the index alone: the lists and
            # counts of a jurisdiction start here, and at city scale a district's households
            # are scattered over the whole table.
            models.Index(fields=["region", "id"], name="household_region_id_idx"),
        ]

    def __str__(self):
        return self.number

    @property
    def audit_region_code(self) -> str:
        return self.region.code

    @property
    def audit_case_key(self) -> str:
        return f"household:{self.pk}"


class Member(models.Model):
    """A person registered in a household. One current record per ID number in the whole
    city (a database constraint): a person who moves is moved, never entered twice."""

    class Relation(models.TextChoices):
        HEAD = "head", _("Head of household")
        SPOUSE = "spouse", _("Spouse")
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        GRANDCHILD = "grandchild", _("Grandchild")
        GRANDPARENT = "grandparent", _("Grandparent")
        SIBLING = "sibling", _("Sibling")
        OTHER = "other", _("Other relative with a support duty")

    class Absence(models.TextChoices):
        # Still counted as living together (``people.COUNTED_ABSENCES``) …
        STUDY = "study", _("Studying away (full-time student)")
        WORK = "work", _("Working away")
        MILITARY = "military", _("In military service")
        # … not counted (``people.UNCOUNTED_ABSENCES``) …
        PRISON = "prison", _("Serving a prison sentence")
        REHAB = "rehab", _("Compulsory isolation or rehabilitation")
        RELIGIOUS = "religious", _("Clergy living in a religious venue for 3 years or more")
        MISSING = "missing", _("Missing")
        # … or as the township reviewer decides.
        OTHER = "other", _("Other (the township reviewer decides whether they count)")

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    class Labour(models.TextChoices):
        DERIVED = "", _("From age and disability")
        FULL = "full", _("Full labour capacity")
        PARTIAL = "partial", _("Partial labour capacity")
        NONE = "none", _("No labour capacity")

    class Disability(models.TextChoices):
        NONE = "", _("None")
        VISUAL = "visual", _("Visual")
        HEARING = "hearing", _("Hearing")
        SPEECH = "speech", _("Speech")
        PHYSICAL = "physical", _("Physical")
        INTELLECTUAL = "intellectual", _("Intellectual")
        MENTAL = "mental", _("Mental")
        MULTIPLE = "multiple", _("Multiple")

    class SelfCare(models.TextChoices):
        CAPABLE = "capable", _("Capable of self-care")
        PARTIAL = "partial", _("Partial loss of self-care")
        NONE = "none", _("Full loss of self-care")

    class Schooling(models.TextChoices):
        NOT_IN_SCHOOL = "not_in_school", _("Not in school")
        PRESCHOOL = "preschool", _("Preschool")
        COMPULSORY = "compulsory", _("Compulsory education")
        HIGH_SCHOOL = "high_school", _("Senior high or vocational school")
        HIGHER = "higher", _("College or university (full-time)")

    class Employment(models.TextChoices):
        EMPLOYED = "employed", _("Employed")
        SELF_EMPLOYED = "self_employed", _("Self-employed")
        FARMING = "farming", _("Farming")
        UNEMPLOYED = "unemployed", _("Unemployed")
        RETIRED = "retired", _("Retired")
        STUDENT = "student", _("Student")
        UNABLE = "unable", _("Unable to work")

    # The six daily-living items of the self-care assessment (DESIGN.md §5).
    DAILY_LIVING_ITEMS = (
        "can_eat",
        "can_dress",
        "can_transfer",
        "can_toilet",
        "can_walk_indoors",
        "can_bathe",
    )

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="members"
    )
    name = models.CharField(_("full name"), max_length=64, validators=[plain_text])
    id_number = EncryptedCharField(_("ID number"), max_length=18)
    id_number_digest = DigestField(source="id_number")
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, editable=False)
    birth_date = models.DateField(_("birth date"), editable=False)
    relation = models.CharField(_("relation to head"), max_length=16, choices=Relation.choices)
    lives_with_household = models.BooleanField(_("lives with the household"), default=True)
    absence_reason = models.CharField(
        _("why not living with the household"), max_length=16, choices=Absence.choices, blank=True
    )
    absence_counted = models.BooleanField(
        _("counted in the household (reviewer's decision)"), null=True, blank=True
    )
    absence_decision = models.CharField(
        _("why the reviewer decided so"), max_length=200, blank=True
    )
    hukou_local = models.BooleanField(_("local hukou"), default=True)
    labour_capacity = models.CharField(
        _("labour capacity"),
        max_length=8,
        choices=Labour.choices,
        blank=True,
        default=Labour.DERIVED,
        help_text=_(
            "Leave “from age and disability” unless a reviewer found otherwise; then give the "
            "reason."
        ),
    )
    labour_capacity_reason = models.CharField(
        _("why the labour capacity differs"), max_length=200, blank=True
    )
    studying_abroad_self_funded = models.BooleanField(
        _("studying abroad at the family's own cost"), default=False
    )
    works_without_income_proof = models.BooleanField(
        _("in stable work without proof of income"), default=False
    )
    disability_type = models.CharField(
        _("disability"), max_length=16, choices=Disability.choices, blank=True, default=""
    )
    disability_grade = models.PositiveSmallIntegerField(
        _("disability grade"), null=True, blank=True, choices=[(g, str(g)) for g in range(1, 5)]
    )
    serious_illness = models.BooleanField(_("serious illness (重特大疾病)"), default=False)
    can_eat = models.BooleanField(_("eats unaided"), default=True)
    can_dress = models.BooleanField(_("dresses unaided"), default=True)
    can_transfer = models.BooleanField(_("gets in and out of bed unaided"), default=True)
    can_toilet = models.BooleanField(_("uses the toilet unaided"), default=True)
    can_walk_indoors = models.BooleanField(_("walks indoors unaided"), default=True)
    can_bathe = models.BooleanField(_("bathes unaided"), default=True)
    self_care = models.CharField(
        _("self-care level"),
        max_length=8,
        choices=SelfCare.choices,
        default=SelfCare.CAPABLE,
        editable=False,
    )
    schooling = models.CharField(
        _("schooling"), max_length=16, choices=Schooling.choices, default=Schooling.NOT_IN_SCHOOL
    )
    employment = models.CharField(
        _("employment"), max_length=16, choices=Employment.choices, blank=True
    )

    class LeaveReason(models.TextChoices):
        DIED = "died", _("Died")
        MOVED_OUT = "moved_out", _("Moved out of the city's register")
        SEPARATE = "separate", _("Left to live separately")
        ENTRY_ERROR = "entry_error", _("Entered by mistake")
        OTHER = "other", _("Other")

    leave_reason = models.CharField(
        _("why removed"), max_length=16, choices=LeaveReason.choices, blank=True
    )
    is_current = models.BooleanField(
        _("current"),
        default=True,
        help_text=_("False once the person has left the household register (death, emigration)."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["household_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_digest"],
                condition=Q(is_current=True),
                name="member_one_current_record_per_person",
                violation_error_message=_(
                    "This person is already registered in another household."
                ),
            ),
            models.CheckConstraint(
                condition=Q(lives_with_household=True, absence_reason="")
                | Q(lives_with_household=False) & ~Q(absence_reason=""),
                name="member_absence_reason_iff_absent",
                violation_error_message=_(
                    "Say why this member does not live with the household (and give no reason "
                    "for one who does)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(disability_type="", disability_grade__isnull=True)
                | ~Q(disability_type="")
                & Q(
                    disability_grade__isnull=False, disability_grade__gte=1, disability_grade__lte=4
                ),
                name="member_disability_grade_with_type",
                violation_error_message=_(
                    "Enter both the type of disability and its grade (1–4), or neither."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["id_number_digest"], name="member_id_digest_idx"),
            # Any part of the name: a GIN index over the name's characters and pairs, made by
            # migration 0017 on PostgreSQL (``beneficiaries.namesearch``).
            models.Index(fields=["name", "birth_date"], name="member_name_birth_idx"),
            # "Has a current member named …" answered from the index (PostgreSQL's INCLUDE),
            # without reading each member's row.
            models.Index(
                fields=["household"],
                include=["is_current", "name"],
                name="member_household_name_idx",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def audit_region_code(self) -> str:
        return self.household.region.code

    @property
    def audit_case_key(self) -> str:
        return f"household:{self.household_id}"

    @property
    def counted(self) -> bool:
        return people.counts(
            lives_with_household=self.lives_with_household,
            absence_reason=self.absence_reason,
            absence_counted=self.absence_counted,
        )

    def capacity(self, as_of) -> str:
        return people.labour_capacity(
            birth_date=self.birth_date,
            as_of=as_of,
            recorded=self.labour_capacity,
            kind=self.disability_type,
            grade=self.disability_grade,
        )

    @classmethod
    def self_care_level(cls, items_not_done: int) -> str:
        """All six done: capable; up to three not done: partial loss; four or more: full loss."""
        if items_not_done == 0:
            return cls.SelfCare.CAPABLE
        return cls.SelfCare.PARTIAL if items_not_done <= 3 else cls.SelfCare.NONE


class MemberMove(models.Model):
    """A recorded move of a person from one household to another (never a second record)."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="moves"
    )
    from_household = models.ForeignKey(
        Household, verbose_name=_("from household"), on_delete=models.PROTECT, related_name="+"
    )
    to_household = models.ForeignKey(
        Household, verbose_name=_("to household"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200)
    moved_at = models.DateTimeField(_("moved at"), auto_now_add=True)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moved by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("member move")
        verbose_name_plural = _("member moves")
        ordering = ["-moved_at"]

    def __str__(self):
        return f"{self.member} {self.from_household} → {self.to_household}"


class JobReferral(models.Model):
    """A job the employment service offered a member able to work (就业推荐), and what the
    member did. Refusing the policy number of them without good reason (3, 社会救助暂行办法
    第四十五条) removes the member's share of 低保."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused without good reason")
        JUSTIFIED = "justified", _("Refused for a good reason (health, care duties)")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="job_referrals", verbose_name=_("member")
    )
    offered_on = models.DateField(_("offered on"))
    job = models.CharField(_("job offered"), max_length=200)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("job referral")
        verbose_name_plural = _("job referrals")
        ordering = ["offered_on", "id"]

    def __str__(self):
        return f"{self.member} {self.job} {self.get_outcome_display()}"

    @property
    def audit_region_code(self) -> str:
        return self.member.household.region.code

    @property
    def audit_case_key(self) -> str:
        return f"household:{self.member.household_id}"


class HouseholdEvent(models.Model):
    """A change the household's assistance must be reviewed for, written in the same
    transaction as the change (an outbox): dynamic management reads them, opens or adds to a
    review, and suspends payment where nobody counted is left."""

    class Kind(models.TextChoices):
        MEMBER_DIED = "member_died", _("A member died")
        MEMBER_LEFT = "member_left", _("A member left the household")
        MEMBER_JOINED = "member_joined", _("A member joined the household")
        MOVED_OUT = "moved_out", _("A member moved to another household")
        MOVED_IN = "moved_in", _("A member moved in from another household")
        COUNTED = "counted", _("Who lives with the household changed")
        CIRCUMSTANCES = "circumstances", _("A member's work, health or disability changed")
        JOB_REFUSED = "job_refused", _("A job offer was refused without good reason")
        RESIDENCE = "residence", _("Residence type or place changed")
        ECONOMICS = "economics", _("Income, property or spending changed")
        VERIFICATION = "verification", _("A verification finding")

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="events", verbose_name=_("household")
    )
    kind = models.CharField(_("change"), max_length=16, choices=Kind.choices)
    member = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("member"),
    )
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("household change")
        verbose_name_plural = _("household changes")
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"],
                condition=Q(processed_at__isnull=True),
                name="household_event_pending_idx",
            )
        ]

    def __str__(self):
        return f"{self.household} {self.get_kind_display()}"
