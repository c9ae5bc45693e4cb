"""Signed mirror manifests: `mirror create --sign` signs `mirror.json` with an ed25519 key
(`cmpkg key generate`, `cmpkg.cache.signing`), and opening a mirror checks it.

The signature covers the manifest's canonical JSON (every field but the signature), so an
edited manifest (a forged `created`, another `id`, a changed hash) no longer verifies. A
signed mirror is used only when its key is trusted (`[trust] keys` of the config file or
cmpkg.toml, or a key of this home) and the signature verifies. Once `[trust] keys` lists
any key, an unsigned mirror is refused too, so a forger cannot just strip the signature.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from cmpkg.cache import signing
from cmpkg.mirror.manifest import Manifest


def sign(manifest: Manifest, key: signing.SigningKey) -> Manifest:
    unsigned = replace(manifest, signature=None)
    digest = hashlib.sha256(unsigned.signed_bytes()).hexdigest()
    return replace(unsigned, signature=(key.public, key.sign(signing.mirror_message(digest))))


def trust(home: Path, start: Path) -> tuple[tuple[str, ...], bool]:
    """(trusted public keys, whether unsigned mirrors are refused): keys listed in the
    config file and the project's cmpkg.toml make signatures required; this home's own
    keys are trusted without making them so."""
    from cmpkg import config
    from cmpkg import project as project_file

    listed = list(config.load().trusted_keys)
    found = project_file.find(start)
    if found is not None:
        from cmpkg.cache.settings import read_tables

        listed += read_tables(found)[1]
    keys = [signing.check_public(k, "[trust] keys") for k in listed]
    return tuple(dict.fromkeys([*keys, *signing.own_public_keys(home)])), bool(keys)


def check(manifest: Manifest, where: str, home: Path, start: Path) -> None:
    """Refuse the mirror at `where` if its signature is missing (while required), wrong or
    from a key not trusted here."""
    trusted, required = trust(home, start)
    if manifest.signature is None:
        if required:
            raise signing.SignatureError(
                "mirror-unsigned",
                f"{where}: the mirror is not signed, and `[trust] keys` requires signatures",
                hint="ask for a mirror made with `cmpkg mirror create --sign`",
            )
        return
    public, value = manifest.signature
    digest = hashlib.sha256(manifest.signed_bytes()).hexdigest()
    why = signing.verify(signing.mirror_message(digest), value, public, trusted)
    name = public.split(":", 1)[0]
    if why == "untrusted":
        raise signing.SignatureError(
            "mirror-signature-untrusted",
            f"{where}: the mirror is signed by key {name!r}, which is not trusted here",
            hint=f'to trust it, add its public key to `[trust] keys`: "{public}"',
        )
    if why is not None:
        raise signing.SignatureError(
            "mirror-signature-invalid",
            f"{where}: mirror.json does not match its signature by {name!r}; it was edited",
            hint="nothing was taken from it; get the mirror again from its maker",
        )
