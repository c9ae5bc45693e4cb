"""Imported through PYTHONPATH as `sitecustomize`-like hook by the air-gap test: records every
socket connect of the cmpkg process to the file named by CMPKG_TEST_SOCKET_LOG."""

import os
import sys
from pathlib import Path


def _hook(event: str, args: tuple) -> None:  # type: ignore[type-arg]
    if event == "socket.connect":
        with Path(os.environ["CMPKG_TEST_SOCKET_LOG"]).open("a") as log:
            log.write(repr(args[1]) + "\n")


sys.addaudithook(_hook)
