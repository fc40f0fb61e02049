"""SigV4 signing for requests and httpx, on cirrus's Rust signer.

    import requests
    from cirrus_aws.auth import SigV4Auth

    auth = SigV4Auth("eu-west-1", "es")          # the default credential chain
    requests.get("https://search-x.eu-west-1.es.amazonaws.com/_cat/indices", auth=auth)

    import httpx
    from cirrus_aws.auth import HttpxSigV4Auth

    async with httpx.AsyncClient(auth=HttpxSigV4Auth("eu-west-1", "execute-api")) as client:
        await client.get("https://abc123.execute-api.eu-west-1.amazonaws.com/prod/orders")

Credentials are a `Credentials`, or a `Config` whose credential chain supplies them (read from
its cache, refreshed before they expire); with neither, `Config(region=region)`'s chain.

The classes of aws-requests-auth (`AWSRequestsAuth`, `BotoAWSRequestsAuth`) and
requests-aws4auth (`AWS4Auth`) are here with their constructors, so moving is a change of
import. Neither `repr()` nor any exception shows a secret key or a session token.

Neither requests nor httpx is a dependency: `SigV4Auth` is a `requests.auth.AuthBase` and
`HttpxSigV4Auth` an `httpx.Auth` when those can be imported.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Iterable
from typing import TYPE_CHECKING, Any, Optional, Protocol, Union

from ._cirrus import Config, Credentials, config_credentials, sign_headers
from .errors import ParamValidationError

if TYPE_CHECKING:
    from httpx import Auth as _HttpxAuth
    from httpx import Request as _HttpxRequest
    from httpx import RequestNotRead as _RequestNotRead
    from httpx import Response as _HttpxResponse

    class _RequestsAuth:
        """requests' `AuthBase` (requests has no type hints of its own)."""

        def __call__(self, r: Any) -> Any: ...

else:
    try:
        from requests.auth import AuthBase as _RequestsAuth
    except ImportError:  # requests is optional
        _RequestsAuth = object
    try:
        from httpx import Auth as _HttpxAuth
        from httpx import RequestNotRead as _RequestNotRead
    except ImportError:  # httpx is optional
        _HttpxAuth = object

        class _RequestNotRead(Exception):
            pass

__all__ = [
    "AWS4Auth",
    "AWSRequestsAuth",
    "BotoAWSRequestsAuth",
    "HttpxSigV4Auth",
    "SigV4Auth",
    "UNSIGNED_PAYLOAD",
]

#: The payload hash of a body the signature does not cover (S3 takes it; most services do not).
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

# The services that sign with S3's rules (the signer's `SigningSettings::for_service`).
_S3_SERVICES = frozenset({"s3", "s3express", "s3-outposts", "s3-object-lambda"})


class _FrozenCredentials(Protocol):
    access_key: str
    secret_key: str
    token: Optional[str]


class _RefreshableCredentials(Protocol):
    """botocore's `RefreshableCredentials` (or anything with `get_frozen_credentials()`)."""

    def get_frozen_credentials(self) -> _FrozenCredentials: ...


def _credentials_source(
    region: str, credentials: Optional[Credentials], config: Optional[Config]
) -> Union[Credentials, Config]:
    if credentials is not None and config is not None:
        raise TypeError("give credentials or config, not both")
    if credentials is not None:
        if not isinstance(credentials, Credentials):
            raise TypeError("credentials must be cirrus_aws.Credentials (or pass config=Config(...))")
        return credentials
    if config is not None:
        if not isinstance(config, Config):
            raise TypeError("config must be cirrus_aws.Config")
        return config
    return Config(region=region)


def _pairs(headers: Any) -> Any:
    """requests' headers as `(name, value)` pairs: its CaseInsensitiveDict keeps them so in
    `_store` (read directly, it is three times quicker than `.items()`), or `headers` itself."""
    store = getattr(headers, "_store", None)
    return list(store.values()) if isinstance(store, dict) else headers


