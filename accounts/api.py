import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import serializers, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.api import AuditEventSerializer, StrictBooleanFilter
from core.filters import AuditEventFilter
from regions.models import Region

from . import services
from .models import User
from .permissions import SECURITY_EVENT_READERS, api_roles
from .selectors import region_list, security_event_list


class RegionSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(
        source="parent.code", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Region
        fields = ["id", "code", "name", "level", "parent_code", "is_active", "is_demo"]


class RegionFilter(django_filters.FilterSet):
    parent_code = django_filters.CharFilter(field_name="parent__code")
    is_active = StrictBooleanFilter()

    class Meta:
        model = Region
        fields = ["level", "is_active", "parent_code"]


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """Regions inside the caller's jurisdiction."""

    serializer_class = RegionSerializer
    filterset_class = RegionFilter

    def get_queryset(self):
        return region_list(user=self.request.user)


class MeSerializer(serializers.ModelSerializer):
    jurisdiction = RegionSerializer(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "role", "jurisdiction"]


class MeView(APIView):
    """The caller: role and jurisdiction."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


# --- API tokens ----------------------------------------------------------------------------------


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)
    expiry = serializers.DateTimeField(read_only=True)


class TokenRequestSerializer(AuthTokenSerializer):
    otp = serializers.CharField(
        label=_("Second-factor code"),
        required=False,
        allow_blank=True,
        max_length=12,
        help_text=_(
            "The 6-digit code from the authenticator app: required for district approvers, "
            "district funds officers, the city, account and security administrators and anyone "
            "who enrolled one."
        ),
    )


class TokenView(APIView):
    """Exchange a username and password (and the second-factor code, where the account has
    or needs one) for an API token (rate limited). The token is shown once: only its hash is
    stored; it expires (``TOKEN_TTL_HOURS``) and dies with a password change, a deactivation,
    a logout or a reset of the second factor."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "token"
    throttle_classes = [ScopedRateThrottle]

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer})
    def post(self, request):
        credentials = TokenRequestSerializer(data=request.data, context={"request": request})
        credentials.is_valid(raise_exception=True)
        user = credentials.validated_data["user"]
        code = "".join(credentials.validated_data.get("otp", "").split())
        token = services.token_issue_at_login(user=user, otp=code)
        return Response({"token": token.key, "expiry": token.expiry})


class TokenListSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuthToken
        fields = ["token_key", "created", "expiry"]


class TokenViewSet(viewsets.GenericViewSet):
    """The caller's own API tokens: list them (never the tokens themselves), revoke one by
    its first characters, or all."""

    serializer_class = TokenListSerializer
    lookup_field = "token_key"
    pagination_class = None  # a handful at most (TOKEN_LIMIT_PER_USER): the list is plain

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuthToken.objects.none()
        return AuthToken.objects.filter(user=self.request.user).order_by("-created")

    def list(self, request):
        return Response(TokenListSerializer(self.get_queryset(), many=True).data)

    def destroy(self, request, token_key=None):
        tokens = self.get_queryset().filter(token_key=token_key)
        if not tokens.exists():
            raise NotFound
        services.tokens_revoke(actor=request.user, tokens=tokens)
        return Response(status=204)


# --- security events ---------------------------------------------------------------------------


class SecurityEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The security events (logins, failed logins, account changes, passwords, API tokens,
    second factors, lockouts) in the caller's jurisdiction: the security administrator's and
    the auditors' reading."""

    serializer_class = AuditEventSerializer
    permission_classes = [api_roles(*SECURITY_EVENT_READERS)]
    filterset_class = AuditEventFilter

    def get_queryset(self):
        return security_event_list(user=self.request.user)
