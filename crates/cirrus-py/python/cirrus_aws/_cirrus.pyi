"""The native module (Rust, pyo3). Import from `cirrus_aws`, not from here."""

import datetime
import os
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any, AsyncIterator, Literal, TypedDict, final

from typing_extensions import Unpack

__version__: str
__all__ = [
    "AsyncObjectIterator",
    "AsyncS3Client",
    "CognitoLogin",
    "Config",
    "Credentials",
    "Object",
    "ObjectInfo",
    "ObjectIterator",
    "S3Client",
    "TransferEvent",
    "TransferSummary",
    "__version__",
    "config_credentials",
    "sign_headers",
]

_Location = str | os.PathLike[str]
_Patterns = str | Iterable[str]
_Filters = Iterable[tuple[Literal["include", "exclude"], str]]

@final
class Credentials:
    def __new__(
        cls,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        *,
        expiry: datetime.datetime | float | None = None,
    ) -> Credentials: ...
    @property
    def access_key_id(self) -> str: ...
    @property
    def secret_access_key(self) -> str: ...
    @property
    def session_token(self) -> str | None: ...
    @property
    def expiry(self) -> float | None: ...
    @property
    def provider(self) -> str: ...

@final
class CognitoLogin:
    def __new__(
        cls,
        user_pool_id: str,
        client_id: str,
        username: str,
        password: str,
        identity_pool_id: str | None = None,
        *,
        auth_flow: str = "USER_SRP_AUTH",
        client_secret: str | None = None,
    ) -> CognitoLogin: ...
    @property
    def user_pool_id(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def identity_pool_id(self) -> str | None: ...
    @property
    def auth_flow(self) -> str: ...

@final
class Config:
    def __new__(
        cls,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        credentials: Credentials | CognitoLogin | Callable[[], Credentials] | None = None,
        *,
        signed: bool = True,
    ) -> Config: ...
    @property
    def region(self) -> str | None: ...
    @property
    def profile(self) -> str | None: ...
    @property
    def endpoint_url(self) -> str | None: ...
    def credentials(self) -> Credentials: ...
    def whoami(self) -> dict[str, str]: ...

@final
class Object:
    @property
    def key(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def etag(self) -> str | None: ...
    @property
    def storage_class(self) -> str | None: ...
    @property
    def last_modified(self) -> datetime.datetime | None: ...

@final
class ObjectInfo:
    @property
    def size(self) -> int: ...
    @property
    def content_length(self) -> int: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def etag(self) -> str | None: ...
    @property
    def version_id(self) -> str | None: ...
    @property
    def storage_class(self) -> str | None: ...
    @property
    def cache_control(self) -> str | None: ...
    @property
    def content_encoding(self) -> str | None: ...
    @property
    def content_disposition(self) -> str | None: ...
    @property
    def last_modified(self) -> datetime.datetime | None: ...
    @property
    def metadata(self) -> dict[str, str]: ...

@final
class ObjectIterator(Iterator[Object]):
    def __iter__(self) -> ObjectIterator: ...
    def __next__(self) -> Object: ...

@final
class AsyncObjectIterator(AsyncIterator[Object]):
    def __aiter__(self) -> AsyncObjectIterator: ...
    def __anext__(self) -> Awaitable[Object]: ...

@final
class TransferEvent:
    @property
    def kind(self) -> str: ...
    @property
    def action(self) -> str | None: ...
    @property
    def src(self) -> str | None: ...
    @property
    def dst(self) -> str | None: ...
    @property
    def bytes(self) -> int: ...

@final
class TransferSummary:
    @property
    def done(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def skipped(self) -> int: ...
    @property
    def not_overwritten(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    @property
    def elapsed(self) -> float: ...
    @property
    def interrupted(self) -> bool: ...
    @property
    def verified(self) -> int: ...
    @property
    def unverified(self) -> int: ...
    @property
    def left_behind(self) -> int: ...
    @property
    def errors(self) -> list[str]: ...
    @property
    def ok(self) -> bool: ...

_Progress = Callable[[TransferEvent], object]

class _Common(TypedDict, total=False):
    include: _Patterns
    exclude: _Patterns
    filters: _Filters
    dryrun: bool
    progress: _Progress | None
    raise_on_failure: bool

class _Writes(_Common, total=False):
    follow_symlinks: bool
    no_overwrite: bool
    content_type: str | None
    metadata: Mapping[str, str] | None
    storage_class: str | None

class _CopyOptions(_Writes, total=False):
    """The keywords of cp and mv: `recursive`, the filters, the object headers, `progress`."""

    recursive: bool

class _SyncOptions(_Writes, total=False):
    """The keywords of sync."""

    delete: bool
    size_only: bool
    exact_timestamps: bool
    checksum: bool

class _RemoveOptions(_Common, total=False):
    """The keywords of rm."""

    recursive: bool

@final
class S3Client:
    def __new__(cls, config: Config | None = None) -> S3Client: ...
    @property
    def config(self) -> Config: ...
    def head(self, bucket: str, key: str) -> ObjectInfo: ...
    def get(self, bucket: str, key: str, *, range: str | None = None) -> bytes: ...
    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | bytearray | memoryview | str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        storage_class: str | None = None,
    ) -> dict[str, str | None]: ...
    def upload_file(
        self,
        filename: str | os.PathLike[str],
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        storage_class: str | None = None,
        callback: Callable[[int], object] | None = None,
    ) -> dict[str, str | None]: ...
    def download_file(self, bucket: str, key: str, filename: str | os.PathLike[str]) -> int: ...
    def delete(self, bucket: str, *keys: str) -> int: ...
    def delete_prefix(self, bucket: str, prefix: str) -> int: ...
    def presign_get(self, bucket: str, key: str, expires_in: int = 3600) -> str: ...
    def presign_put(self, bucket: str, key: str, expires_in: int = 3600) -> str: ...
    def presign_post(
        self,
        bucket: str,
        key: str,
        *,
        expires_in: int = 3600,
        content_type: str | None = None,
        max_size: int | None = None,
    ) -> dict[str, Any]: ...
    def list(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        start_after: str | None = None,
        page_size: int | None = None,
    ) -> ObjectIterator: ...
    def cp(self, src: _Location, dst: _Location, **options: Unpack[_CopyOptions]) -> TransferSummary: ...
    def sync(self, src: _Location, dst: _Location, **options: Unpack[_SyncOptions]) -> TransferSummary: ...
    def mv(self, src: _Location, dst: _Location, **options: Unpack[_CopyOptions]) -> TransferSummary: ...
    def rm(self, target: _Location, **options: Unpack[_RemoveOptions]) -> TransferSummary: ...
    def create_bucket(self, bucket: str) -> None: ...
    def delete_bucket(self, bucket: str) -> None: ...

@final
class AsyncS3Client:
    def __new__(cls, config: Config | None = None) -> AsyncS3Client: ...
    @property
    def config(self) -> Config: ...
    def head(self, bucket: str, key: str) -> Awaitable[ObjectInfo]: ...
    def get(self, bucket: str, key: str, *, range: str | None = None) -> Awaitable[bytes]: ...
    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | bytearray | memoryview | str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        storage_class: str | None = None,
    ) -> Awaitable[dict[str, str | None]]: ...
    def upload_file(
        self,
        filename: str | os.PathLike[str],
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        storage_class: str | None = None,
        callback: Callable[[int], object] | None = None,
    ) -> Awaitable[dict[str, str | None]]: ...
    def download_file(self, bucket: str, key: str, filename: str | os.PathLike[str]) -> Awaitable[int]: ...
    def delete(self, bucket: str, *keys: str) -> Awaitable[int]: ...
    def delete_prefix(self, bucket: str, prefix: str) -> Awaitable[int]: ...
    def presign_get(self, bucket: str, key: str, expires_in: int = 3600) -> Awaitable[str]: ...
    def presign_put(self, bucket: str, key: str, expires_in: int = 3600) -> Awaitable[str]: ...
    def presign_post(
        self,
        bucket: str,
        key: str,
        *,
        expires_in: int = 3600,
        content_type: str | None = None,
        max_size: int | None = None,
    ) -> Awaitable[dict[str, Any]]: ...
    def list(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        start_after: str | None = None,
        page_size: int | None = None,
    ) -> AsyncObjectIterator: ...
    def cp(self, src: _Location, dst: _Location, **options: Unpack[_CopyOptions]) -> Awaitable[TransferSummary]: ...
    def sync(self, src: _Location, dst: _Location, **options: Unpack[_SyncOptions]) -> Awaitable[TransferSummary]: ...
    def mv(self, src: _Location, dst: _Location, **options: Unpack[_CopyOptions]) -> Awaitable[TransferSummary]: ...
    def rm(self, target: _Location, **options: Unpack[_RemoveOptions]) -> Awaitable[TransferSummary]: ...
    def create_bucket(self, bucket: str) -> Awaitable[None]: ...
    def delete_bucket(self, bucket: str) -> Awaitable[None]: ...

# ---- SES, SNS and SNS webhook verification (src/ses.rs, src/sns.rs, src/sns_verify.rs) ----

__all__ += [
    "AsyncSesClient",
    "AsyncSnsClient",
    "SesClient",
    "SesEvent",
    "SnsClient",
    "SnsMessage",
    "SnsVerifier",
]

_Recipient = str | tuple[str | None, str] | Any
_Recipients = _Recipient | Iterable[_Recipient]
_Body = bytes | bytearray | memoryview | str
_Attribute = str | int | float | bytes | bytearray | list[Any] | tuple[Any, ...] | Mapping[str, Any]

@final
class SesClient:
    def __new__(cls, config: Config | None = None) -> SesClient: ...
    @property
    def config(self) -> Config: ...
    def send_email(
        self,
        e_from: _Recipient,
        subject: str,
        to: _Recipients | None = None,
        text_body: str = "",
        html_body: str | None = None,
        *,
        cc: _Recipients | None = None,
        bcc: _Recipients | None = None,
        reply_to: _Recipients | None = None,
        attachments: Iterable[Mapping[str, Any] | Any] | None = None,
        unsubscribe_link: str | None = None,
        configuration_set: str | None = None,
        message_tags: Mapping[str, Any] | None = None,
        smtp_headers: Mapping[str, str] | None = None,
    ) -> str: ...
    def create_email_identity(self, identity: str) -> None: ...

@final
class AsyncSesClient:
    def __new__(cls, config: Config | None = None) -> AsyncSesClient: ...
    @property
    def config(self) -> Config: ...
    def send_email(
        self,
        e_from: _Recipient,
        subject: str,
        to: _Recipients | None = None,
        text_body: str = "",
        html_body: str | None = None,
        *,
        cc: _Recipients | None = None,
        bcc: _Recipients | None = None,
        reply_to: _Recipients | None = None,
        attachments: Iterable[Mapping[str, Any] | Any] | None = None,
        unsubscribe_link: str | None = None,
        configuration_set: str | None = None,
        message_tags: Mapping[str, Any] | None = None,
        smtp_headers: Mapping[str, str] | None = None,
    ) -> Awaitable[str]: ...
    def create_email_identity(self, identity: str) -> Awaitable[None]: ...

@final
class SnsClient:
    def __new__(cls, config: Config | None = None) -> SnsClient: ...
    @property
    def config(self) -> Config: ...
    def publish(
        self,
        topic_arn: str,
        message: str,
        *,
        subject: str | None = None,
        message_attributes: Mapping[str, _Attribute] | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
    ) -> str: ...
    def create_topic(self, name: str) -> str: ...
    def delete_topic(self, topic_arn: str) -> None: ...
    def subscribe(self, topic_arn: str, protocol: str, endpoint: str) -> str: ...

@final
class AsyncSnsClient:
    def __new__(cls, config: Config | None = None) -> AsyncSnsClient: ...
    @property
    def config(self) -> Config: ...
    def publish(
        self,
        topic_arn: str,
        message: str,
        *,
        subject: str | None = None,
        message_attributes: Mapping[str, _Attribute] | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
    ) -> Awaitable[str]: ...
    def create_topic(self, name: str) -> Awaitable[str]: ...
    def delete_topic(self, topic_arn: str) -> Awaitable[None]: ...
    def subscribe(self, topic_arn: str, protocol: str, endpoint: str) -> Awaitable[str]: ...

@final
class SesEvent:
    @property
    def event_type(self) -> str: ...
    @property
    def message_id(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def destination(self) -> list[str]: ...
    @property
    def tags(self) -> dict[str, list[str]]: ...
    @property
    def recipients(self) -> list[str]: ...
    @property
    def bounce_type(self) -> str | None: ...
    @property
    def bounce_sub_type(self) -> str | None: ...
    @property
    def unsubscribe(self) -> bool: ...
    @property
    def link(self) -> str | None: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class SnsMessage:
    @property
    def type(self) -> Literal["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"]: ...
    @property
    def message_id(self) -> str: ...
    @property
    def topic_arn(self) -> str: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def message(self) -> str: ...
    @property
    def timestamp(self) -> str: ...
    @property
    def sent_at(self) -> datetime.datetime | None: ...
    @property
    def signature_version(self) -> Literal[1, 2]: ...
    @property
    def signing_cert_url(self) -> str: ...
    @property
    def subscribe_url(self) -> str | None: ...
    @property
    def token(self) -> str | None: ...
    @property
    def unsubscribe_url(self) -> str | None: ...
    @property
    def message_attributes(self) -> dict[str, Any] | None: ...
    @property
    def ses_event(self) -> SesEvent | None: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class SnsVerifier:
    def __new__(
        cls,
        *,
        topics: list[str] | None = None,
        max_age: float | None = None,
        ca_file: str | os.PathLike[str] | None = None,
        connect_to: str | None = None,
        timeout: float | None = None,
    ) -> SnsVerifier: ...
    def verify(self, body: _Body) -> SnsMessage: ...
    def verify_async(self, body: _Body) -> Awaitable[SnsMessage]: ...
    def confirm_subscription(self, message: SnsMessage) -> str: ...
    def confirm_subscription_async(self, message: SnsMessage) -> Awaitable[str]: ...

# SigV4 for requests that another HTTP client sends (src/auth.rs; cirrus_aws.auth).
def config_credentials(config: Config) -> Credentials | Awaitable[Credentials]: ...
def sign_headers(
    method: str,
    url: str,
    headers: Mapping[str, str | bytes] | Iterable[tuple[str, str | bytes]],
    body: bytes | str | None,
    region: str,
    service: str,
    credentials: Credentials | Config,
    *,
    payload_hash: str | None = None,
    time: datetime.datetime | float | None = None,
) -> dict[str, str]: ...
