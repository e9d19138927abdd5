"""What `reconciler COMMAND --help` says beyond the flags: a description, examples, and the
environment variables the command reads. Pure data, kept true by tests: every example parses,
and every variable named is one the command's code reads (tests/commands/test_manual.py)."""

from __future__ import annotations

from dataclasses import dataclass

# Variable -> what it is for. Groups, in the order a command's --help lists them.
_CREDENTIALS = (
    ("GITHUB_TOKEN", "the token to call GitHub with (or GH_TOKEN)"),
    ("GH_TOKEN", "read when GITHUB_TOKEN is not set"),
    ("RECONCILER_APP_ID", "authenticate as this GitHub App instead of with a token"),
    ("RECONCILER_APP_PRIVATE_KEY", "the App's private key (PEM text)"),
    ("RECONCILER_APP_PRIVATE_KEY_FILE", "or a file holding it"),
    ("GITHUB_API_URL", "the API to call (GitHub Enterprise, the sandbox); --api-url wins"),
)
_LEDGER = (
    ("RECONCILER_LEDGER", "the ledger location when --ledger is not given"),
    ("RECONCILER_LEDGER_KEY", "the key of the ledger's value fingerprints"),
)
_ANNOTATIONS = (("GITHUB_ACTIONS", "when `true`, manifest errors become PR annotations too"),)
_SOURCES = "Value sources also read the variables the manifest's `env:` sources name."
_COLOUR = (
    ("NO_COLOR", "non-empty: no colour (https://no-color.org)"),
    ("FORCE_COLOR", "non-empty: colour even when stdout is not a terminal"),
    ("TERM", "`dumb`: no colour"),
)
_SUMMARY = (("GITHUB_STEP_SUMMARY", "a file the markdown report is appended to"),)
_COMMENT = (
    ("RECONCILER_COMMENT_TOKEN", "post the --comment with this token instead"),
    ("GITHUB_REPOSITORY", "with GITHUB_EVENT_PATH: the pull request --comment posts to"),
    ("GITHUB_EVENT_PATH", "the Actions event that names the pull request"),
)


