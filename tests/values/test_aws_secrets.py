"""The AWS Secrets Manager source against a real moto server on 127.0.0.1, driven by boto3.

The server checks IAM from the start of the module: `admin` may do anything, `describer` only
DescribeSecret (a pull-request plan's role), `getter` only GetSecretValue (no batch). What
the reader asked for is checked twice: by its own botocore hook (`operations`) and by the
server's request log.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from reconciler.errors import SourceError
from reconciler.model import AwsSource, Location
from reconciler.values.aws_secrets import AwsSecretsReader
from tests.support.moto_server import ACCOUNT, REGION, Credentials, MotoServer
from tests.support.paths import REPO_ROOT

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

CANARY = "canary-AwsValue-4c1d9e7f0a2b"
AT = Location("secrets/org.yaml", 7, 14)


@dataclass(frozen=True)
class Aws:
    server: MotoServer
    admin: Credentials
    describer: Credentials
    getter: Credentials
    sm: SecretsManagerClient  # as admin, to set the secrets up

    def env(self, who: Credentials | None = None, **extra: str) -> dict[str, str]:
        return {**(who or self.admin).environ(self.server.url), **extra}


@pytest.fixture(scope="module")
def aws(moto_server: MotoServer) -> Aws:
    admin = moto_server.create_identity("admin", ["*"])
    describer = moto_server.create_identity("describer", ["secretsmanager:DescribeSecret"])
    getter = moto_server.create_identity("getter", ["secretsmanager:GetSecretValue"])
    moto_server.enable_auth()
    sm: SecretsManagerClient = moto_server.client("secretsmanager", admin)
    return Aws(moto_server, admin, describer, getter, sm)


@pytest.fixture
def name() -> str:
    """A prefix of its own for each test's secrets: the server is shared by the module."""
    return f"t{uuid.uuid4().hex[:10]}"


def src(secret_id: str, **kw: Any) -> AwsSource:
    return AwsSource(secret_id, AT, **kw)


def errors(found: Mapping[AwsSource, object]) -> dict[str, str]:
    """secret id (and key) -> the error's rendered text, after checking it shows no value."""
    out = {}
    for source, got in found.items():
        assert isinstance(got, SourceError), f"{source.describe()} was read"
        shown = " ".join((got.render(), repr(got), str(got.args), got.hint or ""))
        assert CANARY not in shown
        assert got.location == AT
        out[source.describe()] = got.detail
    return out


def test_values_are_exact_bytes_in_one_batch(aws: Aws, name: str) -> None:
    aws.sm.create_secret(Name=f"{name}/plain", SecretString=f"{CANARY}-plain ünï")
    aws.sm.create_secret(Name=f"{name}/bin", SecretBinary=b"\x00\xff\x01" + CANARY.encode())
    aws.sm.create_secret(Name=f"{name}/json", SecretString=f'{{"token": "{CANARY}", "u": "me"}}')
    plain, binary = src(f"{name}/plain"), src(f"{name}/bin")
    token, user = src(f"{name}/json", json_key="token"), src(f"{name}/json", json_key="u")
    aws.server.start_recording()
    reader = AwsSecretsReader(aws.env())
    found = reader.values([plain, binary, token, user, plain])
    assert aws.server.stop_recording() == ["BatchGetSecretValue"]
    assert found == {
        plain: f"{CANARY}-plain ünï".encode(),
        binary: b"\x00\xff\x01" + CANARY.encode(),
        token: CANARY.encode(),
        user: b"me",
    }
    assert reader.operations == ("BatchGetSecretValue",)
    assert reader.calls == 1


