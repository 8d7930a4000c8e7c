"""Households (户) and their members: the state of who lives with whom, what they earn and
own, and who gets what. Every later step (means test, applications, payments) reads from
here."""

from .batches import ImportBatch
from .duplicates import DuplicateCandidate
from .economics import Asset, Expenditure, IncomeItem
from .entitlement import Entitlement, EntitlementChange, Programme
from .household import (
    Household,
    HouseholdEvent,
    JobReferral,
    Member,
    MemberMove,
    ResidenceType,
)

__all__ = [
    "Asset",
    "DuplicateCandidate",
    "Entitlement",
    "EntitlementChange",
    "Expenditure",
    "Household",
    "HouseholdEvent",
    "ImportBatch",
    "IncomeItem",
    "JobReferral",
    "Member",
    "MemberMove",
    "Programme",
    "ResidenceType",
]