class _Signer:
    """What both auth classes share: the scope, the credentials, the body rules."""

    region: str
    service: str
    _source: Union[Credentials, Config]

    def _init_signer(
        self, region: str, service: str, credentials: Optional[Credentials], config: Optional[Config]
    ) -> None:
        if not isinstance(region, str) or not region:
            raise ValueError("region must be a region name such as 'eu-west-1'")
        if not isinstance(service, str) or not service:
            raise ValueError("service must be a signing name such as 's3', 'es' or 'execute-api'")
        self.region = region
        self.service = service
        self._source = _credentials_source(region, credentials, config)

    def _credentials(self) -> Union[Credentials, Config]:
        """The credentials for the next request (`AWS4Auth` asks botocore for new ones)."""
        return self._source

    def _streamed_hash(self) -> str:
        """The payload hash for a body that is not in memory (a file, an iterator)."""
        if self.service in _S3_SERVICES:
            return UNSIGNED_PAYLOAD
        raise ParamValidationError(
            f"cannot sign a streamed body (a file or an iterator) for {self.service!r}: the signature "
            "covers the body's SHA-256, so pass the body as bytes (only S3 takes UNSIGNED-PAYLOAD)"
        )

    def _scope_repr(self) -> str:
        source = self._source
        if isinstance(source, Credentials):
            who = f"access_key_id={source.access_key_id!r}"
        else:
            who = f"config={source!r}"
        return f"region={self.region!r}, service={self.service!r}, {who}"


class SigV4Auth(_Signer, _RequestsAuth):
    """SigV4 for `requests`: `requests.get(url, auth=SigV4Auth("eu-west-1", "es"))`.

    Signs the prepared request's method, URL, headers and body. A body in memory (bytes, str)
    is hashed; a file or an iterator is signed as UNSIGNED-PAYLOAD for S3 and refused for any
    other service (whose signature must cover the body). `credentials` are fixed keys;
    `config` a `Config` whose credential chain supplies them (refreshed as they near expiry);
    with neither, the default chain.
    """

    def __init__(
        self,
        region: str,
        service: str,
        *,
        credentials: Optional[Credentials] = None,
        config: Optional[Config] = None,
    ) -> None:
        self._init_signer(region, service, credentials, config)

    def __call__(self, r: Any) -> Any:
        body = r.body
        payload_hash = None
        if body is not None and not isinstance(body, (bytes, str)):
            if isinstance(body, (bytearray, memoryview)):
                body = bytes(body)
            else:
                body, payload_hash = None, self._streamed_hash()
        added = sign_headers(
            r.method,
            r.url,
            self._headers_to_sign(r),
            body,
            self.region,
            self.service,
            self._credentials(),
            payload_hash=payload_hash,
        )
        r.headers.update(added)
        return r

    def _headers_to_sign(self, r: Any) -> Any:
        """The request's headers the signature covers: all of them (but the few proxies change)."""
        return _pairs(r.headers)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._scope_repr()})"


class HttpxSigV4Auth(_Signer, _HttpxAuth):
    """SigV4 for httpx, sync and async: `httpx.Client(auth=HttpxSigV4Auth("eu-west-1", "sts"))`.

    A body in memory is hashed. A streamed body is read first, as httpx does for an auth that
    needs the body, except for S3, where it is signed as UNSIGNED-PAYLOAD and streamed as it is.
    Credentials from a `Config` are read from its cache; a refresh (minutes before they expire)
    blocks a sync client's request and is awaited by an async one, its event loop going on.
    """

    def __init__(
        self,
        region: str,
        service: str,
        *,
        credentials: Optional[Credentials] = None,
        config: Optional[Config] = None,
    ) -> None:
        self._init_signer(region, service, credentials, config)

    def _sign(self, request: _HttpxRequest, credentials: Union[Credentials, Config]) -> None:
        body = _httpx_body(request)
        payload_hash = None if body is not None else self._streamed_hash()
        added = sign_headers(
            request.method,
            str(request.url),
            request.headers.multi_items(),
            body,
            self.region,
            self.service,
            credentials,
            payload_hash=payload_hash,
        )
        request.headers.update(added)

    def _must_read(self, request: _HttpxRequest) -> bool:
        return self.service not in _S3_SERVICES and _httpx_body(request) is None

    def auth_flow(self, request: _HttpxRequest) -> Generator[_HttpxRequest, _HttpxResponse, None]:
        self._sign(request, self._credentials())
        yield request

    def sync_auth_flow(self, request: _HttpxRequest) -> Generator[_HttpxRequest, _HttpxResponse, None]:
        if self._must_read(request):
            request.read()
        self._sign(request, self._credentials())
        yield request

    async def async_auth_flow(self, request: _HttpxRequest) -> AsyncGenerator[_HttpxRequest, _HttpxResponse]:
        if self._must_read(request):
            await request.aread()
        source = self._credentials()
        if isinstance(source, Config):
            # Fresh credentials come at once; a refresh is awaited, the loop going on meanwhile.
            now_or_later = config_credentials(source)
            source = now_or_later if isinstance(now_or_later, Credentials) else await now_or_later
        self._sign(request, source)
        yield request

    def __repr__(self) -> str:
        return f"HttpxSigV4Auth({self._scope_repr()})"


