"""Which environment variables a manifest may name as value sources.

Three tiers, checked in this order on the upper-cased name (Windows environments are
case-insensitive, so `reconciler_comment_token` is the same variable there):

1. Never: the tool's own namespace (`RECONCILER_*`, present and future: whatever credential
   the tool reads next is covered without anyone remembering to list it) and the names GitHub
   Actions sets for the job. No allow-list entry admits them.
2. Guarded: credentials a CI job holds without the manifest's author having put them there
   for reconciler: the CI platform's job and OIDC tokens, the standard credential variables
   of cloud SDKs and secret managers (set by login steps such as configure-aws-credentials,
   google-github-actions/auth, azure/login, vault-action), and URLs or git settings that can
   carry credentials. No *pattern* admits them, neither the defaults (`*_TOKEN`, `*_KEY`, …)
   nor one the user adds (`*`, `AWS_*`); only an allow-list entry that is exactly the name,
   and then every plan says so (`credential_notices`).
3. Everything else: admitted by the default patterns or by the manifest's / command line's.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reconciler.model import Location, Settings

# The tool's namespace first: `tests/values/test_security_sources.py` checks that every
# variable the package reads is refused here, so a new one cannot slip through.
FORBIDDEN_ENV = (
    "RECONCILER_*",
    "GITHUB_*",
    "GH_*",
    "ACTIONS_*",
    "RUNNER_*",
    "INPUT_*",
    # Credentials the tool itself reads for its value stores: the age identity (SOPS's names
    # too) and the AWS keys it reads Secrets Manager with. Never values, whatever is allowed.
    "SOPS_AGE_*",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)

# Allowed unless the manifest (`settings.allow_env`) or `--allow-env` add more patterns.
DEFAULT_ALLOW_ENV = ("*_TOKEN", "*_PAT", "*_PASSWORD", "*_KEY", "*_SECRET", "SECRET_*")


@dataclass(frozen=True, slots=True)
class Guard:
    pattern: str  # fnmatch over the upper-cased name
    what: str  # whose credential, for the message


def _guards(what: str, *patterns: str) -> tuple[Guard, ...]:
    return tuple(Guard(p, what) for p in patterns)


# Whole namespaces where the vendor keeps credentials and the configuration that points at
# them: listing single names (AWS_SESSION_TOKEN, …) would miss the next one the SDK adds.
GUARDED_ENV: tuple[Guard, ...] = (
    *_guards("AWS credentials", "AWS_*"),
    *_guards("Azure credentials", "AZURE_*", "ARM_*"),
    *_guards("Google Cloud credentials", "GOOGLE_*", "GCP_*", "GCLOUD_*", "CLOUDSDK_*"),
    *_guards("Alibaba Cloud credentials", "ALIBABA_CLOUD_*", "ALICLOUD_*"),
    *_guards("Oracle Cloud credentials", "OCI_*"),
    *_guards("secret manager credentials", "VAULT_*", "BAO_*", "OP_*", "DOPPLER_*"),
    *_guards("Terraform Cloud credentials", "TF_TOKEN_*", "TFE_TOKEN", "ATLAS_TOKEN"),
    *_guards("GitLab CI job credentials", "CI_*", "GITLAB_*"),
    *_guards("Azure Pipelines job credentials", "SYSTEM_*"),
    *_guards("Bitbucket Pipelines job credentials", "BITBUCKET_*"),
    *_guards("Buildkite agent credentials", "BUILDKITE_*"),
    *_guards("CircleCI job credentials", "CIRCLE_*", "CIRCLECI_*"),
    *_guards("CI job credentials", "TRAVIS_*", "DRONE_*", "WOODPECKER_*", "CODEBUILD_*"),
    *_guards("CI job credentials", "TEAMCITY_*", "JENKINS_*", "SEMAPHORE_*", "APPVEYOR_*"),
    *_guards("container registry credentials", "DOCKER_AUTH_CONFIG"),
    # A proxy URL may hold user:password; requests reads these for the tool's own requests.
    *_guards("proxy URLs with credentials", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"),
    # `GIT_CONFIG_KEY_n`/`VALUE_n` can set http.extraheader: the checkout's job token.
    *_guards("git configuration (may hold the checkout token)", "GIT_CONFIG_*"),
)

ALLOW_ENV_HINT = "add a pattern to `settings.allow_env` in the manifest or pass --allow-env PATTERN"


@dataclass(frozen=True, slots=True)
class EnvRefusal:
    message: str
    hint: str | None  # None: nothing the user can add admits the name


_GUARDED_PATTERNS = tuple(g.pattern for g in GUARDED_ENV)


@functools.cache
def _any_of(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a whole pattern list: most names match none, and one search beats
    fifty fnmatch calls (24,000 env sources took 0.3 s)."""
    return re.compile("|".join(fnmatch.translate(p) for p in patterns))


