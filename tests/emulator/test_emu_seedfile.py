"""`kfsync emulator --seed FILE` and the environment lines it prints: the five-minute onboarding.

The emulator runs as a subprocess; the CLI is pointed at it by pasting its
stderr lines into a POSIX shell, exactly as the README tells a new user to.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KFSYNC = f"{sys.executable} -m kfsync"

SEED = """\
accounts:
  - kf_account: alice@shop_cs
    kf_nick: 小美
    kf_wx: alice_wx          # bound
    status: 1                # online
  - kf_account: bob@shop_cs
    kf_nick: Bob
    invite_wx: bob_wx1       # invited, not yet accepted
records:
  - {openid: oCust, opercode: 2003, text: 你好, time: 1793462400, worker: alice@shop_cs}
waitcase:
  - {openid: oWaiting, latest_time: 1793462400}
"""


@contextmanager
def serving(*args: str, cwd: Path) -> Iterator[tuple[str, list[str]]]:
    """`kfsync emulator ARGS` running: its first stdout line and its stderr lines up to `unset`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KFSYNC_")}
    with subprocess.Popen([sys.executable, "-m", "kfsync", "emulator", *args], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stderr is not None
            url = proc.stdout.readline().strip()
            lines: list[str] = []
            while not lines or not lines[-1].startswith("unset "):
                line = proc.stderr.readline()
                assert line, f"the emulator ended early: {lines}"
                lines.append(line.rstrip("\n"))
            yield url, lines
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=10)


