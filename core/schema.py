"""The OpenAPI schema documents every refusal an operation can answer with, from one place:
``AutoSchema`` (``DEFAULT_SCHEMA_CLASS``) adds 400, 403, 404 and 429 from what the view does
(takes input, needs a login, names an object, pages, is throttled); a view declares only what
cannot be seen from outside, such as the 409 of a service that checks a version or a state.

Bodies (``core.api.exception_handler``): a refusal is ``{"detail", "code"?, "field"?,
"errors"?}``; a serializer's 400 is DRF's field map (``{"field": ["message"]}``, nested for
nested input)."""

from __future__ import annotations

import uritemplate
from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent, force_instance, is_patched_serializer
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

ERROR_SCHEMA = {
    "type": "object",
    "description": "A refusal: the message to show, and for a rule of the domain its code, "
    "the field it concerns, or every failed field's messages.",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "field": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail"],
}
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "Input that does not fit the request's shape: each field's messages, "
    "nested like the input (a list of members gives a list of objects); "
    "``non_field_errors`` for the whole.",
    "minProperties": 1,
    "additionalProperties": {
        "anyOf": [{"type": "array", "items": {}}, {"type": "object"}],
    },
}
VALIDATION_ERROR_SCHEMA = {
    "oneOf": [{"$ref": "#/components/schemas/Error"}, {"$ref": "#/components/schemas/FieldErrors"}]
}
COMPONENTS = {
    "Error": ERROR_SCHEMA,
    "FieldErrors": FIELD_ERRORS_SCHEMA,
    "ValidationError": VALIDATION_ERROR_SCHEMA,
}


# What Django's FileResponse names the downloads (by their file name's extension).
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


# For views that declare a refusal the schema cannot infer (``extend_schema(responses=...)``).
CONFLICT = OpenApiResponse(
    _ref("Error"),
    description="Someone else changed the record first (the version sent is stale), or its "
    "state no longer allows this.",
)
INVALID = OpenApiResponse(_ref("ValidationError"), description="The input was refused.")
NOT_FOUND = OpenApiResponse(_ref("Error"), description="Nothing matches.")
TOO_MANY = OpenApiResponse(_ref("Error"), description="Too many attempts; try again later.")