def forbidden_pattern(name: str) -> str | None:
    """The never-allowed pattern `name` falls under, if any."""
    upper = name.upper()
    if not _any_of(FORBIDDEN_ENV).match(upper):
        return None
    return next((p for p in FORBIDDEN_ENV if fnmatch.fnmatchcase(upper, p)), None)


def guard_of(name: str) -> Guard | None:
    """The well-known credential `name` is, if any (forbidden names aside)."""
    upper = name.upper()
    if not _any_of(_GUARDED_PATTERNS).match(upper):
        return None
    return next((g for g in GUARDED_ENV if fnmatch.fnmatchcase(upper, g.pattern)), None)


def env_refusal(name: str, allow: Sequence[str]) -> EnvRefusal | None:
    """None if `name` may be an env source under the extra `allow` entries; otherwise why not."""
    pattern = forbidden_pattern(name)
    if pattern:
        return EnvRefusal(
            f'environment variable "{name}" can never be a value source: it matches '
            f'"{pattern}", reserved for credentials of the tool and the CI runner',
            None,
        )
    guard = guard_of(name)
    if guard:
        if name in allow:
            return None
        return EnvRefusal(
            f'environment variable "{name}" is a well-known cloud/runner credential '
            f'({guard.what}, "{guard.pattern}"): no allow-list pattern admits it',
            f'if this job really must copy it into a secret, add the exact name "{name}" '
            "to `settings.allow_env` (or pass --allow-env with it); every plan will say so",
        )
    patterns = (*DEFAULT_ALLOW_ENV, *allow)
    if any(fnmatch.fnmatchcase(name, p) for p in patterns):
        return None
    return EnvRefusal(
        f'environment variable "{name}" is not in the env allow-list ({", ".join(patterns)})',
        ALLOW_ENV_HINT,
    )


def env_name_allowed(name: str, allow: Sequence[str]) -> str | None:
    """None if `name` may be an env source; otherwise why not."""
    refused = env_refusal(name, allow)
    return refused.message if refused else None


def credential_notices(
    env_vars: Iterable[str], settings: Settings, cli_allow: Sequence[str]
) -> tuple[str, ...]:
    """One line per guarded credential among the `env_vars` a manifest uses as sources,
    saying where its exact name was allowed. Part of the plan (and its checksum): it changes
    what apply writes."""
    used = sorted({v for v in env_vars if guard_of(v) and not forbidden_pattern(v)})
    where_set: dict[str, Location] = {}
    for entry, location in settings.allow_env_at:
        where_set.setdefault(entry, location)
    notices: list[str] = []
    for var in used:
        places: list[str] = []
        if var in settings.allow_env:
            at = where_set.get(var)
            places.append(f"settings.allow_env ({at})" if at else "settings.allow_env")
        if var in cli_allow:
            places.append("--allow-env")
        if not places:
            continue  # not admitted: load_manifests reports it
        notices.append(
            f"env:{var} is a well-known cloud/runner credential; allowed by its exact name "
            f"in {' and '.join(places)}"
        )
    return tuple(notices)
