"""One estate that makes every kind of change: the sandbox's seed, the manifest, its values.

Secrets of all four apps and Actions/agents variables at organisation scope (selected ones
gaining and losing repositories), a repository's secrets (one sealed), deployment
environments (one to create), prune on and off, a well-known credential allowed by name.
"""

from __future__ import annotations

import base64
from pathlib import Path

from nacl.public import PublicKey, SealedBox

from reconciler.sandbox import Sandbox
from tests.support.e2e import write_manifest

ORG = "octo-org"
WEB = f"{ORG}/web"
MANIFEST = """
version: 1
settings:
  allow_env: [AWS_DEPLOY_KEY]
orgs:
  octo-org:
    actions:
      prune: true
      secrets:
        NPM_TOKEN: {value: {env: NPM_TOKEN}, visibility: selected, repositories: [web, api]}
        CLOUD_KEY: {value: {env: AWS_DEPLOY_KEY}}
      variables:
        REGION: {value: eu-west-1, visibility: selected, repositories: [web, api]}
        LOG_LEVEL: {value: info}
    agents:
      secrets:
        MODEL_KEY: {value: {env: MODEL_KEY}, visibility: all}
      variables:
        MODEL: {value: fast, visibility: all}
    codespaces:
      secrets:
        CS_TOKEN: {value: {file: values/cs.txt}}
    dependabot:
      prune: true
      secrets:
        NEW_DEP: {value: {env: DEP_TOKEN}}
        SEL: {value: {env: DEP_TOKEN}, visibility: selected, repositories: [web, api]}
repos:
  octo-org/web:
    actions:
      prune: true
      secrets:
        R1: {value: {env: R1_TOKEN}}
        SEALED: {value: {sealed: "@CIPHERTEXT@", key_id: "@KEY_ID@"}}
    environments:
      production:
        prune: true
        secrets:
          DB_PASSWORD: {value: {env: DB_PASSWORD}}
        variables:
          URL: {value: "https://example.com"}
      review/pr-1:
        variables:
          URL: {value: "https://pr-1.example.com"}
"""
ENV = {
    "NPM_TOKEN": "npm-value",
    "AWS_DEPLOY_KEY": "cloud-value",
    "MODEL_KEY": "model-value",
    "DEP_TOKEN": "dep-value",
    "R1_TOKEN": "r1-value",
    "DB_PASSWORD": "db-value",
    "RECONCILER_LEDGER_KEY": "k" * 32,
}


def seed(sb: Sandbox) -> Sandbox:
    for name in ("web", "api", "docs"):
        sb.add_repo(f"{ORG}/{name}")
    sb.put_secret(ORG, "actions", "NPM_TOKEN", b"old", visibility="selected", selected=["docs"])
    sb.put_variable(ORG, "actions", "LOG_LEVEL", "debug", visibility="private")
    sb.put_variable(ORG, "actions", "STALE", "x")
    sb.put_secret(ORG, "agents", "HANDMADE", b"h", visibility="private")
    sb.put_secret(ORG, "dependabot", "SEL", b"old", visibility="selected", selected=["web"])
    sb.put_secret(ORG, "dependabot", "OLD", b"old", visibility="private")
    sb.put_secret(WEB, "actions", "R1", b"old")
    sb.put_secret(WEB, "actions", "GONE", b"old")
    sb.create_environment(WEB, "Production")
    sb.put_environment_variable(WEB, "Production", "URL", "https://old.example")
    sb.put_environment_variable(WEB, "Production", "OLD", "gone")
    return sb


def sealed_for(sb: Sandbox, value: bytes) -> tuple[str, str]:
    """Ciphertext of `value` sealed to the web repository's Actions key, and the key's id."""
    key_id, key = sb.public_key(WEB, "actions")
    box = SealedBox(PublicKey(base64.b64decode(key)))
    return base64.b64encode(box.encrypt(value)).decode("ascii"), key_id


def write_estate(directory: Path, sb: Sandbox, sealed: bytes = b"sealed-value") -> Path:
    """The manifest (with a value sealed for `sb`) and its value file, in `directory`."""
    (directory / "values").mkdir(exist_ok=True)
    (directory / "values" / "cs.txt").write_text("cs-value", encoding="utf-8")
    ciphertext, key_id = sealed_for(sb, sealed)
    text = MANIFEST.replace("@CIPHERTEXT@", ciphertext).replace("@KEY_ID@", key_id)
    return write_manifest(directory, text)
