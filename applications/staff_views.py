"""Staff and village cadres declare their own close relatives (近亲属), so that a relative's
application is registered separately (单独登记) without anyone having to remember."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import StaffRelative
from accounts.permissions import role_required
from beneficiaries.idnumber import mask
from core.exceptions import DomainError, ValidationFailed

from . import services


class RelativeForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Full name"), max_length=64)
    id_number = forms.CharField(label=gettext_lazy("ID number"), max_length=24)
    relation = forms.ChoiceField(
        label=gettext_lazy("Relation"), choices=StaffRelative.Relation.choices
    )


@role_required(*services.STAFF_ROLES)
def relatives(request):
    form = RelativeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_relative_declare(actor=request.user, **form.cleaned_data)
        except ValidationFailed as exc:
            for field, message in exc.errors:
                form.add_error(field if field in form.fields else None, message)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Declared."))
            return redirect("applications:relatives")
    declared = [
        (relative, mask(relative.id_number)) for relative in request.user.relatives.order_by("id")
    ]
    return render(request, "applications/relatives.html", {"form": form, "declared": declared})


@require_POST
@role_required(*services.STAFF_ROLES)
def relative_remove(request, pk):
    relative = request.user.relatives.filter(pk=pk).first()
    if relative is None:
        raise Http404
    services.staff_relative_remove(actor=request.user, relative=relative)
    messages.success(request, _("Removed from your declaration."))
    return redirect("applications:relatives")


staff_urlpatterns = [
    path("relatives/", relatives, name="relatives"),
    path("relatives/<int:pk>/remove/", relative_remove, name="relative_remove"),
]