def test_fifty_sources_over_forty_five_secrets_take_three_batches(aws: Aws, name: str) -> None:
    for i in range(45):
        aws.sm.create_secret(Name=f"{name}/s{i}", SecretString=f'{{"a": "{i}a", "b": "{i}b"}}')
    sources = [src(f"{name}/s{i}", json_key="a") for i in range(45)]
    sources += [src(f"{name}/s{i}", json_key="b") for i in range(5)]
    aws.server.start_recording()
    reader = AwsSecretsReader(aws.env())
    found = reader.values(sources)
    assert aws.server.stop_recording() == ["BatchGetSecretValue"] * 3
    assert reader.calls == 3
    assert [found[s] for s in sources] == [f"{i}a".encode() for i in range(45)] + [
        f"{i}b".encode() for i in range(5)
    ]


def test_names_arns_and_partial_arns_are_matched_in_a_batch(aws: Aws, name: str) -> None:
    arn = aws.sm.create_secret(Name=f"{name}/x", SecretString="by-arn")["ARN"]
    aws.sm.create_secret(Name=f"{name}/y", SecretString="by-name")
    by_arn, partial, by_name = src(arn), src(arn[:-7]), src(f"{name}/y")
    assert arn.startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:")
    reader = AwsSecretsReader(aws.env())
    found = reader.values([by_arn, partial, by_name])
    assert found == {by_arn: b"by-arn", partial: b"by-arn", by_name: b"by-name"}
    assert reader.operations == ("BatchGetSecretValue",)


def test_stages_and_version_ids_are_read_one_by_one(aws: Aws, name: str) -> None:
    first = aws.sm.create_secret(Name=name, SecretString="one")["VersionId"]
    aws.sm.put_secret_value(SecretId=name, SecretString="two")
    aws.sm.put_secret_value(SecretId=name, SecretString="three", VersionStages=["STAGED"])
    sources = {
        "current": src(name),
        "explicit": src(name, version_stage="AWSCURRENT"),  # the same read as `current`
        "previous": src(name, version_stage="AWSPREVIOUS"),
        "staged": src(name, version_stage="STAGED"),
        "first": src(name, version_id=first),
    }
    reader = AwsSecretsReader(aws.env())
    found = reader.values(list(sources.values()))
    assert {k: found[s] for k, s in sources.items()} == {
        "current": b"two",
        "explicit": b"two",
        "previous": b"one",
        "staged": b"three",
        "first": b"one",
    }
    assert reader.operations == ("GetSecretValue",) * 4


def test_regions_come_from_the_source_else_the_environment(aws: Aws, name: str) -> None:
    us = aws.server.client("secretsmanager", aws.admin, region="us-east-1")
    us.create_secret(Name=name, SecretString="in-us")
    aws.sm.create_secret(Name=name, SecretString="in-eu")
    here, there = src(name), src(name, region="us-east-1")
    env = aws.env()
    env["AWS_DEFAULT_REGION"] = env.pop("AWS_REGION")
    reader = AwsSecretsReader(env)
    assert reader.values([here, there]) == {here: b"in-eu", there: b"in-us"}
    nowhere = AwsSecretsReader({k: v for k, v in env.items() if "REGION" not in k})
    assert errors(nowhere.values([here])) == {
        f"aws:{name}": f"aws:{name} names no region, and neither AWS_REGION nor "
        "AWS_DEFAULT_REGION is set"
    }
    assert errors(nowhere.versions([here])) == errors(nowhere.values([here]))
    assert nowhere.calls == 0


