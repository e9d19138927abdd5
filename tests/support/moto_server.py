"""moto's standalone server as a real subprocess on a free loopback port: an AWS-compatible
HTTP endpoint the tests drive through boto3, with nothing monkeypatched.

The server binds port 0 itself and reports the port it got on stderr, so no port is chosen
by one process and bound by another (nothing to race under pytest-xdist). Startup waits on
that report and one health request, each within a deadline; never a sleep.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

_RUNNING = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")
START_DEADLINE = 60.0  # seconds; importing moto on a busy 2-core machine is the slow part
REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account


@dataclass(frozen=True)
class Credentials:
    key_id: str
    secret: str

    def environ(self, url: str, *, region: str = REGION) -> dict[str, str]:
        """An environment pointing boto3 (and the tool) at the server as this identity."""
        return {
            "AWS_ACCESS_KEY_ID": self.key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_REGION": region,
            "AWS_ENDPOINT_URL": url,
        }


# With auth off moto accepts any credentials; these are nobody's.
ANYONE = Credentials("AKIDMOTOTESTANYONE00", "moto-test-secret-anyone")


class MotoServer:
    """A running `moto_server`; `stop()` ends it (the fixture does)."""

    def __init__(self, workdir: Path) -> None:
        self._recording = workdir / "requests.jsonl"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MOTO_", "AWS_"))}
        env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)  # auth is switched on by enable_auth
        env["MOTO_RECORDER_FILEPATH"] = str(self._recording)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._log: collections.deque[str] = collections.deque(maxlen=60)
        ports: queue.Queue[int | None] = queue.Queue()
        assert self._process.stderr is not None
        # werkzeug logs every request to stderr: it is drained for the server's whole life,
        # or a full pipe would stall the server.
        self._drain = threading.Thread(
            target=self._read_log, args=(self._process.stderr, ports), daemon=True
        )
        self._drain.start()
        deadline = time.monotonic() + START_DEADLINE
        try:
            port = ports.get(timeout=START_DEADLINE)
        except queue.Empty:
            port = None
        if port is None:
            self.stop()
            raise RuntimeError("moto_server did not start:\n" + "\n".join(self._log))
        self.url = f"http://127.0.0.1:{port}"
        try:
            self._moto_api("GET", "/moto-api/data.json", timeout=deadline - time.monotonic())
        except OSError:
            self.stop()
            raise

    def _read_log(self, stream: IO[str], ports: queue.Queue[int | None]) -> None:
        reported = False
        for line in stream:
            self._log.append(line.rstrip())
            found = None if reported else _RUNNING.search(line)
            if found:
                reported = True
                ports.put(int(found.group(1)))
        ports.put(None)  # ended before (or after) reporting: the waiter must not hang

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=15)
        self._drain.join(timeout=15)
        if self._process.stderr is not None:
            self._process.stderr.close()

    def _moto_api(
        self, method: str, path: str, body: bytes | None = None, *, timeout: float = 15.0
    ) -> bytes:
        request = urllib.request.Request(
            self.url + path, data=body, method=method, headers={"Content-Type": "text/plain"}
        )
        with urllib.request.urlopen(request, timeout=max(timeout, 1.0)) as response:
            data: bytes = response.read()
            return data

    def client(
        self, service: str, credentials: Credentials = ANYONE, *, region: str = REGION
    ) -> Any:
        """A boto3 client for the server (typed by the caller, e.g. SecretsManagerClient)."""
        import boto3.session  # here: collecting tests needs no AWS SDK

        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id=credentials.key_id,
            aws_secret_access_key=credentials.secret,
        )

    def create_identity(self, name: str, actions: Sequence[str]) -> Credentials:
        """An IAM user allowed `actions` on every resource, and its access key. Only takes
        effect for requests once `enable_auth` has been called."""
        iam = self.client("iam")
        iam.create_user(UserName=name)
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
        }
        iam.put_user_policy(UserName=name, PolicyName="test", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return Credentials(key["AccessKeyId"], key["SecretAccessKey"])

    def enable_auth(self) -> None:
        """From now on every request is checked against IAM: signed by a known access key,
        and allowed by its user's policy."""
        self._moto_api("POST", "/moto-api/reset-auth", b"0")

    def start_recording(self) -> None:
        self._moto_api("POST", "/moto-api/recorder/reset-recording")
        self._moto_api("POST", "/moto-api/recorder/start-recording")

    def stop_recording(self) -> list[str]:
        """The operations (`GetSecretValue`, …) the server received since start_recording."""
        self._moto_api("POST", "/moto-api/recorder/stop-recording")
        lines = self._recording.read_text(encoding="utf-8").splitlines()
        targets = [json.loads(line)["headers"].get("X-Amz-Target", "") for line in lines if line]
        return [t.rpartition(".")[2] for t in targets]