@dataclass(frozen=True, slots=True)
class Manual:
    description: str  # empty: the command module sets its parser's own
    examples: tuple[str, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()
    environment_note: str = ""

    def epilog(self) -> str:
        parts = []
        if self.examples:
            parts.append("examples:\n" + "\n".join(f"  {e}" for e in self.examples))
        if self.environment or self.environment_note:
            width = max((len(name) for name, _ in self.environment), default=0)
            lines = [f"  {name:<{width}}  {what}" for name, what in self.environment]
            if self.environment_note:
                lines.append(f"  {self.environment_note}")
            parts.append("environment variables:\n" + "\n".join(lines))
        else:
            parts.append("environment variables: none")
        return "\n\n".join(parts)


MANUALS: dict[str, Manual] = {
    "validate": Manual(
        "Check manifests offline: schema, names, scopes, value sources. No network.",
        (
            "reconciler validate secrets/",
            "reconciler validate secrets/org.yaml --resolve-values",
        ),
        _ANNOTATIONS,
        "With --resolve-values: " + _SOURCES,
    ),
    "plan": Manual(
        "Compare the manifests with GitHub and print what apply would change. Exit 0: no "
        "changes, 2: changes (with --detailed-exitcode), 1: a problem apply would hit too.",
        (
            "reconciler plan secrets/",
            "reconciler plan secrets/ --format markdown --out plan.md",
            "reconciler plan secrets/ --comment --pr acme/secrets#42",
            "reconciler plan secrets/ --target acme/web --target 'acme:*:NPM_*'  # only these",
        ),
        _CREDENTIALS + _LEDGER + _COMMENT + _SUMMARY + _COLOUR + _ANNOTATIONS,
        _SOURCES,
    ),
    "apply": Manual(
        "Plan, then write the changes to GitHub, paced, and record the values in the ledger. "
        "Refuses unsafe plans (mass deletes, widening to `all`) without --force. At a "
        "terminal it shows the plan and applies only after you type `yes` (--auto-approve "
        "skips the question; CI and pipes are never asked).",
        (
            "reconciler apply secrets/",
            "reconciler apply secrets/ --auto-approve  # at a terminal, without the question",
            "reconciler apply secrets/ --results results.json",
            "reconciler apply plan.json  # a plan file reviewed earlier with `plan --out`",
            "reconciler apply secrets/ --target 'acme/*:actions'  # repository Actions secrets",
        ),
        _CREDENTIALS + _LEDGER + _SUMMARY + _ANNOTATIONS,
        _SOURCES,
    ),
    "baseline": Manual(
        "",  # its module's DESCRIPTION
        ("reconciler baseline secrets/", "reconciler baseline secrets/ --ledger ledger.json"),
        _CREDENTIALS + _LEDGER + _ANNOTATIONS,
        _SOURCES,
    ),
    "ledger": Manual(
        "Inspect the value ledger, or forget entries so the next apply rewrites their values. "
        "Select entries by NAME (globs) and --org / --repo / --app (globs, repeatable).",
        (
            "reconciler ledger show --repo 'acme/*'",
            "reconciler ledger forget NPM_TOKEN --repo acme/web --app actions",
            "reconciler ledger forget 'OLD_*' --org acme",
        ),
        _CREDENTIALS + _LEDGER,
    ),
    "import": Manual(
        "Write a manifest (and an env template) from what GitHub holds: an organization's "
        "secrets and its repositories'. Values cannot be read back; each secret gets an "
        "`env:` source of its own.",
        (
            "reconciler import --org acme --out secrets/acme.yaml",
            "reconciler import --org acme --repo 'acme/api-*' --app actions",
        ),
        _CREDENTIALS,
    ),
    "seal": Manual(
        "Seal a value to a scope's public key for a `sealed:` source; print the YAML to paste. "
        "On a terminal the value is typed without echo (Enter ends it). Piped input is sealed "
        "byte for byte: a trailing newline is kept and reported unless --strip-newline.",
        (
            "reconciler seal --org acme --app actions",
            "reconciler seal --repo acme/web --app dependabot --strip-newline < token.txt",
        ),
        _CREDENTIALS,
    ),
    "encrypt": Manual(
        "Encrypt a value from stdin into an age value file for an `age:` source, to every "
        "recipient the file lists (a new file: to each --recipient). A name already there is "
        "rotated; every other value's ciphertext stays byte for byte. On a terminal the value "
        "is typed twice without echo. Piped input is encrypted byte for byte: a trailing "
        "newline is kept and reported unless --strip-newline. No GitHub access.",
        (
            "reconciler encrypt values/prod.age.yaml NPM_TOKEN --recipient age1...",
            "reconciler encrypt values/prod.age.yaml NPM_TOKEN --strip-newline < token.txt",
        ),
    ),
    "sandbox": Manual(
        "Run a local GitHub secrets API in the foreground. Prints GITHUB_API_URL= and "
        "GITHUB_TOKEN= lines on stdout, how to stop it on stderr. Stop with Ctrl-C or SIGTERM.",
        (
            "reconciler sandbox --seed examples/sandbox/seed.json --dump state.json",
            "reconciler sandbox --port 8080",
        ),
    ),
    "demo": Manual(
        "Validate, plan and apply the examples shipped with reconciler (or your manifests) "
        "against a sandbox started for the run.",
        ("reconciler demo", "reconciler demo examples/ --seed examples/sandbox/seed.json"),
    ),
    "schema": Manual(
        "Print a published JSON Schema, write it next to your manifests for editors, or print "
        "its stable URL (the raw file at this release's tag). `plan`, `results` and `ledger` "
        "describe the JSON documents the tool writes.",
        (
            "reconciler schema --out secrets/",
            "reconciler schema --url",
            "reconciler schema plan > plan.schema.json",
        ),
    ),
    "completion": Manual(
        "Print a shell completion script for reconciler's commands and flags.",
        (
            "source <(reconciler completion bash)",
            "reconciler completion zsh > ~/.zfunc/_reconciler",
            "reconciler completion fish > ~/.config/fish/completions/reconciler.fish",
        ),
    ),
}


def manual(name: str) -> Manual | None:
    return MANUALS.get(name)