def test_what_cannot_be_read_is_said_per_source_without_the_value(aws: Aws, name: str) -> None:
    many = {f"k{i:02}": CANARY for i in range(12)}
    aws.sm.create_secret(Name=f"{name}/json", SecretString=str(many).replace("'", '"'))
    aws.sm.create_secret(Name=f"{name}/text", SecretString=f"{CANARY} not json")
    aws.sm.create_secret(Name=f"{name}/bin", SecretBinary=CANARY.encode())
    aws.sm.create_secret(Name=f"{name}/num", SecretString=f'{{"n": 1, "c": "{CANARY}"}}')
    aws.sm.create_secret(Name=f"{name}/gone", SecretString=CANARY)
    aws.sm.delete_secret(SecretId=f"{name}/gone", RecoveryWindowInDays=7)
    reader = AwsSecretsReader(aws.env())
    found = reader.values(
        [
            src(f"{name}/missing"),
            src(f"{name}/gone"),
            src(f"{name}/json", json_key="token"),
            src(f"{name}/text", json_key="token"),
            src(f"{name}/bin", json_key="token"),
            src(f"{name}/num", json_key="n"),
            src(f"{name}/text", version_stage="NOPE"),
        ]
    )
    keys = ", ".join(f'"k{i:02}"' for i in range(10))
    assert errors(found) == {
        f"aws:{name}/missing": f"no secret aws:{name}/missing in {REGION}",
        f"aws:{name}/gone": f"aws:{name}/gone in {REGION} is scheduled for deletion",
        f"aws:{name}/json#token": f'aws:{name}/json has no JSON key "token" (its keys: {keys}'
        " and 2 more)",
        f"aws:{name}/text#token": f'aws:{name}/text is not a JSON object, so it has no key "token"',
        f"aws:{name}/bin#token": f'aws:{name}/bin holds binary data, so it has no JSON key "token"',
        f"aws:{name}/num#n": f'aws:{name}/num key "n" holds a number, not a string',
        f"aws:{name}/text@NOPE": f"no secret aws:{name}/text version NOPE in {REGION}",
    }
    assert reader.operations == ("BatchGetSecretValue", "GetSecretValue")


def test_versions_need_describe_only_and_never_read_a_value(aws: Aws, name: str) -> None:
    created = aws.sm.create_secret(Name=f"{name}/a", SecretString=f'{{"k": "{CANARY}"}}')
    aws.sm.create_secret(Name=f"{name}/b", SecretString=CANARY)
    sources = [
        src(f"{name}/a", json_key="k"),
        src(f"{name}/a", json_key="other"),  # same secret: one call
        src(f"{name}/b"),
        src(f"{name}/b", version_id="0" * 32),  # names itself: no call
    ]
    aws.server.start_recording()
    reader = AwsSecretsReader(aws.env(aws.describer))
    found = reader.versions(sources)
    assert aws.server.stop_recording() == ["DescribeSecret", "DescribeSecret"]
    assert reader.operations == ("DescribeSecret", "DescribeSecret")
    assert found[sources[0]] == found[sources[1]] == f"aws:{created['VersionId']}"
    assert str(found[sources[2]]).startswith("aws:") and found[sources[2]] != found[sources[0]]
    assert found[sources[3]] == "aws:" + "0" * 32
    denied = AwsSecretsReader(aws.env(aws.describer)).values(sources[:1])
    assert errors(denied) == {
        f"aws:{name}/a#k": f"access denied reading aws:{name}/a in {REGION} "
        "(needs secretsmanager:GetSecretValue)"
    }


def test_version_identity_changes_with_a_new_value_and_only_then(aws: Aws, name: str) -> None:
    first = aws.sm.create_secret(Name=name, SecretString="one")["VersionId"]
    aws.sm.create_secret(Name=f"{name}-other", SecretString="x")
    current, previous = src(name), src(name, version_stage="AWSPREVIOUS")

    def identity(source: AwsSource) -> object:
        return AwsSecretsReader(aws.env(aws.describer)).versions([source])[source]

    assert identity(current) == f"aws:{first}"
    aws.sm.put_secret_value(SecretId=f"{name}-other", SecretString="y")
    aws.sm.update_secret(SecretId=name, Description="metadata only")
    assert identity(current) == f"aws:{first}"
    second = aws.sm.put_secret_value(SecretId=name, SecretString="two")["VersionId"]
    assert identity(current) == f"aws:{second}" != f"aws:{first}"
    assert identity(previous) == f"aws:{first}"


