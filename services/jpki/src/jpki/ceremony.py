"""The scripted key ceremony (Boulder's `ceremony`, EJBCA's crypto-token set-up): run once per CA generation.

Steps, each recorded in the audit chain: (SoftHSM only) initialise the token; generate each CA's RSA-2048 key
pair inside the HSM (sensitive, non-extractable); sign the self-signed CA certificate with it after linting;
issue the delegated OCSP responder certificates (keys also in the HSM); sign the first ARLs; write the CA
certificates (PEM) out for publication. Running it again creates nothing that exists already.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from mynumber_runtime.db import migrate
from mynumber_runtime.settings import read_secret

from jpki import hsm as hsmmod
from jpki.app import build, open_hsm
from jpki.parts import Jpki
from jpki.profiles import CaKind
from jpki.settings import MIGRATIONS, JpkiSettings

__all__ = ["MIGRATIONS", "CeremonyResult", "fingerprint", "prepare_token", "run_ceremony"]


@dataclass
class CeremonyResult:
    created: list[CaKind]
    ca_pem_files: dict[CaKind, Path]


def prepare_token(settings: JpkiSettings, so_pin: str) -> bool:
    """SoftHSM: make the token if absent. A production HSM's token is prepared with the vendor's tools."""
    if settings.hsm.softhsm_data_dir is None or "softhsm" not in settings.hsm.module.name:
        return False
    hsmmod.softhsm_config(settings.hsm.softhsm_data_dir.resolve())
    pin = read_secret(settings.hsm.user_pin_file).decode()
    return hsmmod.softhsm_init_token(settings.hsm.token_label, so_pin=so_pin, user_pin=pin)


async def run_ceremony(settings: JpkiSettings, *, so_pin: str, actor: str, out_dir: Path,
                       jpki: Jpki | None = None) -> CeremonyResult:
    migrate(settings.database.resolved_url(), MIGRATIONS)
    own = jpki is None
    if jpki is None:
        prepare_token(settings, so_pin)
        jpki = await build(settings, hsm=open_hsm(settings))
    try:
        # The command's unit of work; the ceremony commits each CA and responder as soon as it exists.
        async with jpki.units() as store:
            created = await jpki.authorities.ceremony(store, actor=actor)
            for kind in created:  # a new CA's first ARL; an existing CA's ARLs follow the CRL schedule
                await jpki.publication.generate_arl(store, kind, actor=actor)
    finally:
        if own:
            await jpki.close()
    out_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - a one-off key ceremony, not a serving path
    files = {}
    for kind, auth in jpki.authorities.by_kind.items():
        path = out_dir / f"jpki-{kind}-ca.pem"
        path.write_bytes(auth.cert.public_bytes(Encoding.PEM))
        files[kind] = path
    return CeremonyResult(created, files)


def fingerprint(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import hashes

    return cert.fingerprint(hashes.SHA256()).hex().upper()
