import django_filters
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import DomainError, ValidationFailed
from .masking import mask_changes
from .models import AuditEvent
from .pagination import CappedPaginator


class Pagination(PageNumberPagination):
    """50 a page; ``page_size`` up to 200 (more is cut to 200). A page size that is not a
    whole number above zero is refused (400) rather than silently replaced; a page past the
    end is a 404. ``count`` stops at 10,000 (``count_capped`` is then true, and only the
    pages up to it can be read): counting a city's 500,000 entitlements for every page cost
    more than the page; a whole register is an export."""

    django_paginator_class = type("ApiPaginator", (CappedPaginator,), {"cap": 10_000})
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        try:
            size = serializers.IntegerField(min_value=1).run_validation(raw)
        except ValidationError as exc:
            raise ValidationError({self.page_size_query_param: exc.detail}) from None
        return min(size, self.max_page_size)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_capped"] = self.page.paginator.capped
        return response

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count_capped"] = {
            "type": "boolean",
            "description": "true when there are more rows than ``count`` (which stops at "
            "10,000); narrow the filters or export.",
        }
        paginated["required"].append("count_capped")
        return paginated

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """``true`` or ``false``; anything else is refused (400), where django-filter's
    BooleanFilter would quietly ignore it and list everything."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


@csrf_exempt  # it changes nothing: a POST gets the same JSON 404, not the CSRF page
def not_found(request, *args, **kwargs):
    """Any address under the API that names no endpoint (an id that is not a number, an
    unknown action): the API's JSON 404, not the site's HTML page."""
    return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)


def exception_handler(exc, context):
    if isinstance(exc, ValidationFailed):
        errors: dict[str, list[str]] = {}
        for field, message in exc.errors:
            errors.setdefault(field or "non_field_errors", []).append(str(message))
        return Response(
            {"detail": str(exc.message), "code": exc.code, "errors": errors}, status=exc.status_code
        )
    if isinstance(exc, DomainError):
        body = {"detail": str(exc.message), "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.status_code)
    return drf_exception_handler(exc, context)


class AuditEventSerializer(serializers.ModelSerializer):
    """An audit event as the API shows it, to the auditors and the security administrator:
    ID, phone and account numbers masked, as on every page."""

    changes = serializers.SerializerMethodField()

    def get_changes(self, event) -> dict:
        return mask_changes(event.changes)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor_name",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "region_code",
            "from_state",
            "to_state",
            "reason",
            "changes",
        ]