def _httpx_body(request: _HttpxRequest) -> Optional[bytes]:
    """The body when httpx holds it in memory (given as bytes, or read), else None."""
    try:
        return request.content
    except _RequestNotRead:
        return None


class AWSRequestsAuth(SigV4Auth):
    """aws-requests-auth's class, same constructor: `from cirrus_aws.auth import AWSRequestsAuth`.

    Signs with `aws_host` as the `Host` (and sends it as the `Host` when the request has none),
    as aws-requests-auth signs it.
    """

    def __init__(
        self,
        aws_access_key: str,
        aws_secret_access_key: str,
        aws_host: str,
        aws_region: str,
        aws_service: str,
        aws_token: Optional[str] = None,
    ) -> None:
        creds = Credentials(aws_access_key, aws_secret_access_key, aws_token)
        super().__init__(aws_region, aws_service, credentials=creds)
        self.aws_host = aws_host

    def _headers_to_sign(self, r: Any) -> Any:
        if self.aws_host and "host" not in r.headers:
            r.headers["Host"] = self.aws_host
        return _pairs(r.headers)

    # aws-requests-auth's attributes: code that sets new keys or a new token on the instance
    # (as its BotoAWSRequestsAuth does before each request) signs with them from then on.
    @property
    def aws_access_key(self) -> str:
        return self._keys().access_key_id

    @aws_access_key.setter
    def aws_access_key(self, value: str) -> None:
        k = self._keys()
        self._source = Credentials(value, k.secret_access_key, k.session_token)

    @property
    def aws_secret_access_key(self) -> str:
        return self._keys().secret_access_key

    @aws_secret_access_key.setter
    def aws_secret_access_key(self, value: str) -> None:
        k = self._keys()
        self._source = Credentials(k.access_key_id, value, k.session_token)

    @property
    def aws_token(self) -> Optional[str]:
        return self._keys().session_token

    @aws_token.setter
    def aws_token(self, value: Optional[str]) -> None:
        k = self._keys()
        self._source = Credentials(k.access_key_id, k.secret_access_key, value)

    @property
    def aws_region(self) -> str:
        return self.region

    def _keys(self) -> Credentials:
        source = self._source
        return source if isinstance(source, Credentials) else source.credentials()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(aws_host={self.aws_host!r}, {self._scope_repr()})"


class BotoAWSRequestsAuth(AWSRequestsAuth):
    """aws-requests-auth's `boto_utils.BotoAWSRequestsAuth`: the default credential chain (the
    AWS CLI's: environment, profiles, SSO, roles, containers, IMDS), refreshed as needed."""

    def __init__(self, aws_host: str, aws_region: str, aws_service: str) -> None:
        SigV4Auth.__init__(self, aws_region, aws_service, config=Config(region=aws_region))
        self.aws_host = aws_host


# requests-aws4auth's default: the headers it signs (and `*`, `x-amz-*` patterns).
_AWS4AUTH_HEADERS = frozenset({"host", "content-type", "date", "x-amz-*"})


