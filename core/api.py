from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import DomainError, ValidationFailed


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


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