def test_versions_say_what_is_missing_or_deleted(aws: Aws, name: str) -> None:
    aws.sm.create_secret(Name=f"{name}/gone", SecretString=CANARY)
    aws.sm.delete_secret(SecretId=f"{name}/gone", RecoveryWindowInDays=7)
    aws.sm.create_secret(Name=f"{name}/here", SecretString=CANARY)
    reader = AwsSecretsReader(aws.env(aws.describer))
    found = reader.versions(
        [src(f"{name}/gone"), src(f"{name}/nope"), src(f"{name}/here", version_stage="BETA")]
    )
    assert errors(found) == {
        f"aws:{name}/gone": f"aws:{name}/gone in {REGION} is scheduled for deletion",
        f"aws:{name}/nope": f"no secret aws:{name}/nope in {REGION}",
        f"aws:{name}/here@BETA": f"aws:{name}/here in {REGION} has no version labelled BETA",
    }
    reader = AwsSecretsReader(aws.env(aws.getter))
    assert errors(reader.versions([src(f"{name}/here")])) == {
        f"aws:{name}/here": f"access denied describing aws:{name}/here in {REGION} "
        "(needs secretsmanager:DescribeSecret)"
    }


def test_a_denied_batch_falls_back_to_single_reads_once(aws: Aws, name: str) -> None:
    for i in range(25):
        aws.sm.create_secret(Name=f"{name}/{i}", SecretString=f"v{i}")
    sources = [src(f"{name}/{i}") for i in range(25)]
    reader = AwsSecretsReader(aws.env(aws.getter))
    found = reader.values(sources)
    assert [found[s] for s in sources] == [f"v{i}".encode() for i in range(25)]
    # The first batch is refused; the second chunk is not tried as a batch again.
    assert reader.operations == ("BatchGetSecretValue",) + ("GetSecretValue",) * 25


def test_rejected_credentials_stop_the_region_after_one_call(aws: Aws, name: str) -> None:
    stranger = Credentials("AKIAUNKNOWNKEY000000", "not-a-real-secret")
    sources = [src(f"{name}/{i}") for i in range(3)]
    reader = AwsSecretsReader(aws.env(stranger))
    said = (
        f"AWS Secrets Manager at {aws.server.url} ({REGION}) rejected the credentials "
        "(InvalidClientTokenId)"
    )
    assert set(errors(reader.values(sources)).values()) == {said}
    assert set(errors(reader.versions(sources)).values()) == {said}
    assert reader.calls == 1


@pytest.fixture
def dead_url() -> Iterator[str]:
    """A 127.0.0.1 port that refuses connections: bound (so nothing else takes it), never
    listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_an_unreachable_endpoint_is_one_error_for_all(aws: Aws, dead_url: str) -> None:
    sources = [src(f"s{i}") for i in range(30)] + [src("v", version_stage="AWSPREVIOUS")]
    reader = AwsSecretsReader(aws.env(AWS_ENDPOINT_URL=dead_url))
    said = {f"cannot reach AWS Secrets Manager at {dead_url} ({REGION})"}
    assert set(errors(reader.values(sources)).values()) == said
    assert set(errors(reader.versions(sources)).values()) == said
    assert reader.calls == 1  # every later read knew the region was down


class _Portal(BaseHTTPRequestHandler):
    """What a captive portal or a misconfigured proxy answers: a web page, status 200."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b"<html>Sign in to the hotel wifi</html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


def test_an_endpoint_that_is_not_secrets_manager_is_said_so(aws: Aws) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Portal) as portal:
        serving = threading.Thread(target=portal.serve_forever, daemon=True)
        serving.start()
        url = f"http://127.0.0.1:{portal.server_port}"
        reader = AwsSecretsReader(aws.env(AWS_ENDPOINT_URL=url))
        sources = [src("a"), src("b"), src("c", version_stage="AWSPENDING")]
        said = {f"the endpoint {url} ({REGION}) did not answer like AWS Secrets Manager"}
        assert set(errors(reader.values(sources)).values()) == said
        assert set(errors(reader.versions(sources)).values()) == said
        portal.shutdown()
    serving.join()
    assert reader.calls == 1