class AWS4Auth(SigV4Auth):
    """requests-aws4auth's class, same constructor forms: `from cirrus_aws.auth import AWS4Auth`.

        AWS4Auth(access_id, secret_key, region, service[, date], session_token=None)
        AWS4Auth(access_id, signing_key)     # an AWS4SigningKey that kept its secret key
        AWS4Auth(region=..., service=..., refreshable_credentials=botocore_credentials)

    `include_hdrs` chooses the headers signed, as there (default: host, content-type, date and
    x-amz-*). `date` and `raise_invalid_date` are accepted and unused: every request is signed
    for the time it is signed, which is what requests-aws4auth's key regeneration arrives at.
    An `AWS4SigningKey` made with `store_secret_key=False` is refused (cirrus signs with the
    secret key, and keeps it out of `repr()`).
    """

    def __init__(
        self,
        *args: Any,
        session_token: Optional[str] = None,
        raise_invalid_date: bool = False,
        include_hdrs: Optional[Iterable[str]] = None,
        refreshable_credentials: Optional[_RefreshableCredentials] = None,
        region: Optional[str] = None,
        service: Optional[str] = None,
        date: Optional[str] = None,
    ) -> None:
        if raise_invalid_date not in (True, False):
            raise ValueError("raise_invalid_date must be True or False in AWS4Auth.__init__()")
        self.raise_invalid_date = raise_invalid_date
        self._refreshable = refreshable_credentials
        self._last: Optional[tuple[str, str, Optional[str], Credentials]] = None
        if refreshable_credentials is not None:
            if not service:
                raise TypeError("service must be provided as keyword argument when using refreshable_credentials")
            if not region:
                raise TypeError("region must be provided as keyword argument when using refreshable_credentials")
            self.access_id: Optional[str] = None
            self.date = date
            creds = self._frozen(refreshable_credentials)
        else:
            self.access_id, creds, region, service, self.date = _aws4auth_args(args, session_token)
        super().__init__(region, service, credentials=creds)
        self.include_hdrs = set(include_hdrs) if include_hdrs is not None else set(_AWS4AUTH_HEADERS)
        self._include = frozenset(h.lower() for h in self.include_hdrs)

    @property
    def session_token(self) -> Optional[str]:
        source = self._source
        return source.session_token if isinstance(source, Credentials) else None

    def _frozen(self, refreshable: _RefreshableCredentials) -> Credentials:
        """Credentials from botocore's refreshable ones, made again only when they change."""
        f = refreshable.get_frozen_credentials()
        last = self._last
        if last is not None and (last[0], last[1], last[2]) == (f.access_key, f.secret_key, f.token):
            return last[3]
        creds = Credentials(f.access_key, f.secret_key, f.token)
        self._last = (f.access_key, f.secret_key, f.token, creds)
        return creds

    def _credentials(self) -> Union[Credentials, Config]:
        if self._refreshable is not None:
            self._source = self._frozen(self._refreshable)
        return self._source

    def _headers_to_sign(self, r: Any) -> Any:
        pairs = _pairs(r.headers)
        include = self._include
        if "*" in include:
            return pairs
        amz = "x-amz-*" in include
        signed = []
        for name, value in pairs:
            low = name.lower()
            if low in include or (amz and low.startswith("x-amz-") and low != "x-amz-client-context"):
                signed.append((name, value))
        return signed


def _aws4auth_args(
    args: tuple[Any, ...], session_token: Optional[str]
) -> tuple[str, Credentials, str, str, Optional[str]]:
    """(access id, credentials, region, service, date) from `AWS4Auth`'s positional forms."""
    if len(args) not in (2, 4, 5):
        raise TypeError(f"AWS4Auth() takes 2, 4 or 5 arguments, {len(args)} given")
    access_id = args[0]
    if len(args) == 2:
        key = args[1]
        if not all(hasattr(key, a) for a in ("secret_key", "region", "service")):
            raise TypeError("AWS4Auth(access_id, signing_key) takes an AWS4SigningKey as signing_key")
        if key.secret_key is None:
            raise ValueError(
                "AWS4Auth(access_id, signing_key): this AWS4SigningKey was made with "
                "store_secret_key=False; cirrus_aws signs with the secret key, so pass "
                "AWS4Auth(access_id, secret_key, region, service)"
            )
        return access_id, Credentials(access_id, key.secret_key, session_token), key.region, key.service, key.date
    date = args[4] if len(args) == 5 else None
    return access_id, Credentials(access_id, args[1], session_token), args[2], args[3], date
