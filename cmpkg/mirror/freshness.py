"""Whether a mirror is fresh enough to use: expiry, clock and rollback (RELIABILITY A.5).

Refused, unless the user passes `--force-mirror`:
- a mirror past its `expires` (stale metadata may lack security fixes);
- a mirror `created` in the future (beyond `CLOCK_SKEW`): either the clock is wrong or the
  manifest is forged to be "newer" than every honest mirror; accepting it would make the
  rollback record refuse every honest mirror after it, so a forced one is never recorded;
- a mirror older than the newest one already used with the same id (a rollback can bring
  back files that were fixed since). The newest creation time per id is kept in
  `$CMPKG_HOME/mirrors-seen.json`.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from cmpkg import atomic
from cmpkg.errors import CmpkgError
from cmpkg.mirror.manifest import Manifest, stamp

CLOCK_SKEW = datetime.timedelta(minutes=5)
SEEN = "mirrors-seen.json"


def check_freshness(
    manifest: Manifest, home: Path, force: bool, now: datetime.datetime | None = None
) -> list[str]:
    """Raise for a refused mirror; the warnings for one that `force` lets through."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    refusals = _refusals(manifest, home, now)
    if refusals and not force:
        code, message, hint = refusals[0]
        raise CmpkgError(code, message, hint=f"{hint}; pass --force-mirror if it is intended")
    if manifest.created <= now + CLOCK_SKEW:
        _remember(manifest, home)
    return [message for _code, message, _hint in refusals]


def _refusals(manifest: Manifest, home: Path, now: datetime.datetime) -> list[tuple[str, str, str]]:
    found = []
    if manifest.expires is not None and manifest.expires <= now:
        found.append(
            (
                "mirror-expired",
                f"this mirror expired at {stamp(manifest.expires)} (now {stamp(now)})",
                "re-create it with `cmpkg mirror create` to get current metadata",
            )
        )
    if manifest.created > now + CLOCK_SKEW:
        found.append(
            (
                "mirror-from-the-future",
                f"this mirror claims to be created at {stamp(manifest.created)}, "
                f"after now ({stamp(now)})",
                "check this machine's clock; a forged time would defeat rollback protection",
            )
        )
    newest = _seen(home).get(manifest.id)
    if newest is not None and manifest.created < newest:
        found.append(
            (
                "mirror-rollback",
                f"this mirror ({stamp(manifest.created)}) is older than one already used "
                f"({stamp(newest)})",
                "a rollback can re-introduce fixed files",
            )
        )
    return found


def _seen(home: Path) -> dict[str, datetime.datetime]:
    try:
        raw = json.loads((home / SEEN).read_text())
        return {
            str(k): datetime.datetime.fromisoformat(str(v)).astimezone(datetime.timezone.utc)
            for k, v in raw.items()
        }
    except (OSError, ValueError, AttributeError, TypeError):
        return {}  # a broken record only loses rollback protection, never blocks a mirror


def _remember(manifest: Manifest, home: Path) -> None:
    seen = _seen(home)
    newest = seen.get(manifest.id)
    if newest is None or manifest.created > newest:
        seen[manifest.id] = manifest.created
        text = json.dumps({k: stamp(v) for k, v in seen.items()}, indent=1, sort_keys=True)
        atomic.write_text(home / SEEN, text + "\n")
