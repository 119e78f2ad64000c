"""Finding, downloading and verifying data files, shared by every data set loader.

Three rules keep a data cache trustworthy:

* a file is identified by the SHA-256 of its *content* (for gzip files, of the decompressed
  content, because the same data is published with different gzip headers);
* nothing is ever half-written: downloads go to a temporary name in the same folder and are
  renamed into place only after the checksum matched (``os.replace`` is atomic);
* when a file is missing and cannot be downloaded, the message says exactly which file to put
  where, so that an offline machine can be prepared by hand.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from neuralab.fileio import atomic_write_bytes
from neuralab.progress import Progress

__all__ = [
    "DataError",
    "atomic_write_bytes",
    "cache_dir",
    "data_roots",
    "download",
    "find_file",
    "md5_bytes",
    "GZIP_MAX_BYTES",
    "gunzip",
    "read_maybe_gzip",
    "sha256_bytes",
    "sha256_file",
]

#: Seconds to wait for a server before trying the next mirror.
DOWNLOAD_TIMEOUT = 30.0


class DataError(RuntimeError):
    """A data file is missing, corrupt or cannot be downloaded; the message says what to do."""


def cache_dir() -> Path:
    """The folder where downloaded data sets are cached.

    ``$NEURALAB_CACHE`` if set, else ``$XDG_CACHE_HOME/neuralab``, else ``~/.cache/neuralab``.
    """
    if os.environ.get("NEURALAB_CACHE"):
        return Path(os.environ["NEURALAB_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "neuralab"


def data_roots(root: str | os.PathLike | None, name: str) -> list[Path]:
    """The folders searched for data set ``name``, in order.

    An explicit ``root`` is searched alone (both ``root`` and ``root/name``). Otherwise
    ``$NEURALAB_DATA`` (and its ``name`` subfolder) comes first, then the cache folder.
    """
    if root is not None:
        root = Path(root).expanduser()
        return [root, root / name]
    roots: list[Path] = []
    env = os.environ.get("NEURALAB_DATA")
    if env:
        for part in env.split(os.pathsep):
            if part:
                roots += [Path(part).expanduser(), Path(part).expanduser() / name]
    roots.append(cache_dir() / name)
    return roots


def find_file(filename: str, roots: Iterable[Path]) -> Path | None:
    """The first existing ``filename`` or ``filename + '.gz'`` in ``roots``, or None."""
    for folder in roots:
        for candidate in (folder / filename, folder / (filename + ".gz")):
            if candidate.is_file():
                return candidate
    return None


def md5_bytes(content: bytes) -> str:
    """Hex MD5 of ``content`` (the checksum some data sets publish; not for security)."""
    return hashlib.md5(content).hexdigest()


def sha256_bytes(content: bytes) -> str:
    """Hex SHA-256 of ``content``."""
    return hashlib.sha256(content).hexdigest()


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


#: Decompressed size above which ``read_maybe_gzip`` stops (a gzip bomb: a few kilobytes that
#: inflate to gigabytes); callers that know the size from the format's header pass a tighter one.
GZIP_MAX_BYTES = 2 << 30


def read_maybe_gzip(path: str | os.PathLike, hint: str = "",
                    max_size: int = GZIP_MAX_BYTES) -> bytes:
    """Return the content of ``path``, decompressed if it is gzip (by its magic bytes).

    Decompression is incremental and stops as soon as the output passes ``max_size`` bytes, so a
    crafted file cannot fill the memory.

    Raises:
        DataError: the gzip stream is truncated or corrupt, or inflates beyond ``max_size``
            (naming the file and what to do).
    """
    path = Path(path)
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] != b"\x1f\x8b":
        return raw
    return gunzip(raw, path, hint or "; replace it with a good copy", max_size)


def gunzip(raw: bytes, path: Path, hint: str = "", max_size: int = GZIP_MAX_BYTES) -> bytes:
    """Decompress the gzip bytes ``raw`` (read from ``path``), at most ``max_size`` bytes of
    output; several concatenated gzip members are joined as ``gzip.decompress`` does."""
    out = bytearray()
    data = raw
    try:
        inflater = zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer (CRC, size)
        while True:
            chunk = inflater.decompress(data, max_size + 1 - len(out))
            out += chunk
            if len(out) > max_size:
                raise DataError(
                    f"{path}: the gzip file inflates to more than {max_size:,} bytes, more than "
                    f"this file can hold ({len(raw):,} bytes compressed); it is corrupt or "
                    f"crafted{hint}")
            data = inflater.unconsumed_tail
            if inflater.eof:
                rest = inflater.unused_data
                if not rest.strip(b"\0"):  # trailing zero padding, as gzip.decompress allows
                    return bytes(out)
                inflater, data = zlib.decompressobj(wbits=31), rest
            elif not data and not chunk:
                raise EOFError("compressed file ended before the end-of-stream marker")
    except (EOFError, zlib.error) as err:
        raise DataError(
            f"{path}: the gzip file is truncated or corrupt ({err})" + hint) from None


def read_response(response: Any, desc: str, chunk: int = 1 << 20) -> bytes:
    """Read an HTTP response in chunks, with a progress bar in bytes (on a terminal)."""
    length = response.headers.get("Content-Length") if response.headers else None
    total = int(length) if length and length.isdigit() else None
    parts = []
    with Progress(None, total=total, desc=desc, unit="B", unit_scale=True) as bar:
        while block := response.read(chunk):
            parts.append(block)
            bar.update(len(block))
    return b"".join(parts)


def download(filename: str, mirrors: Iterable[str], dest_dir: Path, sha256: str | None = None,
             decompressed: bool = True, timeout: float = DOWNLOAD_TIMEOUT,
             md5: str | None = None) -> Path:
    """Download ``filename`` from the first mirror that answers, verify it, store it atomically.

    Args:
        filename: the file's name on the mirrors (``train-images-idx3-ubyte.gz``).
        mirrors: base URLs ending in ``/``, tried in order.
        dest_dir: where the file is stored (created if needed).
        sha256: expected checksum; of the decompressed content when ``decompressed``.
        decompressed: verify the gunzipped content rather than the raw bytes.
        md5: expected MD5 of the raw bytes (for data sets that publish MD5s of their files).
        timeout: seconds per connection attempt.

    Returns:
        The path of the verified file.

    Raises:
        DataError: every mirror failed or served content with the wrong checksum.
    """
    failures = []
    for base in mirrors:
        url = base + filename
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "neuralab"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                content = read_response(response, f"downloading {filename}")
        except (urllib.error.URLError, OSError, ValueError) as err:
            failures.append(f"{url}: {getattr(err, 'reason', err)}")
            continue
        if sha256 is not None:
            try:
                check = gzip.decompress(content) if decompressed and content[:2] == b"\x1f\x8b" \
                    else content
            except (EOFError, OSError, zlib.error) as err:
                failures.append(f"{url}: corrupt gzip ({err})")
                continue
            got = sha256_bytes(check)
            if got != sha256:
                failures.append(f"{url}: checksum {got[:12]}... instead of {sha256[:12]}...")
                continue
        if md5 is not None and md5_bytes(content) != md5:
            failures.append(f"{url}: MD5 {md5_bytes(content)[:12]}... instead of {md5[:12]}...")
            continue
        target = Path(dest_dir) / filename
        atomic_write_bytes(target, content)
        return target
    raise DataError(f"could not download {filename}:\n  " + "\n  ".join(failures))
