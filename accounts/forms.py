import unicodedata

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("The username or password is wrong. Both are case-sensitive."),
        "inactive": _("This account has been disabled. Ask the account administrator."),
    }


class SecondFactorForm(forms.Form):
    otp = forms.CharField(
        label=_("6-digit code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )

    def clean_otp(self):
        # Full-width digits (a Chinese input method) and spaces ("123 456") are the same code.
        code = "".join(unicodedata.normalize("NFKC", self.cleaned_data["otp"]).split())
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise forms.ValidationError(_("Type the 6 digits your authenticator app shows."))
        return code
