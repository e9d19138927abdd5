"""One Secrets Manager client per region, built from a given environment, and what its
failures mean in our words.

boto3 (the `aws` extra) is imported here only, inside functions, so the rest of the tool never
loads it. Credentials, region and endpoint come from the `environ` given, never from the
process environment, `AWS_PROFILE` or `~/.aws`: what a plan reads must not depend on whose
machine runs it. No message carries a value or the service's own error text (only its error
code), so nothing the service echoes can leak.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from reconciler.errors import SourceError
from reconciler.model import AwsSource

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

CURRENT = "AWSCURRENT"
TIMEOUT = 10.0  # seconds, to connect and to read
ATTEMPTS = 3  # botocore's count, the first try included
DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied"})
_AUTH_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "ExpiredToken",
        "ExpiredTokenException",
        "AuthFailure",
    }
)
REGION_HINT = "add `region:` to the value, or set AWS_REGION in the job's environment"


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a source has no value (or no version): one sentence and what to do."""

    detail: str
    hint: str | None = None

    def error(self, source: AwsSource) -> SourceError:
        return SourceError(source.location, self.detail, hint=self.hint)


@dataclass(frozen=True, slots=True)
class Read:
    """One read: a secret at one version in one region, shared by every source wanting it."""

    region: str
    secret_id: str
    version_id: str | None = None
    version_stage: str | None = None  # None with no version_id: the current version

    @property
    def current(self) -> bool:
        return self.version_id is None and self.version_stage is None

    def place(self) -> str:
        version = "" if self.current else f" version {self.version_id or self.version_stage}"
        return f"aws:{self.secret_id}{version} in {self.region}"


class RegionDownError(Exception):
    """The region's endpoint or the credentials failed: nothing more is asked there."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


class RefusedError(Exception):
    """The service refused one call: `code` is its error code; `message` is never shown."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


def region_of(source: AwsSource, environ: Mapping[str, str]) -> str | Problem:
    region = source.region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if region:
        return region
    return Problem(
        f"aws:{source.secret_id} names no region, and neither AWS_REGION nor "
        "AWS_DEFAULT_REGION is set",
        REGION_HINT,
    )


