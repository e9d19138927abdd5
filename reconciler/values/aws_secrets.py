"""Values from AWS Secrets Manager, read in as few calls as possible, and version identities
read from metadata alone (for plans that read no value).

Values: every source wanting a secret's current version is read by BatchGetSecretValue (20
secrets a call), the others by GetSecretValue; one read per distinct secret and version,
however many `json_key`s of it the manifest uses. Versions: DescribeSecret only, once per
secret. A failure is the affected sources' SourceError, never an exception; one that stops a
region (unreachable endpoint, rejected credentials) is reported once per source, not retried.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.errors import SourceError
from reconciler.model import AwsSource
from reconciler.values.aws_client import (
    CURRENT,
    DENIED_CODES,
    Problem,
    Read,
    RefusedError,
    RegionDownError,
    call,
    clean_code,
    deleted,
    describe_problem,
    new_client,
    read_problem,
    region_of,
)

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

BATCH_SIZE = 20  # BatchGetSecretValue's limit on SecretIdList
_SHOWN_KEYS = 10
# What every answer of the operation holds: anything else did not come from Secrets Manager.
_BATCH_KEYS = ("SecretValues", "Errors")
_READ_KEYS = ("ARN", "Name")


@dataclass(frozen=True, slots=True)
class _Payload:
    text: str | None = field(repr=False)
    binary: bytes | None = field(repr=False)


_Got = _Payload | Problem


class AwsSecretsReader:
    """Reads the AWS sources of one run; one client per region, built on first use."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self._clients: dict[str, SecretsManagerClient] = {}
        self._down: dict[str, Problem] = {}
        self._no_batch: set[str] = set()  # regions where BatchGetSecretValue is denied
        self._operations: list[str] = []

    @property
    def calls(self) -> int:
        """API calls made, each counted once however often botocore retried it."""
        return len(self._operations)

    @property
    def operations(self) -> tuple[str, ...]:
        """The operation of each call made, in order."""
        return tuple(self._operations)

    def values(self, sources: Sequence[AwsSource]) -> dict[AwsSource, bytes | SourceError]:
        out: dict[AwsSource, bytes | SourceError] = {}
        reads: dict[Read, list[AwsSource]] = {}
        for source in dict.fromkeys(sources):
            region = region_of(source, self._environ)
            if isinstance(region, Problem):
                out[source] = region.error(source)
                continue
            stage = source.version_stage
            if source.version_id is None and stage == CURRENT:
                stage = None  # the same read as no stage at all
            read = Read(region, source.secret_id, source.version_id, stage)
            reads.setdefault(read, []).append(source)
        for region in dict.fromkeys(r.region for r in reads):
            for read, got in self._fetch(region, [r for r in reads if r.region == region]).items():
                out.update((s, _extract(got, s)) for s in reads[read])
        return out

    def versions(self, sources: Sequence[AwsSource]) -> dict[AwsSource, str | SourceError]:
        """`aws:<VersionId>` of each source's version, from DescribeSecret alone: it needs no
        permission to read values and, unlike ListSecrets, is not minutes behind."""
        out: dict[AwsSource, str | SourceError] = {}
        wanted: dict[Read, list[AwsSource]] = {}
        for source in dict.fromkeys(sources):
            if source.version_id is not None:  # names itself: no call needed
                out[source] = f"aws:{source.version_id}"
                continue
            region = region_of(source, self._environ)
            if isinstance(region, Problem):
                out[source] = region.error(source)
            else:
                wanted.setdefault(Read(region, source.secret_id), []).append(source)
        for read, group in wanted.items():
            stages = self._describe(read)
            out.update((s, _identity(stages, read, s)) for s in group)
        return out

    def _fetch(self, region: str, reads: list[Read]) -> dict[Read, _Got]:
        found: dict[Read, _Got] = {}
        try:
            client = self._client(region)
            current = [r for r in reads if r.current]
            for start in range(0, len(current), BATCH_SIZE):
                found.update(self._batch(client, current[start : start + BATCH_SIZE]))
            for read in reads:
                if read not in found:
                    found[read] = self._get(client, read)
        except RegionDownError as down:
            self._down[region] = down.problem
            found.update((r, down.problem) for r in reads if r not in found)
        return found

    def _batch(self, client: SecretsManagerClient, reads: list[Read]) -> dict[Read, _Got]:
        """What BatchGetSecretValue answers for `reads`; the caller reads the rest singly (a
        secret the answer does not name, or all of them if the batch call is refused)."""
        if len(reads) < 2 or reads[0].region in self._no_batch:
            return {}
        by_id = {r.secret_id: r for r in reads}
        found: dict[Read, _Got] = {}
        args: dict[str, Any] = {"SecretIdList": list(by_id)}
        while True:
            try:
                answer = call(client.batch_get_secret_value, client, reads[0], _BATCH_KEYS, **args)
            except RefusedError as refused:
                if refused.code in DENIED_CODES:  # GetSecretValue alone may be allowed
                    self._no_batch.add(reads[0].region)
                return found
            for entry in answer.get("SecretValues", ()):
                for secret_id, read in by_id.items():
                    if _names(secret_id, entry.get("Name", ""), entry.get("ARN", "")):
                        found[read] = _payload(entry, read)
            for error in answer.get("Errors", ()):
                errored = by_id.get(error.get("SecretId", ""))
                if errored is not None and errored not in found:
                    message = str(error.get("Message", ""))
                    code = clean_code(str(error.get("ErrorCode", "")), message)
                    found[errored] = read_problem(code, message, errored)
            if not answer.get("NextToken"):
                return found
            args["NextToken"] = answer["NextToken"]

    def _get(self, client: SecretsManagerClient, read: Read) -> _Got:
        args: dict[str, Any] = {"SecretId": read.secret_id}
        if read.version_id is not None:
            args["VersionId"] = read.version_id
        if read.version_stage is not None:
            args["VersionStage"] = read.version_stage
        try:
            return _payload(call(client.get_secret_value, client, read, _READ_KEYS, **args), read)
        except RefusedError as refused:
            return read_problem(refused.code, refused.message, read)

    def _describe(self, read: Read) -> dict[str, list[str]] | Problem:
        try:
            client = self._client(read.region)
            answer = call(client.describe_secret, client, read, _READ_KEYS, SecretId=read.secret_id)
        except RegionDownError as down:
            self._down[read.region] = down.problem
            return down.problem
        except RefusedError as refused:
            return describe_problem(refused.code, refused.message, read)
        if answer.get("DeletedDate") is not None:
            return deleted(read)
        return {str(k): list(v) for k, v in answer.get("VersionIdsToStages", {}).items()}

    def _client(self, region: str) -> SecretsManagerClient:
        if region in self._down:
            raise RegionDownError(self._down[region])
        if region not in self._clients:
            self._clients[region] = new_client(self._environ, region, self._count)
        return self._clients[region]

    def _count(self, model: Any, **_: Any) -> None:
        # A before-call hook: returning anything but None would replace the call's answer.
        self._operations.append(str(model.name))


