"""Character-level text corpora for recurrent language models (Lecture 15), e.g. Tiny Shakespeare.

A :class:`CharCorpus` holds a text as integer indices into its vocabulary (the sorted set of its
characters), splits it into a training part and a validation tail, and cuts it into
mini-batches in the two ways a language model is trained:

* :meth:`CharCorpus.batches`, for truncated backpropagation through time: the text is laid out
  as B parallel streams, and consecutive (B, T) chunks continue each stream where the previous
  chunk stopped, so the final hidden state of one chunk is the right initial state of the next
  (carry it over with ``detach_state``);
* :class:`TextDataset`, independent windows of T characters with their targets (the next
  character at every position), in memory as ``data``/``targets`` (M, T) for the DataLoader.

Tiny Shakespeare (Karpathy's char-rnn corpus, 1,115,394 characters) is looked for in ``root``,
else in ``$NEURALAB_DATA`` (and its ``tinyshakespeare/`` subfolder), else in the cache folder,
and downloaded there when missing; it is verified by SHA-256. Offline, a ~100 KB excerpt of the
real text shipped inside the package stands in (``is_excerpt``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.data.dataset import Dataset
from neuralab.data.download import DataError, cache_dir, data_roots, find_file, sha256_bytes
from neuralab.data.download import download as download_file
from neuralab.data.sequence import BPTTLoader

__all__ = ["CharCorpus", "TextDataset", "tinyshakespeare", "TINYSHAKESPEARE_SHA256"]

#: SHA-256 of tinyshakespeare/input.txt (1,115,394 bytes).
TINYSHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
#: SHA-256 of the shipped excerpt (the first 99,843 characters of the same file).
EXCERPT_SHA256 = "b4a657aedf64a7c4dbb5201c11d9c2443df0145061c8df8c386b30266dc1f389"
EXCERPT = "tinyshakespeare_excerpt.txt"
MIRRORS = ["https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/"]
_SPLITS = ("train", "val", "all")


def _codes(text: str) -> Any:
    """The Unicode code points of ``text`` as a uint32 array (no Python loop over characters)."""
    return xp.frombuffer(text.encode("utf-32-le"), dtype=xp.uint32)


class CharCorpus:
    """A text as character indices, with its vocabulary and a train/validation split.

    Args:
        text: the whole corpus.
        val_fraction: the share of the text, taken from its end, kept for validation.
        chars: the vocabulary (a string of distinct characters); by default the sorted set of
            the characters of ``text``. Give it to encode a text with another corpus's indices.
        source: where the text came from (for messages and reports).

    Attributes:
        chars: the vocabulary, index i <-> ``chars[i]``.
        data: int64 (L,) the whole text encoded.
        train_data, val_data: the two parts of ``data`` (views).
        is_excerpt: True when the shipped excerpt stands in for the full corpus.
    """

    def __init__(self, text: str, val_fraction: float = 0.1, chars: str | None = None,
                 source: str = "text") -> None:
        if not isinstance(text, str) or len(text) < 2:
            raise ValueError("CharCorpus: text must be a string of at least 2 characters")
        if isinstance(val_fraction, bool) or not 0 <= val_fraction < 1:
            raise ValueError(f"CharCorpus: val_fraction must be in [0, 1), got {val_fraction!r}")
        if chars is None:
            chars = "".join(sorted(set(text)))
        elif len(set(chars)) != len(chars):
            raise ValueError("CharCorpus: chars must not repeat a character")
        self.chars = chars
        self.source = source
        self.is_excerpt = False
        self._order = xp.argsort(_codes(chars))  # sorted position -> index in chars
        self._sorted_codes = _codes(chars)[self._order]
        self._char_array = xp.array(list(chars)) if chars else xp.array([], dtype="<U1")
        self.data = self.encode(text)
        n_val = int(len(self.data) * val_fraction)
        self.val_fraction = float(val_fraction)
        self.train_data = self.data[:len(self.data) - n_val]
        self.val_data = self.data[len(self.data) - n_val:]

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_file(cls, path: str | os.PathLike, val_fraction: float = 0.1,
                  sha256: str | None = None, encoding: str = "utf-8") -> CharCorpus:
        """Read a text file; with ``sha256``, verify its bytes first.

        Raises:
            DataError: the checksum does not match (naming the file and what to do).
        """
        path = Path(path)
        raw = path.read_bytes()
        if sha256 is not None:
            got = sha256_bytes(raw)
            if got != sha256:
                raise DataError(f"{path}: checksum mismatch (SHA-256 {got}, expected {sha256}); "
                                "the file is corrupt or a different text: replace it with "
                                "a good copy, or move it away so that neuralab downloads one")
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as err:
            raise DataError(f"{path}: not {encoding} text (byte {err.start}: {err.reason}); is it "
                            "a binary or compressed file? Give a plain text file") from None
        return cls(text, val_fraction=val_fraction, source=str(path))

    @classmethod
    def tinyshakespeare(cls, root: str | os.PathLike | None = None, download: bool = True,
                        excerpt: bool | None = None, val_fraction: float = 0.1,
                        verify: bool = True) -> CharCorpus:
        """Tiny Shakespeare (1,115,394 characters, vocabulary of 65).

        Args:
            root: folder holding ``input.txt`` (or a ``tinyshakespeare/`` subfolder with it);
                None searches ``$NEURALAB_DATA`` and the cache folder.
            download: fetch the file when missing (skipped when ``$NEURALAB_OFFLINE`` is set).
            excerpt: None uses the full text when available and the shipped excerpt otherwise
                (with a message); True always uses the excerpt; False requires the full text.
            val_fraction: the validation share, from the end of the text.
            verify: check the SHA-256 of the file.
        """
        if excerpt:
            return _excerpt(val_fraction)
        path = find_file("input.txt", data_roots(root, "tinyshakespeare"))
        if path is None and download and not os.environ.get("NEURALAB_OFFLINE"):
            dest = Path(root).expanduser() if root is not None else cache_dir() / "tinyshakespeare"
            try:
                print(f"tinyshakespeare: downloading input.txt to {dest}", file=sys.stderr)
                path = download_file("input.txt", MIRRORS, dest, sha256=TINYSHAKESPEARE_SHA256,
                                     decompressed=False, timeout=15.0)
            except (DataError, OSError) as err:
                print(f"tinyshakespeare: download failed: {err}", file=sys.stderr)
        if path is None:
            where = ", ".join(str(r) for r in data_roots(root, "tinyshakespeare"))
            message = (f"To use the full corpus, put Tiny Shakespeare's input.txt in one of: "
                       f"{where} (or set NEURALAB_DATA=/path/to/folder, or pass root=).")
            if excerpt is False:
                raise DataError(f"tinyshakespeare: input.txt not found. {message}")
            corpus = _excerpt(val_fraction)
            print(f"tinyshakespeare: full text not found, using the shipped excerpt "
                  f"({len(corpus.data)} characters). {message}", file=sys.stderr)
            return corpus
        return cls.from_file(path, val_fraction, TINYSHAKESPEARE_SHA256 if verify else None)

    # ------------------------------------------------------------------ vocabulary
    @property
    def vocab_size(self) -> int:
        """Number of distinct characters."""
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.data)

    def encode(self, text: str) -> Any:
        """Characters -> int64 indices (L,).

        Raises:
            ValueError: ``text`` has characters outside the vocabulary (they are listed).
        """
        codes = _codes(text)
        pos = xp.searchsorted(self._sorted_codes, codes)
        pos = xp.minimum(pos, max(len(self.chars) - 1, 0))
        known = self._sorted_codes[pos] == codes if len(self.chars) else xp.zeros(len(codes), bool)
        if not known.all():
            unknown = sorted({chr(c) for c in codes[~known][:1000]})
            raise ValueError(f"CharCorpus.encode: characters not in the vocabulary of "
                             f"{len(self.chars)}: {unknown!r}")
        return self._order[pos].astype(xp.int64)

    def decode(self, indices: Any) -> str:
        """Indices (a sequence, ndarray or Tensor of any shape, flattened) -> text."""
        idx = xp.asarray(indices.array if isinstance(indices, Tensor) else indices).reshape(-1)
        if idx.size and (idx.dtype.kind not in "iu" or idx.min() < 0
                         or idx.max() >= len(self.chars)):
            raise ValueError(f"CharCorpus.decode: indices must be integers in [0, "
                             f"{len(self.chars)}), got {idx.dtype} values in "
                             f"[{idx.min()}, {idx.max()}]")
        return "".join(self._char_array[idx].tolist())

    # ------------------------------------------------------------------ batches
    def split(self, name: str) -> Any:
        """The encoded text of ``'train'``, ``'val'`` or ``'all'``."""
        if name not in _SPLITS:
            raise ValueError(f"CharCorpus: split must be one of {_SPLITS}, got {name!r}")
        return {"train": self.train_data, "val": self.val_data, "all": self.data}[name]

    def num_batches(self, split: str = "train", batch_size: int = 32, seq_len: int = 100,
                    drop_last: bool = False) -> int:
        """How many chunks :meth:`batches` yields."""
        return len(BPTTLoader(self.split(split), batch_size, seq_len, drop_last))

    def batches(self, split: str = "train", batch_size: int = 32, seq_len: int = 100,
                drop_last: bool = False, as_tensor: bool = True) -> Iterator[tuple[Any, Any]]:
        """Chunks (x, y) of shape (B, T) of a split for truncated BPTT, in order.

        The split is cut into ``batch_size`` contiguous streams, one per row; chunk k holds
        characters [kT, (k+1)T) of every stream and y is x shifted by one character
        (y[b, t] = the character after x[b, t]). Chunk k+1 continues chunk k row by row, so the
        hidden state at the end of one chunk is the initial state of the next. (A re-iterable
        loader of the same chunks, for ``Trainer``: :class:`~neuralab.data.sequence.BPTTLoader`.)

        Args:
            split: ``'train'``, ``'val'`` or ``'all'``.
            batch_size: B, the number of parallel streams.
            seq_len: T, the truncation length of BPTT.
            drop_last: drop a last chunk shorter than T.
            as_tensor: yield int64 Tensors (else ndarrays).
        """
        return iter(BPTTLoader(self.split(split), batch_size, seq_len, drop_last, as_tensor,
                               name=f"CharCorpus.batches ({split} split)"))

    def dataset(self, split: str = "train", seq_len: int = 100) -> TextDataset:
        """The split as a :class:`TextDataset` of independent windows of ``seq_len``."""
        return TextDataset(self, seq_len=seq_len, split=split)

    def __repr__(self) -> str:
        return (f"CharCorpus({len(self.data)} characters, vocabulary {self.vocab_size}, "
                f"train {len(self.train_data)}, val {len(self.val_data)}, source={self.source!r})")


def _excerpt(val_fraction: float) -> CharCorpus:
    ref = resources.files("neuralab.data").joinpath("shipped", EXCERPT)
    raw = ref.read_bytes()
    if sha256_bytes(raw) != EXCERPT_SHA256:
        raise DataError(f"tinyshakespeare: the shipped excerpt {EXCERPT} is corrupt (checksum "
                        "mismatch); reinstall neuralab")
    corpus = CharCorpus(raw.decode("utf-8"), val_fraction=val_fraction, source="shipped excerpt")
    corpus.is_excerpt = True
    return corpus


def tinyshakespeare(root: str | os.PathLike | None = None, **options: Any) -> CharCorpus:
    """Shorthand for :meth:`CharCorpus.tinyshakespeare`."""
    return CharCorpus.tinyshakespeare(root, **options)


class TextDataset(Dataset):
    """Windows of ``seq_len`` characters and their next-character targets, in memory.

    Example i is x = text[s_i : s_i + T], y = text[s_i + 1 : s_i + T + 1] with s_i = i·stride.
    ``data`` and ``targets`` are int64 (M, T) arrays, so the DataLoader batches them by fancy
    indexing (and may shuffle: the windows are independent, unlike :meth:`CharCorpus.batches`).

    Args:
        source: a :class:`CharCorpus`, a string (its own vocabulary is built), or a path to a
            text file.
        seq_len: T.
        split: which part of a corpus (``'train'``, ``'val'``, ``'all'``).
        stride: distance between window starts (default T: non-overlapping windows).
        val_fraction: for a string or path source, the validation share.
    """

    _array_batched = True  # __getitem__ is (data[i], targets[i]): batched by fancy indexing

    def __init__(self, source: Any, seq_len: int = 100, split: str = "train",
                 stride: int | None = None, val_fraction: float = 0.1) -> None:
        if isinstance(source, CharCorpus):
            corpus = source
        elif isinstance(source, Path) or (isinstance(source, str) and os.path.isfile(source)
                                          and len(source) < 4096):
            corpus = CharCorpus.from_file(source, val_fraction=val_fraction)
        elif isinstance(source, str):
            corpus = CharCorpus(source, val_fraction=val_fraction)
        else:
            raise TypeError(f"TextDataset: source must be a CharCorpus, a text or a file path, "
                            f"got {type(source).__name__}")
        for name, v in (("seq_len", seq_len), ("stride", stride if stride is not None else 1)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"TextDataset: {name} must be a positive integer, got {v!r}")
        stride = seq_len if stride is None else stride
        self.corpus = corpus
        self.seq_len, self.stride, self.split = seq_len, stride, split
        text = corpus.split(split)
        count = (len(text) - 1 - seq_len) // stride + 1 if len(text) > seq_len else 0
        if count <= 0:
            raise ValueError(f"TextDataset: the {split} split has {len(text)} characters, too "
                             f"few for windows of seq_len={seq_len} plus one target")
        starts = xp.arange(count) * stride
        offsets = starts[:, None] + xp.arange(seq_len)[None, :]  # (M, T) positions
        self.data = text[offsets]
        self.targets = text[offsets + 1]

    @property
    def chars(self) -> str:
        return self.corpus.chars

    @property
    def vocab_size(self) -> int:
        return self.corpus.vocab_size

    def encode(self, text: str) -> Any:
        return self.corpus.encode(text)

    def decode(self, indices: Any) -> str:
        return self.corpus.decode(indices)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self.data[index], self.targets[index]

    def __len__(self) -> int:
        return len(self.data)