def in_shell(lines: list[str], command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`command` in `sh`, after the pasted lines, with no KFSYNC_* of the test runner's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KFSYNC_")}
    env["KFSYNC_CACHE_DIR"] = str(cwd / "cache")
    script = "\n".join(lines) + "\n" + command + "\n"
    return subprocess.run(["sh", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_the_stderr_lines_point_the_cli_at_the_emulator(tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED)
    with serving("--seed", "seed.yaml", cwd=tmp_path) as (url, lines):
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)  # the first stdout line stays the URL
        assert f"export KFSYNC_API_BASE={url}" in lines
        assert "# seeded with 2 accounts, 1 record, 1 waiting customer" in lines
        accounts = in_shell(lines, f"{KFSYNC} accounts --format json", tmp_path)
        assert accounts.returncode == 0, accounts.stderr
        listed = {a["kf_account"]: a for a in json.loads(accounts.stdout)["accounts"]}
        assert listed["alice@shop_cs"]["kf_wx"] == "alice_wx"
        assert listed["bob@shop_cs"]["invite_wx"] == "bob_wx1"
        assert listed["bob@shop_cs"]["invite_status"] == "waiting"
        online = in_shell(lines, f"{KFSYNC} online", tmp_path)
        assert "alice@shop_cs" in online.stdout, online.stderr
        waiting = in_shell(lines, f"{KFSYNC} session waiting", tmp_path)
        assert "oWaiting" in waiting.stdout, waiting.stderr
        records = in_shell(lines, f"{KFSYNC} records --since 2026-11-01 --until 2026-11-01",
                           tmp_path)
        assert json.loads(records.stdout)["text"] == "你好", records.stderr


def test_the_shipped_example_seeds_the_tea_shop(tmp_path: Path) -> None:
    seed = ROOT / "examples" / "emulator" / "seed.yaml"
    with serving("--seed", str(seed), cwd=tmp_path) as (_, lines):
        assert "# seeded with 6 accounts, 3 records, 2 waiting customers" in lines
        imported = in_shell(lines, f"{KFSYNC} import -o shop/kfsync.yaml && "
                                   f"{KFSYNC} plan -c shop/kfsync.yaml --detailed-exitcode",
                            tmp_path)
        assert imported.returncode == 0, imported.stderr  # import, then nothing to change


def test_the_whole_of_stderr_can_be_pasted(tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED)
    with serving("--seed", "seed.yaml", cwd=tmp_path) as (_, lines):
        assert all(line.startswith(("# ", "export ", "unset ")) for line in lines), lines
        pasted = in_shell(lines, "set -e; test -n \"$KFSYNC_API_BASE\"", tmp_path)
        assert (pasted.returncode, pasted.stderr) == (0, "")


def test_a_secret_of_ones_own_is_never_printed(tmp_path: Path) -> None:
    secret = "c0ffee5ec7e7" * 3
    with serving("--secret", secret, cwd=tmp_path) as (_, lines):
        assert not any(secret[:12] in line for line in lines)
        assert "# export KFSYNC_APPSECRET=…  (the secret given with --secret; not shown)" in lines
        pasted = in_shell(lines, f"KFSYNC_APPSECRET={secret} {KFSYNC} accounts", tmp_path)
        assert pasted.returncode == 0, pasted.stderr


def test_a_json_seed_is_the_admin_body_as_is(tmp_path: Path) -> None:
    body = {"accounts": [{"kf_account": "zoe@shop_cs", "kf_nick": "Zoe"}]}
    (tmp_path / "seed.json").write_text(json.dumps(body))
    with serving("--seed", "seed.json", cwd=tmp_path) as (_, lines):
        assert "# seeded with 1 account, 0 records, 0 waiting customers" in lines
        listed = in_shell(lines, f"{KFSYNC} accounts", tmp_path)
        assert "zoe@shop_cs" in listed.stdout


def test_the_readme_seed_example_seeds(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("<!-- seed-example -->", 1)[1].split("```yaml\n", 1)[1].split("```")[0]
    (tmp_path / "seed.yaml").write_text(example)
    with serving("--seed", "seed.yaml", cwd=tmp_path) as (_, lines):
        assert any(line.startswith("# seeded with ") for line in lines)
        assert in_shell(lines, f"{KFSYNC} accounts", tmp_path).returncode == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.yaml", "accounts:\n  - kf_account: x@shop_cs\n    kf_nick: ''\n",
         "bad.yaml:3:14: accounts[0].kf_nick: must be a string of 1 to 16 characters"),
        ("bad.yaml", "accounts:\n  - kf_account: alice@other\n    kf_nick: A\n",
         "bad.yaml:2:17: accounts[0].kf_account: must be prefix@shop_cs"),
        ("bad.yaml", "records:\n  - {openid: o, opercode: 2002, text: t, time: -5, worker: a}\n",
         "bad.yaml:2:48: records[0].time: must be an integer >= 0"),
        ("bad.yaml", "accounts: {}\n", "bad.yaml:1:11: accounts: must be a list"),
        ("bad.yaml", "acounts: []\n", "bad.yaml: unknown seed field(s) acounts"),
        ("bad.yaml", "a: &x [1]\nb: *x\n", "bad.yaml:1:4: "),
        ("bad.yaml", "accounts: [\n", "bad.yaml:2:1: "),
        ("bad.yaml", "- just\n- a list\n", "bad.yaml: expected a mapping"),
        ("bad.yaml", b"accounts: []\n# caf\xe9\n", "bad.yaml:2:6: not UTF-8"),
        ("bad.json", '{"accounts": [{"kf_account": 3}]}',
         "bad.json: accounts[0].kf_account: must be a non-empty string"),
        ("bad.json", '{"accounts": [', "bad.json:1:15: not valid JSON"),
        ("bad.json", "[1, 2]", "bad.json: expected a mapping"),
    ],
)
def test_a_bad_seed_file_is_one_line_naming_the_file_and_field(
        tmp_path: Path, name: str, content: str | bytes, message: str) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    result = subprocess.run([sys.executable, "-m", "kfsync", "emulator", "--seed", name],
                            cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(f"kfsync: error: --seed {message}"), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_missing_seed_file(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "kfsync", "emulator", "--seed", "none.yaml"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1
    assert result.stderr == ("kfsync: error: --seed none.yaml: cannot read it (No such file or "
                             "directory)\n")


def test_the_shipped_wecom_example_plans_applies_and_converges(tmp_path: Path) -> None:
    """The README's WeCom walk-through: the seeded corp, the example file, plan, apply, plan again."""
    shutil.copytree(ROOT / "examples" / "wecom", tmp_path / "corp")
    seed = ROOT / "examples" / "wecom" / "seed.yaml"
    with serving("--provider", "wecom", "--corpid", "ww0123456789abcdef", "--seed", str(seed),
                 cwd=tmp_path) as (_, lines):
        assert "# seeded with 3 accounts, 3 users, 1 department, 0 customers, 0 messages" in lines
        planned = in_shell(lines, f"{KFSYNC} plan -c corp/kfsync.yaml --detailed-exitcode", tmp_path)
        assert planned.returncode == 2, planned.stderr
        assert "  + add        售前咨询  name \"售前咨询\"" in planned.stdout
        assert "  ~ update     售后服务 (wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw)  name \"售后\" → \"售后服务\"" \
            in planned.stdout
        assert "  - delete     旧账号 (" in planned.stdout
        assert re.search(r"VIP专线 \(wk[-\w]+\) is not managed by this app; left alone", planned.stdout)
        assert "Plan: 1 to add, 1 to change, 1 to delete, 2 servicer changes" in planned.stdout
        applied = in_shell(lines, f"{KFSYNC} apply -c corp/kfsync.yaml --auto-approve && "
                                  f"{KFSYNC} plan -c corp/kfsync.yaml --detailed-exitcode", tmp_path)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "Verified: the live accounts match the configuration." in applied.stdout
        assert len(re.findall(r'contact_link "(app|website)" = "https://', applied.stdout)) == 2
        assert applied.stdout.rstrip().endswith("No changes. The live accounts match the configuration.")
        listed = in_shell(lines, f"{KFSYNC} accounts --format json", tmp_path)
        assert listed.returncode == 0, listed.stderr
        assert "VIP专线" in listed.stdout  # still there, untouched