def _names(wanted: str, name: str, arn: str) -> bool:
    """Whether `wanted` (a name, an ARN, or an ARN without AWS's 6-character suffix) names
    the secret with this name and ARN."""
    return wanted in (name, arn) or (
        wanted.startswith("arn:") and arn.startswith(wanted + "-") and len(arn) == len(wanted) + 7
    )


def _payload(answer: Mapping[str, Any], read: Read) -> _Got:
    text, binary = answer.get("SecretString"), answer.get("SecretBinary")
    if text is None and binary is None:
        return Problem(f"{read.place()} has no value", "put a value into the secret")
    return _Payload(text, bytes(binary) if binary is not None else None)


def _extract(got: _Got, source: AwsSource) -> bytes | SourceError:
    if isinstance(got, Problem):
        return got.error(source)
    key = source.json_key
    if key is None:
        return got.binary if got.binary is not None else (got.text or "").encode()
    where = f"aws:{source.secret_id}"
    if got.text is None:
        return SourceError(
            source.location,
            f'{where} holds binary data, so it has no JSON key "{key}"',
            hint="drop `json_key` to use the whole value",
        )
    try:
        document = json.loads(got.text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return SourceError(
            source.location,
            f'{where} is not a JSON object, so it has no key "{key}"',
            hint="drop `json_key` to use the whole value",
        )
    if key not in document:
        keys = sorted(document)
        shown = ", ".join(f'"{k}"' for k in keys[:_SHOWN_KEYS]) or "none"
        more = f" and {len(keys) - _SHOWN_KEYS} more" if len(keys) > _SHOWN_KEYS else ""
        return SourceError(
            source.location,
            f'{where} has no JSON key "{key}" (its keys: {shown}{more})',
            hint="json_key matches exactly, case included",
        )
    value = document[key]
    if not isinstance(value, str):
        kinds = {bool: "a boolean", int: "a number", float: "a number", dict: "an object"}
        what = "null" if value is None else kinds.get(type(value), "an array")
        return SourceError(
            source.location,
            f'{where} key "{key}" holds {what}, not a string',
            hint="store the value as a JSON string",
        )
    return value.encode()


def _identity(
    stages: dict[str, list[str]] | Problem, read: Read, source: AwsSource
) -> str | SourceError:
    if isinstance(stages, Problem):
        return stages.error(source)
    stage = source.version_stage or CURRENT
    found = next((v for v, labels in stages.items() if stage in labels), None)
    if found is None:
        return SourceError(
            source.location,
            f"aws:{source.secret_id} in {read.region} has no version labelled {stage}",
            hint="check version_stage: labels match exactly, case included",
        )
    return f"aws:{found}"