def test_what_aws_would_reject_is_said_before_any_call(aws: Aws, name: str) -> None:
    env = aws.env(AWS_ENDPOINT_URL="http://user:pass@127.0.0.1:99999")
    assert errors(AwsSecretsReader(env).values([src(name)])) == {
        f"aws:{name}": "the AWS endpoint (an unparsable URL) is not a usable URL"
    }
    reader = AwsSecretsReader(aws.env())
    found = reader.values([src(name, version_id="short"), src(name, region="eu west 1")])
    assert errors(found) == {
        f"aws:{name}@short": "AWS Secrets Manager refused to read "
        f"aws:{name} version short in {REGION} (InvalidParameterException)",
        f"aws:{name}": f'cannot use AWS region "eu west 1" with endpoint {aws.server.url}',
    }
    assert reader.calls == 0
    aws_itself = {k: v for k, v in aws.env().items() if k != "AWS_ENDPOINT_URL"}
    assert errors(AwsSecretsReader(aws_itself).versions([src(name, region="eu west 1")])) == {
        f"aws:{name}": 'cannot use AWS region "eu west 1" with endpoint (AWS\'s default endpoint)'
    }


def test_a_missing_version_is_not_a_missing_secret(aws: Aws, name: str) -> None:
    aws.sm.create_secret(Name=name, SecretString=CANARY)
    aws.sm.create_secret(Name=f"{name}-empty")  # a secret without any value yet
    unknown = "f" * 32
    reader = AwsSecretsReader(aws.env())
    found = reader.values([src(name, version_id=unknown), src(f"{name}-empty")])
    assert errors(found) == {
        f"aws:{name}@{unknown}": f"aws:{name} in {REGION} has no version {unknown}",
        f"aws:{name}-empty": f"aws:{name}-empty in {REGION} has no version AWSCURRENT",
    }


def test_the_service_endpoint_wins_and_the_process_environment_is_ignored(
    aws: Aws, name: str, dead_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.sm.create_secret(Name=name, SecretString="here")
    for var, value in {
        "AWS_PROFILE": "no-such-profile",
        "AWS_ENDPOINT_URL": dead_url,
        "AWS_ACCESS_KEY_ID": "AKIAPROCESSENV000000",
        "AWS_SECRET_ACCESS_KEY": "process-env",
        "AWS_REGION": "ap-south-1",
    }.items():
        monkeypatch.setenv(var, value)
    env = aws.env(AWS_ENDPOINT_URL_SECRETS_MANAGER=aws.server.url, AWS_ENDPOINT_URL=dead_url)
    assert AwsSecretsReader(env).values([src(name)]) == {src(name): b"here"}


def test_missing_credentials_or_boto3_are_clear_errors(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = {"AWS_REGION": REGION, "AWS_ENDPOINT_URL": aws.server.url}
    reader = AwsSecretsReader(bare)
    assert set(errors(reader.values([src("a"), src("b")])).values()) == {
        "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"
    }
    assert reader.calls == 0
    for module in ("boto3", "boto3.session"):
        monkeypatch.setitem(sys.modules, module, None)  # what an uninstalled package gives
    found = AwsSecretsReader(aws.env()).versions([src("a")])
    assert errors(found) == {
        "aws:a": "reading AWS Secrets Manager needs boto3, which is not installed"
    }
    error = found[src("a")]
    assert isinstance(error, SourceError) and "github-secrets-reconciler[aws]" in (error.hint or "")


def test_loading_the_module_does_not_load_boto3() -> None:
    code = (
        "import sys, reconciler.values.aws_secrets\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'boto3', 'botocore'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