REFUSALS = {
    "400": (
        "ValidationError",
        "The input was refused: a field map for input of the wrong shape, or a rule of the "
        "domain (``code``).",
    ),
    "403": (
        "Error",
        "Not logged in, or the caller's role or jurisdiction does not allow this.",
    ),
    "404": ("Error", "No such object in the caller's jurisdiction, or no such page."),
    "429": ("Error", "Too many attempts; try again later (see ``Retry-After``)."),
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, made to tell what the views do: only a GET list is paged and
    filtered (a POST that answers with a list answers with all of it), a PATCH must still
    send a serializer's ``Meta.partial_required`` fields, and every refusal is documented."""

    def get_filter_backends(self):
        return super().get_filter_backends() if self.method == "GET" else []

    def _get_paginator(self):
        return super()._get_paginator() if self.method == "GET" else None

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter["in"] != "query":
                continue
            # DRF and django-filter read an empty optional query value as no value at all.
            if not parameter.get("required"):
                parameter["allowEmptyValue"] = True
            _refuse_nul(parameter.get("schema", {}))
        return parameters

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request":
            return schema
        if isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
            schema = _decimal(field, schema)
        elif isinstance(field, serializers.BooleanField) and schema.get("type") == "boolean":
            schema = _lenient_boolean(schema)
        _refuse_nul(schema)
        return schema

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        always = getattr(getattr(serializer, "Meta", None), "partial_required", ())
        if always and is_patched_serializer(force_instance(serializer), direction):
            schema["required"] = sorted(always)
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for name, schema in COMPONENTS.items():
            self.registry.register_on_missing(
                ResolvedComponent(
                    name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
                )
            )
        for code in self.refusal_codes():
            if code in responses:
                continue
            name, description = REFUSALS[code]
            responses[code] = {
                "content": {"application/json": {"schema": _ref(name)}},
                "description": description,
            }
        return dict(sorted(responses.items()))

    def refusal_codes(self) -> list[str]:
        codes = []
        if self._takes_input():
            codes.append("400")
        if self._needs_login():
            codes.append("403")
        if uritemplate.variables(self.path) or self._pages():
            codes.append("404")
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def _takes_input(self) -> bool:
        """A body, or filters, a page size and query fields, which are validated (a page
        number past the end is a 404, not a 400)."""
        if self.method in ("POST", "PUT", "PATCH"):
            return True
        queried = {
            p["name"]
            for p in self._get_filter_parameters() + self._validated_query_parameters()
            if p.get("in") == "query"
        }
        return bool(queried - {"page"}) or self._pages()

    def _validated_query_parameters(self) -> list[dict]:
        """Query fields given as a serializer (``extend_schema(parameters=[Serializer])``),
        which the view validates; a bare ``OpenApiParameter`` promises nothing, and a view
        that refuses one declares its 400 itself."""
        given = [p for p in self.get_override_parameters() if not isinstance(p, OpenApiParameter)]
        return [{"name": name, "in": "query"} for s in given for name in _fields(s)]

    def _needs_login(self) -> bool:
        return not all(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def _pages(self) -> bool:
        return (
            self.method == "GET"
            and self._is_list_view()
            and self._get_paginator() is not None
            and any(p["name"] == "page" for p in self._get_pagination_parameters())
        )


# Text input never holds a NUL character: DRF's and Django's form fields refuse it (400), and
# PostgreSQL could not store it.
NO_NUL = "^[^\\x00]*$"


def _refuse_nul(schema: dict) -> None:
    if schema.get("type") == "string" and not {"pattern", "enum", "format"} & set(schema):
        schema["pattern"] = NO_NUL


def _decimal(field, schema: dict) -> dict:
    """What DRF's DecimalField takes: a string with at least one digit (drf-spectacular's
    pattern lets "", "." and "-" through), or a JSON number; no sign where nothing below zero
    is allowed, no more decimal places than it keeps."""
    places = field.decimal_places or 0
    whole = max((field.max_digits or 30) - places, 1)
    unsigned = field.min_value is not None and field.min_value >= 0
    fraction = rf"(?:\.[0-9]{{0,{places}}})?" if places else ""
    tail = rf"|\.[0-9]{{1,{places}}}" if places else ""
    body = rf"{'' if unsigned else '-?'}(?:[0-9]{{1,{whole}}}{fraction}{tail})"
    # DRF reads "" as null where null is allowed.
    pattern = rf"^(?:{body})?$" if field.allow_null else rf"^{body}$"
    largest = 10**whole - 10**-places
    number = {
        "type": "number",
        "minimum": float(field.min_value) if unsigned else -largest,
        "maximum": largest,
        "multipleOf": 10**-places,
    }
    typed = {k: schema.pop(k) for k in ("type", "format", "pattern", "nullable") if k in schema}
    if typed.get("nullable"):
        number["nullable"] = True
    return {**schema, "oneOf": [{**typed, "pattern": pattern}, number]}


def _lenient_boolean(schema: dict) -> dict:
    """DRF's BooleanField also takes "true"/"false", "yes"/"no", "on"/"off", 1/0 and their
    spellings (and "null" where null is allowed): a client sending 0 is answered, not
    refused, so the schema says so."""
    field = serializers.BooleanField
    values = field.TRUE_VALUES | field.FALSE_VALUES
    if schema.get("nullable"):
        values |= field.NULL_VALUES  # "null" and "" read as null
    spellings = sorted(v for v in values if isinstance(v, str))
    typed = {k: v for k, v in schema.items() if k in ("type", "nullable")}
    rest = {k: v for k, v in schema.items() if k not in typed}
    return {
        **rest,
        "oneOf": [
            typed,
            {"type": "string", "enum": spellings},
            {"type": "integer", "enum": [0, 1]},
        ],
    }


def _fields(serializer) -> list[str]:
    instance = serializer() if isinstance(serializer, type) else serializer
    return list(instance.fields)
