"""One OCI registry, through the `oras` client (`oras.provider.Registry`).

Owns: manifests by tag or digest (raw bytes, so the digest a signature covers is the
registry's own), blob existence, blob uploads, and the authenticated session that
`cmpkg.fetch` downloads blobs with (retries, resume, stall timeouts, sha256 and size).

Where oras is not used as is, and why:
- `do_request` is oras's own, minus its retry decorator: that one retries every exception
  five times with sleeps of 2 + 3^n s (two minutes for a stopped registry). cmpkg retries
  only 429/5xx and connection failures, three times with backoff, and a refused connection
  fails at once, so a stopped cache costs one warning, not minutes.
- Blobs are uploaded by `cmpkg.cache.upload`, not `upload_blob`: a lost answer to a PUT or
  PATCH is resolved by asking the registry, not by repeating the request.
- Manifests are PUT as bytes through `do_request`: `Registry.upload_manifest` sends a
  re-serialised dict, and the digest that push signs must be that of the bytes stored.
- Plain HTTP (`insecure=True`) only for a loopback registry; a socket timeout on every
  request through the session's adapter (oras sets none).
- Basic credentials (htpasswd registries) are sent up front on the session: oras's token
  backend does not answer a Basic challenge.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from cmpkg.cache.credentials import Credentials
from cmpkg.cache.url import CacheUrl
from cmpkg.errors import CmpkgError

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
TIMEOUT = 30.0  # seconds without a byte: a stalled registry is an unreachable one
_RETRIES = 3
_TRANSIENT = frozenset({429, 500, 502, 503, 504})


class UnreachableError(Exception):
    """The cache could not be asked at all (refused, reset, timed out, 5xx after retries)."""


class _TimeoutAdapter(HTTPAdapter):
    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = TIMEOUT
        return super().send(request, *args, **kwargs)


def _client(url: CacheUrl, credentials: Credentials) -> Any:
    import oras.provider

    plain = oras.provider.Registry.do_request.__wrapped__

    class Client(oras.provider.Registry):  # type: ignore[misc]
        def do_request(self, *args: Any, **kwargs: Any) -> requests.Response:
            return _retrying(lambda: plain(self, *args, **kwargs), url.text)

        def request_once(self, *args: Any, **kwargs: Any) -> requests.Response:
            """For requests that must not be repeated blindly (cmpkg.cache.upload)."""
            try:
                return plain(self, *args, **kwargs)  # type: ignore[no-any-return]
            except ValueError:  # as in _retrying: a challenge it could not answer
                raise _unauthorized(url.text, "asks for credentials") from None

    client = Client(hostname=url.host, insecure=url.loopback, auth_backend="token")
    adapter = _TimeoutAdapter(pool_connections=8, pool_maxsize=16)
    client.session.mount("http://", adapter)
    client.session.mount("https://", adapter)
    if credentials.token:
        client.auth.set_token_auth(credentials.token)
    elif credentials.basic:
        client.auth.set_basic_auth("-", "-")  # so oras asks for a token with them, if asked
        client.auth._basic_auth = credentials.basic
        client.session.headers["Authorization"] = f"Basic {credentials.basic}"
    return client


def _retrying(call: Callable[[], requests.Response], where: str) -> requests.Response:
    for attempt in range(_RETRIES):
        try:
            response = call()
        except requests.ConnectionError as error:
            if "refused" in str(error).lower() or attempt == _RETRIES - 1:
                raise UnreachableError(_reason(error)) from None
        except requests.Timeout:
            if attempt == _RETRIES - 1:
                raise UnreachableError(f"no answer within {TIMEOUT:.0f} s") from None
        except ValueError:  # oras could not answer the challenge (no or refused credentials)
            raise _unauthorized(where, "asks for credentials") from None
        else:
            if response.status_code not in _TRANSIENT or attempt == _RETRIES - 1:
                return response
        time.sleep(0.2 * 2**attempt * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")  # pragma: no cover


def _unauthorized(where: str, what: str) -> CmpkgError:
    return CmpkgError(
        "cache-unauthorized",
        f"{where} {what}",
        hint="log in with `docker login` / `oras login` (~/.docker/config.json, or "
        "$DOCKER_CONFIG/config.json), or set CMPKG_CACHE_TOKEN",
    )


def _reason(error: Exception) -> str:
    text = str(error)
    return "connection refused" if "refused" in text.lower() else text.split(":")[-1].strip()


class Registry:
    """The repository `url.repository` on the registry `url.host`."""

    def __init__(self, url: CacheUrl, credentials: Credentials) -> None:
        self.url = url
        self.client = _client(url, credentials)
        self.prefix = "http" if url.loopback else "https"

    def _container(self, ref: str = "") -> Any:
        sep = "@" if ref.startswith("sha256:") else ":"
        name = f"{self.url.host}/{self.url.repository}" + (f"{sep}{ref}" if ref else "")
        return self.client.get_container(name)

    def _manifest_url(self, ref: str) -> str:
        return f"{self.prefix}://{self._container().manifest_url(ref)}"

    def blob_url(self, digest: str) -> str:
        return f"{self.prefix}://{self._container().get_blob_url(digest)}"

    @property
    def session(self) -> requests.Session:
        """The authenticated session (a bearer token once oras has obtained one)."""
        header = self.client.auth.get_auth_header() if self.client.auth.token else {}
        self.client.session.headers.update(header)
        session: requests.Session = self.client.session
        return session

    def manifest(self, ref: str) -> tuple[bytes, str] | None:
        """(raw bytes, sha256 digest) of the manifest `ref` (a tag or digest); None: absent."""
        headers = {"Accept": MANIFEST_TYPE}
        response = self.client.do_request(self._manifest_url(ref), "GET", headers=headers)
        if response.status_code == 404:
            return None
        self._check(response, f"manifest {ref}")
        data = response.content
        return data, "sha256:" + hashlib.sha256(data).hexdigest()

    def has_manifest(self, ref: str) -> str | None:
        """The digest of manifest `ref` if the registry has it (one HEAD), else None."""
        headers = {"Accept": MANIFEST_TYPE}
        response = self.client.do_request(self._manifest_url(ref), "HEAD", headers=headers)
        if response.status_code == 404:
            return None
        self._check(response, f"manifest {ref}")
        return str(response.headers.get("Docker-Content-Digest", "")) or None

    def blob(self, digest: str, limit: int) -> bytes:
        return read_blob(self, digest, limit)

    def has_blob(self, digest: str) -> bool:
        return bool(self.client.blob_exists({"digest": digest}, self._container()))

    def put_blob(self, path: str, descriptor: dict[str, Any]) -> None:
        """Upload one blob unless the registry has it (cmpkg.cache.upload: HEAD first;
        a lost answer is asked about, never repeated)."""
        from cmpkg.cache.upload import upload

        upload(self, Path(path), str(descriptor["digest"]), int(descriptor["size"]))

    def put_manifest(self, ref: str, data: bytes) -> str:
        headers = {"Content-Type": MANIFEST_TYPE}
        response = self.client.do_request(
            self._manifest_url(ref), "PUT", data=data, headers=headers
        )
        self._check(response, f"manifest {ref}")
        return "sha256:" + hashlib.sha256(data).hexdigest()

    def _check(self, response: requests.Response, what: str) -> None:
        if response.status_code in (401, 403):
            raise _unauthorized(self.url.text, f"refused {what} (HTTP {response.status_code})")
        if response.status_code >= 500:
            raise UnreachableError(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise CmpkgError(
                "cache-request-failed",
                f"{self.url.text}: {what}: HTTP {response.status_code} {_oci_error(response)}",
                hint="check the repository name and that your account may push to it",
            )


def _oci_error(response: requests.Response) -> str:
    try:
        errors = response.json().get("errors", [])
        return "; ".join(str(e.get("message", "")) for e in errors if isinstance(e, dict))
    except ValueError:
        return response.reason or ""


def read_blob(registry: Registry, digest: str, limit: int) -> bytes:
    """A small blob (an entry's metadata), at most `limit` bytes; its digest is the
    caller's to check."""
    from cmpkg.fetch.metadata import take_capped

    response = registry.client.get_blob(registry._container(), digest, stream=True)
    with response:
        registry._check(response, f"blob {digest}")
        return take_capped(response.iter_content(64 * 1024), limit, f"{registry.url.text} {digest}")
