"""ed25519 signing keys (through `cryptography`), for cache entries and mirror manifests.

    $CMPKG_HOME/keys/NAME.key    the private key, PEM (PKCS#8), mode 0600
    $CMPKG_HOME/keys/NAME.pub    its public half, one line: `NAME:BASE64` (Nix's form)

A public key is named by that line everywhere: `[trust] keys = ["lab:BASE64..."]` in the
config file or cmpkg.toml. What is signed is a domain-separated message, so a signature
made for one purpose (an entry) never verifies for another (a mirror manifest).
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field
from pathlib import Path

from cmpkg.errors import CmpkgError, UsageError
from cmpkg.paths import check_part

KEYS_DIR = "keys"


@dataclass(frozen=True)
class SigningKey:
    name: str
    private: bytes = field(repr=False)  # the raw 32-byte seed

    @property
    def public(self) -> str:
        """`NAME:BASE64` of the public key."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        raw = Ed25519PrivateKey.from_private_bytes(self.private).public_key().public_bytes_raw()
        return f"{self.name}:{base64.b64encode(raw).decode()}"

    def sign(self, message: bytes) -> str:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        signature = Ed25519PrivateKey.from_private_bytes(self.private).sign(message)
        return base64.b64encode(signature).decode()


def entry_message(key: str, manifest_digest: str) -> bytes:
    return f"cmpkg-cache-entry-v1\n{key}\n{manifest_digest}\n".encode()


def mirror_message(manifest_sha256: str) -> bytes:
    return f"cmpkg-mirror-manifest-v1\n{manifest_sha256}\n".encode()


def keys_dir(home: Path) -> Path:
    return home / KEYS_DIR


def generate(home: Path, name: str) -> SigningKey:
    """A new key NAME under `home`; refused if one exists (a key is never overwritten)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    check_part(name, "key name")
    directory = keys_dir(home)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = directory / f"{name}.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        raise UsageError(
            "key-exists", f"{path} exists", hint="choose another --name, or use the key you have"
        ) from None
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    key = SigningKey(name, private.private_bytes_raw())
    (directory / f"{name}.pub").write_text(key.public + "\n")
    return key


def load(home: Path, name_or_path: str | None) -> SigningKey:
    """The signing key: a path to a `.key` file, a name under `home/keys`, or (None) the
    only key there."""
    path = _key_path(home, name_or_path)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise UsageError("bad-key", f"{path}: not an ed25519 private key ({error})") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise UsageError("bad-key", f"{path}: not an ed25519 private key")
    return SigningKey(path.stem, private.private_bytes_raw())


def _key_path(home: Path, name_or_path: str | None) -> Path:
    hint = "create one with `cmpkg key generate`"
    if name_or_path and ("/" in name_or_path or name_or_path.endswith(".key")):
        return Path(name_or_path).expanduser()
    directory = keys_dir(home)
    if name_or_path:
        return directory / f"{check_part(name_or_path, 'key name')}.key"
    found = sorted(directory.glob("*.key")) if directory.is_dir() else []
    if len(found) == 1:
        return found[0]
    if not found:
        raise UsageError("no-signing-key", f"no signing key in {directory}", hint=hint)
    names = ", ".join(p.stem for p in found)
    raise UsageError(
        "ambiguous-key", f"{directory} has several keys ({names})", hint="give --key NAME"
    )


def own_public_keys(home: Path) -> tuple[str, ...]:
    """The public halves of this home's keys: what this machine signed, it trusts."""
    directory = keys_dir(home)
    pubs = sorted(directory.glob("*.pub")) if directory.is_dir() else []
    return tuple(p.read_text().strip() for p in pubs)


def verify(message: bytes, signature: str, public_key: str, trusted: tuple[str, ...]) -> str | None:
    """None when `signature` of `message` is by `public_key` and that key is trusted;
    else what is wrong: "untrusted" or "bad"."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if public_key not in trusted:
        return "untrusted"
    try:
        raw = base64.b64decode(public_key.split(":", 1)[1], validate=True)
        Ed25519PublicKey.from_public_bytes(raw).verify(
            base64.b64decode(signature, validate=True), message
        )
    except (InvalidSignature, ValueError, IndexError, binascii.Error):
        return "bad"
    return None


def check_public(text: str, where: str) -> str:
    """A `NAME:BASE64` public key line, or a usage error naming `where`."""
    name, _, data = text.strip().partition(":")
    try:
        ok = bool(name) and len(base64.b64decode(data, validate=True)) == 32
    except (binascii.Error, ValueError):
        ok = False
    if not ok:
        raise UsageError(
            "bad-public-key",
            f"{where}: {text!r} is not a public key (NAME:BASE64 of 32 bytes)",
            hint="copy the line of the signer's $CMPKG_HOME/keys/NAME.pub",
        )
    return text.strip()


class SignatureError(CmpkgError):
    """A pulled entry or a mirror whose signature is missing, wrong or from an untrusted key."""