def _quiet_sdk_logs() -> None:
    """botocore logs request and response bodies (SecretString included) at DEBUG: a program
    that embeds reconciler with its root logger at DEBUG would write values to its logs. The
    SDK's loggers never go below INFO while reconciler reads values."""
    for name in ("botocore", "boto3", "s3transfer"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


def new_client(
    environ: Mapping[str, str], region: str, on_call: Callable[..., None]
) -> SecretsManagerClient:
    """A client for `region`; `on_call` hears every operation (before-call). Raises
    RegionDownError when none can be built: no boto3, no credentials, a bad region."""
    try:
        import boto3.session
        import botocore.session
        from botocore.config import Config
        from botocore.configprovider import ConstantProvider
        from botocore.exceptions import BotoCoreError
    except ImportError:
        raise RegionDownError(
            Problem(
                "reading AWS Secrets Manager needs boto3, which is not installed",
                "install the aws extra (pip install 'github-secrets-reconciler[aws]')",
            )
        ) from None
    key = environ.get("AWS_ACCESS_KEY_ID")
    secret = environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        raise RegionDownError(
            Problem(
                "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set",
                "set them in the job's environment (aws-actions/configure-aws-credentials "
                "does, from an OIDC role)",
            )
        )
    endpoint = environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or environ.get("AWS_ENDPOINT_URL")
    if endpoint and not _usable(endpoint):
        raise RegionDownError(
            Problem(
                f"the AWS endpoint {endpoint_text(endpoint)} is not a usable URL",
                "set AWS_ENDPOINT_URL_SECRETS_MANAGER or AWS_ENDPOINT_URL to "
                "http(s)://host[:port], or unset them to use AWS itself",
            )
        )
    _quiet_sdk_logs()
    core = botocore.session.Session()
    store = core.get_component("config_store")
    # Neither AWS_PROFILE nor ~/.aws may steer a run (an unknown profile would even break
    # it); the endpoint is ours or AWS's default, never one configured elsewhere.
    pinned = {
        "profile": None,
        "config_file": os.devnull,
        "credentials_file": os.devnull,
        "ignore_configured_endpoint_urls": True,
    }
    for name, value in pinned.items():
        store.set_config_provider(name, ConstantProvider(value))
    config = Config(
        connect_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
        retries={"max_attempts": ATTEMPTS, "mode": "standard"},
    )
    try:
        client = boto3.session.Session(botocore_session=core).client(
            "secretsmanager",
            region_name=region,
            endpoint_url=endpoint or None,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=environ.get("AWS_SESSION_TOKEN") or None,
            config=config,
        )
    except (BotoCoreError, ValueError):
        raise RegionDownError(
            Problem(
                f'cannot use AWS region "{region}" with endpoint {endpoint_text(endpoint)}',
                f"{REGION_HINT}; check AWS_ENDPOINT_URL",
            )
        ) from None
    client.meta.events.register("before-call.secretsmanager", on_call)
    return client


def call(
    op: Callable[..., Any],
    client: SecretsManagerClient,
    read: Read,
    expect: tuple[str, ...],
    **args: Any,
) -> Any:
    """`op(**args)`'s answer, which holds one of the `expect` keys. Raises RefusedError for a
    refusal of this call, and RegionDownError when nothing more can be asked in the region."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionError,
        HTTPClientError,
        ParamValidationError,
    )

    where = f"{endpoint_text(client.meta.endpoint_url)} ({read.region})"
    # botocore reads a body that is not JSON (a proxy's or captive portal's page) as {}.
    down = Problem(
        f"the endpoint {where} did not answer like AWS Secrets Manager",
        "check AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL, and any proxy between",
    )
    try:
        answer = op(**args)
        if any(key in answer for key in expect):
            return answer
    except ClientError as e:
        body = e.response.get("Error", {})
        code = clean_code(str(body.get("Code", "")), str(body.get("Message", "")))
        if code not in _AUTH_CODES:
            raise RefusedError(code, str(body.get("Message", ""))) from None
        down = Problem(
            f"AWS Secrets Manager at {where} rejected the credentials ({code})",
            "check that AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN are "
            "current and belong together",
        )
    except ParamValidationError:
        raise RefusedError("InvalidParameterException", "") from None
    except (ConnectionError, HTTPClientError):
        down = Problem(
            f"cannot reach AWS Secrets Manager at {where}",
            "check the network, the region and AWS_ENDPOINT_URL, then re-run",
        )
    except BotoCoreError:
        pass  # an answer botocore cannot parse: `down` says so
    raise RegionDownError(down)


def clean_code(code: str, message: str) -> str:
    """The service's error code, as a safe identifier."""
    # Some AWS-compatible endpoints answer a JSON-protocol call with an XML error, which
    # botocore reports as the bare HTTP status; its own <Code> says what happened.
    if not code.isalpha():
        inner = re.search(r"<Code>([A-Za-z]{1,64})</Code>", message)
        code = inner.group(1) if inner else code
    if code.isdigit():
        return f"HTTP {code}"
    return code if re.fullmatch(r"[A-Za-z0-9.]{1,64}", code) else "an unnamed error"


def read_problem(code: str, message: str, read: Read) -> Problem:
    """What a refused GetSecretValue (alone or in a batch) means for `read`."""
    if code in DENIED_CODES:
        return Problem(
            f"access denied reading {read.place()} (needs secretsmanager:GetSecretValue)",
            "grant secretsmanager:GetSecretValue on this secret (and kms:Decrypt on its key, "
            "if it has its own) to the role reconciler runs as",
        )
    if code == "ResourceNotFoundException" and "secret value" in message.lower():
        label = read.version_id or read.version_stage or CURRENT
        return Problem(
            f"aws:{read.secret_id} in {read.region} has no version {label}",
            "check version_id / version_stage, or put a value into the secret",
        )
    if code == "ResourceNotFoundException":
        return Problem(f"no secret {read.place()}", "check the name or ARN, region and version")
    if code == "InvalidRequestException" and "delet" in message.lower():
        return deleted(read)
    if code == "DecryptionFailure":
        return Problem(
            f"AWS cannot decrypt {read.place()} with its KMS key (DecryptionFailure)",
            "grant kms:Decrypt on the secret's KMS key to the role reconciler runs as",
        )
    return Problem(
        f"AWS Secrets Manager refused to read {read.place()} ({code})",
        "check the secret id, version_id (32-64 characters) and version_stage",
    )


def describe_problem(code: str, message: str, read: Read) -> Problem:
    """What a refused DescribeSecret means for `read`."""
    if code in DENIED_CODES:
        return Problem(
            f"access denied describing {read.place()} (needs secretsmanager:DescribeSecret)",
            "grant secretsmanager:DescribeSecret on this secret to the role the plan runs as",
        )
    if code in {"ResourceNotFoundException", "InvalidRequestException"}:
        return read_problem(code, message, read)
    return Problem(
        f"AWS Secrets Manager refused to describe {read.place()} ({code})",
        "check the secret id",
    )


def deleted(read: Read) -> Problem:
    return Problem(
        f"aws:{read.secret_id} in {read.region} is scheduled for deletion",
        "restore it (aws secretsmanager restore-secret) or point the manifest elsewhere",
    )


def _usable(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def endpoint_text(url: str | None) -> str:
    """Where an endpoint points, without anything else a URL could carry (user, password)."""
    if not url:
        return "(AWS's default endpoint)"
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an unparsable URL)"
    return f"{parts.scheme}://{parts.hostname}{port}"
