"""`mynumber issuance ...` as a clerk and J-LIS's intake run it: the console script, mTLS with each one's
certificate, against the issuance service; submit, list, show, withdraw, and one-line refusals."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from mynumber_runtime.testing.identities import credentials

from .conftest import ADDRESS, BIRTH, MUNICIPALITY, NAME, OTHER_MUNICIPALITY, PHOTO, Running, new_form_id

MYNUMBER = Path(sys.executable).parent / "mynumber"
CLERK = f"municipality:{MUNICIPALITY}"


async def mynumber(issuance: Running, *args: str, identity: str = CLERK) -> subprocess.CompletedProcess[str]:
    c = credentials(identity)
    env = dict(os.environ, MYNUMBER_ISSUANCE_TARGET=issuance.target)
    return await asyncio.to_thread(
        subprocess.run, [str(MYNUMBER), "--tls-ca", str(c.ca_file), "--tls-cert", str(c.cert_file), "--tls-key",
                         str(c.key_file), "issuance", *args], capture_output=True, text=True, timeout=120, env=env)


def ok(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    errors = [x for x in done.stderr.splitlines() if x.startswith("error ")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def facts(photo: Path) -> list[str]:
    return ["--photo", str(photo), "--name", NAME, "--address", ADDRESS, "--birth-date", BIRTH, "--sex", "male"]


async def test_a_clerk_submits_lists_shows_and_withdraws_an_application(issuance: Running, tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(PHOTO)
    form_id, _ = await issuance.known_form()
    (out,) = ok(await mynumber(issuance, "submit", MUNICIPALITY, form_id, "--channel", "counter", "--method", "2",
                               *facts(photo)))
    ref, state, channel, method, _at = out.split("\t")
    assert (state, channel, method) == ("accepted", "counter", "②申請時来庁") and len(ref) == 32
    listed = ok(await mynumber(issuance, "list", MUNICIPALITY, "--state", "accepted"))
    assert any(line.startswith(ref + "\t") for line in listed)
    shown = "\n".join(ok(await mynumber(issuance, "show", MUNICIPALITY, ref)))
    assert "state        accepted" in shown and "photo        600x800" in shown
    assert ok(await mynumber(issuance, "withdraw", MUNICIPALITY, ref))[0].split("\t")[1] == "withdrawn"
    shown = ok(await mynumber(issuance, "show", MUNICIPALITY, ref))
    assert [x.split()[-1] for x in shown if x.startswith("  ")] == ["accepted", "withdrawn"]


async def test_the_intake_submits_a_mailed_form(issuance: Running, tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(PHOTO)
    form_id, _ = await issuance.known_form()
    (out,) = ok(await mynumber(issuance, "submit", MUNICIPALITY, form_id, "--channel", "mail", "--method", "1",
                               *facts(photo), identity="operator:intake"))
    assert out.split("\t")[1:4] == ["accepted", "mail", "①交付時来庁"]


async def test_refusals_are_one_line_naming_the_field_and_no_value(issuance: Running, tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"not a photo at all" * 2000)
    form_id = new_form_id()
    line = one_line_error(await mynumber(issuance, "submit", MUNICIPALITY, form_id, *facts(photo)))
    assert "INVALID_ARGUMENT: photo:" in line and form_id not in line
    photo.write_bytes(PHOTO)
    line = one_line_error(await mynumber(issuance, "submit", MUNICIPALITY, form_id, *facts(photo)))
    assert "UNKNOWN_FORM" in line and form_id not in line
    theirs, _ = await issuance.known_form(municipality=OTHER_MUNICIPALITY)
    assert one_line_error(await mynumber(issuance, "submit", MUNICIPALITY, theirs, *facts(photo))) == line
    line = one_line_error(await mynumber(issuance, "show", MUNICIPALITY, "0" * 32))
    assert "NO_APPLICATION" in line
