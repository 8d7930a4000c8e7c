"""What text may hold where a person's name, phone or account is written."""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Control, format (right-to-left override, zero-width joiners …), private-use, unassigned.
HIDDEN_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn"}


@deconstructible
class PlainText:
    """No invisible or direction-changing characters: a name reads as it is stored."""

    message = _("Remove the invisible or control characters from this text.")

    def __call__(self, value):
        if any(unicodedata.category(ch) in HIDDEN_CATEGORIES for ch in str(value or "")):
            raise ValidationError(self.message, code="hidden_characters")

    def __eq__(self, other):
        return isinstance(other, PlainText)


plain_text = PlainText()
phone_number = RegexValidator(
    r"^[0-9+\- ]*$", _("A phone number has digits only (and + or -)."), code="phone"
)
account_number = RegexValidator(
    r"^[0-9]*$", _("An account number has digits only."), code="account"
)
