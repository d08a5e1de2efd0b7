"""Large files over HTTP(S): resumed where a broken download stopped, checked, unpacked safely.

A download is written to `NAME.part` beside its final name and renamed only when every byte the
server announced has arrived, so a half-written archive is never taken for a whole one; the next
try asks the server for the rest (an HTTP Range request) instead of starting again.
"""

from __future__ import annotations

import http.client
import socket
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from core.atomic import commit
from core.errors import GiroError, first_line

CONNECT_SECONDS = 10.0  # an offline machine fails within this, never hangs
CHUNK = 1 << 20
Progress = Callable[[int, int | None], None]  # bytes so far, bytes in all (None: not announced)


class DownloadError(GiroError):
    """A server that cannot be reached, refuses, or stops sending before the end."""


def why_unreachable(error: BaseException) -> str:
    """Why a server could not be reached and what to do, in words for the host rather than a
    library's text."""
    reason = getattr(error, "reason", error)  # urllib wraps the socket's error
    text = f"{type(reason).__name__} {reason}".lower()
    if "ratelimit" in text or "rate limit" in text or "429" in text:
        return "it is refusing requests for now (a rate limit): run the set-up again in a while"
    if isinstance(reason, socket.gaierror) or "dns" in text or "name or service not known" in text:
        why = "its address could not be looked up, so this machine seems to be offline"
    elif isinstance(reason, TimeoutError) or "timed out" in text:
        why = "it did not answer in time"
    elif isinstance(reason, ConnectionRefusedError) or "refused" in text:
        why = "the connection was refused"
    else:
        why = "no connection could be made"
    return f"{why}: check this machine's internet connection and run the set-up again"


def fetch_file(url: str, target: Path, progress: Progress | None = None) -> Path:
    """`target`, downloaded from `url` unless it is already complete; resumes a broken download."""
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    have = partial.stat().st_size if partial.is_file() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "giro-dreams/1.0 (core.setup)"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    host = urllib.request.urlparse(url).netloc
    try:
        reply = urllib.request.urlopen(request, timeout=CONNECT_SECONDS)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # nothing left to send: the part is the whole file
            commit(partial, target)
            return target
        raise DownloadError(f"{host} answered {error.code} {error.reason} for {url}") from error
    except (OSError, ValueError) as error:
        raise DownloadError(f"{host} could not be reached: {why_unreachable(error)}") from error
    with reply:
        if have and reply.status != 206:  # the server ignores ranges: start again
            have = 0
        length = reply.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        with partial.open("ab" if have else "wb") as handle:
            done = have
            try:
                while chunk := reply.read(CHUNK):
                    handle.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            except (OSError, http.client.HTTPException) as error:  # IncompleteRead: cut off
                raise DownloadError(
                    f"{host} stopped sending after {done / 1e6:.1f} MB ({first_line(error)}); "
                    "run again to resume"
                ) from error
    if total is not None and done < total:
        raise DownloadError(f"{host} stopped sending after {done / 1e6:.1f} of {total / 1e6:.1f} MB; run again to resume")
    commit(partial, target)
    return target


def unpack(archive: Path, into: Path) -> None:
    """Unpack a .tgz into `into`, refusing members that would land outside it (links, `..`)."""
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")
    except (tarfile.TarError, OSError) as error:
        archive.unlink(missing_ok=True)  # a broken archive is fetched again next time
        raise DownloadError(f"{archive.name} is not a readable archive ({first_line(error)}); run again to download it anew") from error
