"""Image transforms applied to whole batches with array operations (Lectures 9 and 12).

Data augmentation enlarges the training set with label-preserving changes: random crops of a
zero-padded image and horizontal flips for CIFAR (He et al., 2016), random-size crops for ImageNet
(Szegedy et al., 2015), and scale jittering for VGG (Simonyan & Zisserman, 2015: rescale the shorter
side to a random S in [S_min, S_max], then crop).

Every transform takes a single image or a batch and returns the same kind:

* ``ToTensor`` turns an image as a data set hands it to a ``transform=`` (a Pillow image, a uint8
  (H, W) grey or (H, W, C) colour array, like torchvision's PIL images), or an NHWC batch, into
  float32 CHW (or NCHW) in [0, 1];
* every other transform works on channels-first arrays, ``(C, H, W)`` or ``(N, C, H, W)``, of any
  dtype, and on ``Tensor``s holding them (the result is then a Tensor, without gradient); the
  geometric ones (crops, flips, resizing) also take an image before ``ToTensor`` (a Pillow image,
  a uint8 (H, W) or (H, W, C) array with C in 1, 3, 4) and return the same kind, so torchvision's
  ``Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(), ToTensor(), Normalize(...)])``
  works as written.

Random transforms draw one set of parameters *per sample* and apply them to the whole batch at once
with fancy indexing, so a DataLoader can augment a batch of 128 CIFAR images without a Python loop
over the images. They draw from ``generator`` when given, else from ``neuralab.backend.rng()``
(seeded by ``neuralab.manual_seed``).

Resampling (``Resize``, ``RandomResizedCrop``, ``ScaleJitter``) is bilinear with half-pixel centres,
like PyTorch's ``interpolate(mode='bilinear', align_corners=False)`` without antialiasing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from neuralab.autograd import Tensor
from neuralab.backend import as_rng, xp

__all__ = [
    "CenterCrop", "Compose", "Lambda", "Normalize", "RandomCrop", "RandomHorizontalFlip",
    "RandomResizedCrop", "RandomShift", "Resize", "ScaleJitter", "ToTensor", "batch_transform",
]


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _is_pil(x: Any) -> bool:
    # Pillow is an optional dependency of neuralab: recognise its images without importing it.
    return type(x).__module__.startswith("PIL.")


def _image_layout(x: Any) -> str | None:
    """How an image before ``ToTensor`` is laid out: "pil", "hw" (grey), "hwc", else None.

    A Pillow image, or a uint8 array of shape (H, W) or (H, W, C) with C in 1, 3, 4: what a data
    set with a ``transform=`` hands to it (torchvision hands a PIL image).
    """
    if _is_pil(x):
        return "pil"
    if isinstance(x, xp.ndarray) and x.dtype == xp.uint8:
        if x.ndim == 2:
            return "hw"
        if x.ndim == 3 and x.shape[2] in (1, 3, 4):
            return "hwc"
    return None


def _unwrap(x: Any, name: str) -> tuple[Any, Any, bool]:
    """(array as NCHW, how to give the result back, was it a single image).

    The second item is "tensor" or "array" for channels-first input, or the image layout
    ("pil", "hw", "hwc") of an image before ``ToTensor``.
    """
    layout = _image_layout(x)
    if layout is not None:
        array = xp.asarray(x)
        if array.ndim == 2:
            array = array[:, :, None]
        return array.transpose(2, 0, 1)[None], layout, True  # (H, W, C) -> (1, C, H, W)
    is_tensor = isinstance(x, Tensor)
    array = x.array if is_tensor else xp.asarray(x)
    kind = "tensor" if is_tensor else "array"
    if array.ndim == 3:
        return array[None], kind, True
    if array.ndim == 4:
        return array, kind, False
    raise ValueError(
        f"{name}: expected a channels-first image (C, H, W) or batch (N, C, H, W), or an image "
        f"before ToTensor (uint8 (H, W) or (H, W, C), or a Pillow image), got an array of shape "
        f"{tuple(array.shape)} and dtype {array.dtype}"
    )


def _wrap(array: Any, kind: Any, single: bool) -> Any:
    if single:
        array = array[0]
    if kind in ("hw", "hwc", "pil"):
        image = xp.ascontiguousarray(array.transpose(1, 2, 0))  # (C, H, W) -> (H, W, C)
        if kind == "hw" or (kind == "pil" and image.shape[2] == 1):
            image = image[:, :, 0]
        if kind == "pil":
            from PIL import Image  # the input was a Pillow image, so Pillow is installed

            return Image.fromarray(image)
        return image
    return Tensor._from_op(array, None, 0) if kind == "tensor" else array


def _pair(size: int | Sequence[int], name: str, arg: str = "size") -> tuple[int, int]:
    if isinstance(size, (int, xp.integer)) and not isinstance(size, bool):
        pair = (int(size), int(size))
    elif isinstance(size, Sequence) and len(size) == 2:
        pair = (int(size[0]), int(size[1]))
    else:
        raise ValueError(f"{name}: {arg} must be an int or a pair (h, w), got {size!r}")
    if min(pair) <= 0:
        raise ValueError(f"{name}: {arg} must be positive, got {size!r}")
    return pair


def _generator(generator: Any) -> Any:
    return as_rng(generator)


def _resample(x: Any, top: Any, left: Any, height: Any, width: Any,
              out_h: int, out_w: int) -> Any:
    """Bilinear resampling of one box per sample to ``(out_h, out_w)``.

    ``x`` is ``(N, C, H, W)``; ``top, left, height, width`` are length-N float arrays giving each
    sample's box in input pixels. Output pixel i of a box of height h samples the input at
    ``top + (i + 0.5) * h / out_h - 0.5`` (half-pixel centres), clamped to the box's
    border pixels, so it equals cropping the box and then resizing it.
    """
    N, C, H, W = x.shape
    dtype = x.dtype if x.dtype.kind == "f" else xp.float32
    # Sample coordinates, (N, out_h) and (N, out_w).
    ys = top[:, None] + (xp.arange(out_h) + 0.5)[None, :] * (height / out_h)[:, None] - 0.5
    xs = left[:, None] + (xp.arange(out_w) + 0.5)[None, :] * (width / out_w)[:, None] - 0.5
    # Clamp inside the box (as cropping first, then resizing, would) and inside the image.
    y_hi = xp.clip(top + height - 1, 0, H - 1)[:, None]
    x_hi = xp.clip(left + width - 1, 0, W - 1)[:, None]
    ys = xp.minimum(xp.maximum(ys, xp.clip(top, 0, H - 1)[:, None]), y_hi)
    xs = xp.minimum(xp.maximum(xs, xp.clip(left, 0, W - 1)[:, None]), x_hi)
    y0 = xp.floor(ys).astype(xp.intp)
    x0 = xp.floor(xs).astype(xp.intp)
    y1 = xp.minimum(y0 + 1, H - 1)
    x1 = xp.minimum(x0 + 1, W - 1)
    wy = (ys - y0).astype(dtype)[:, None, :, None]  # (N, 1, out_h, 1)
    wx = (xs - x0).astype(dtype)[:, None, None, :]  # (N, 1, 1, out_w)
    n = xp.arange(N)[:, None, None]

    def gather(yi: Any, xi: Any) -> Any:
        # x[n, :, y, x] with advanced indices split by a slice: result (N, out_h, out_w, C).
        g = x[n, :, yi[:, :, None], xi[:, None, :]]
        return g.transpose(0, 3, 1, 2).astype(dtype, copy=False)  # (N, C, out_h, out_w)

    top_row = gather(y0, x0) * (1 - wx) + gather(y0, x1) * wx
    bottom_row = gather(y1, x0) * (1 - wx) + gather(y1, x1) * wx
    out = top_row * (1 - wy) + bottom_row * wy
    if x.dtype.kind != "f":  # keep integer images integer (rounded, clipped)
        info = xp.iinfo(x.dtype)
        out = xp.clip(xp.rint(out), info.min, info.max).astype(x.dtype)
    return out


def _output_size(size: int | Sequence[int], H: int, W: int, name: str) -> tuple[int, int]:
    """``size`` as (h, w); an int scales the shorter side to it, keeping the aspect ratio."""
    if isinstance(size, (int, xp.integer)) and not isinstance(size, bool):
        if size <= 0:
            raise ValueError(f"{name}: size must be positive, got {size}")
        if H <= W:
            return int(size), max(1, int(size * W / H))
        return max(1, int(size * H / W)), int(size)
    return _pair(size, name)


# ---------------------------------------------------------------------------------------------
# transforms
# ---------------------------------------------------------------------------------------------


class Compose:
    """Apply transforms one after another: ``Compose([ToTensor(), Normalize(m, s)])``."""

    def __init__(self, transforms: Sequence[Callable]):
        for t in transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got {t!r}")
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class ToTensor:
    """An image to float32 CHW in [0, 1] (``x / 255`` for uint8), as torchvision's ``ToTensor``.

    Takes a Pillow image (any mode: 'L' gives one channel), a uint8 array (H, W) (grey) or
    (H, W, C), or an NHWC batch. Float input is assumed to be channels-last already in [0, 1] and
    is only transposed. A ``Tensor`` is refused, as in torchvision: it is already channels-first.
    Returns a ``Tensor`` (without gradient).
    """

    def __call__(self, x: Any) -> Tensor:
        if isinstance(x, Tensor):
            raise TypeError(
                "ToTensor: the input is already a Tensor (channels-first); ToTensor takes an "
                "image as a data set hands it to transform= (a Pillow image or a uint8 (H, W) / "
                "(H, W, C) array): apply it once, first in the Compose"
            )
        array = xp.asarray(x)
        if array.ndim == 2:  # grey (H, W), like PIL mode 'L'
            array = array[:, :, None]
        if array.ndim not in (3, 4):
            raise ValueError(
                f"ToTensor: expected an (H, W) or (H, W, C) image or an NHWC batch, got shape "
                f"{tuple(array.shape)}"
            )
        axes = (2, 0, 1) if array.ndim == 3 else (0, 3, 1, 2)
        if array.dtype == xp.uint8:
            out = array.transpose(axes).astype(xp.float32) * xp.float32(1 / 255)
        elif array.dtype.kind == "f":
            out = xp.ascontiguousarray(array.transpose(axes), dtype=xp.float32)
        elif array.dtype == xp.bool_ or array.dtype.kind in "iu":
            # PIL mode '1' (bool) and 'I' (int32) images: values as they are, as torchvision.
            out = array.transpose(axes).astype(xp.float32)
        else:
            raise TypeError(f"ToTensor: expected uint8 or float images, got dtype {array.dtype}")
        return Tensor._from_op(xp.ascontiguousarray(out), None, 0)

    def __repr__(self) -> str:
        return "ToTensor()"


class Lambda:
    """A user function as a transform: ``Lambda(lambda x: x.repeat(3, 1, 1))``."""

    def __init__(self, lambd: Callable):
        if not callable(lambd):
            raise TypeError(f"Lambda: expected a callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, x: Any) -> Any:
        return self.lambd(x)

    def __repr__(self) -> str:
        return "Lambda()"


class Normalize:
    """Per-channel standardisation ``(x - mean[c]) / std[c]`` of float CHW/NCHW images.

    Args:
        mean: one value per channel (for CIFAR-10 ``(0.4914, 0.4822, 0.4465)``).
        std: one positive value per channel.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        self.mean = xp.asarray(mean, dtype=xp.float32).reshape(-1)
        self.std = xp.asarray(std, dtype=xp.float32).reshape(-1)
        if self.mean.shape != self.std.shape:
            raise ValueError(
                f"Normalize: mean has {self.mean.size} values but std has {self.std.size}"
            )
        if (self.std <= 0).any():
            raise ValueError(f"Normalize: std must be positive, got {list(std)}")

    def __call__(self, x: Any) -> Any:
        array, kind, single = _unwrap(x, "Normalize")
        C = array.shape[1]
        if self.mean.size not in (1, C):
            raise ValueError(
                f"Normalize: the images have {C} channels but mean/std have {self.mean.size} "
                "values"
            )
        if array.dtype.kind != "f":
            raise TypeError(
                f"Normalize: expected float images, got {array.dtype}; apply ToTensor first"
            )
        # (x - mean) * (1/std) with (1, C, 1, 1) broadcasting.
        out = (array - self.mean.reshape(1, -1, 1, 1).astype(array.dtype)) * (
            1 / self.std).reshape(1, -1, 1, 1).astype(array.dtype)
        return _wrap(out, kind, single)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Resize:
    """Bilinear resize to ``size``: an (h, w) pair, or an int for the shorter side."""

    def __init__(self, size: int | Sequence[int]):
        if isinstance(size, Sequence):
            _pair(size, "Resize")
        elif not isinstance(size, (int, xp.integer)) or size <= 0:
            raise ValueError(f"Resize: size must be a positive int or a pair, got {size!r}")
        self.size = size

    def __call__(self, x: Any) -> Any:
        array, kind, single = _unwrap(x, "Resize")
        N, _, H, W = array.shape
        out_h, out_w = _output_size(self.size, H, W, "Resize")
        if (out_h, out_w) == (H, W):
            return _wrap(array, kind, single)
        ones = xp.ones(N)
        out = _resample(array, 0 * ones, 0 * ones, H * ones, W * ones, out_h, out_w)
        return _wrap(out, kind, single)

    def __repr__(self) -> str:
        return f"Resize(size={self.size})"


class CenterCrop:
    """Crop the central ``size`` window (an int for a square, or (h, w))."""

    def __init__(self, size: int | Sequence[int]):
        self.size = _pair(size, "CenterCrop")

    def __call__(self, x: Any) -> Any:
        array, kind, single = _unwrap(x, "CenterCrop")
        H, W = array.shape[2:]
        h, w = self.size
        if h > H or w > W:
            raise ValueError(f"CenterCrop: crop {self.size} is larger than the image ({H}, {W})")
        top, left = (H - h) // 2, (W - w) // 2
        return _wrap(array[:, :, top:top + h, left:left + w], kind, single)

    def __repr__(self) -> str:
        return f"CenterCrop(size={self.size})"


class RandomCrop:
    """A random ``size`` window per sample, after padding the image, as torchvision's.

    The CIFAR augmentation of He et al. (2016): pad 4 pixels, crop 32x32. All windows are taken
    at once: a strided view lists every window, and fancy indexing picks one per sample.

    Args:
        size: crop size, int or (h, w).
        padding: added before cropping: an int for every side, (left/right, top/bottom), or
            (left, top, right, bottom), as torchvision.
        pad_if_needed: also pad an image smaller than ``size`` up to it.
        fill: the value of constant padding.
        padding_mode: "constant", "edge", "reflect" or "symmetric" (NumPy's ``pad`` modes,
            the same names and meaning as torchvision's).
        generator: a ``numpy.random.Generator`` or ``neuralab.Generator``; default
            ``neuralab.backend.rng()``.
    """

    _MODES = ("constant", "edge", "reflect", "symmetric")

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] | None = None,
                 pad_if_needed: bool = False, fill: float = 0,
                 padding_mode: str = "constant", generator: Any = None):
        self.size = _pair(size, "RandomCrop")
        pads = 0 if padding is None else padding
        if isinstance(pads, (int, xp.integer)) and not isinstance(pads, bool):
            pads = (pads,) * 4
        elif isinstance(pads, Sequence) and len(pads) == 2:
            pads = (pads[0], pads[1], pads[0], pads[1])
        if not (isinstance(pads, Sequence) and len(pads) == 4
                and all(isinstance(v, (int, xp.integer)) and not isinstance(v, bool) and v >= 0
                        for v in pads)):
            raise ValueError(f"RandomCrop: padding must be a non-negative int, a pair or four "
                             f"ints (left, top, right, bottom), got {padding!r}")
        if padding_mode not in self._MODES:
            raise ValueError(f"RandomCrop: padding_mode must be one of {self._MODES}, got "
                             f"{padding_mode!r}")
        self.padding = padding if padding is not None else 0
        self._pads = tuple(int(v) for v in pads)  # (left, top, right, bottom)
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode
        self.generator = generator

    def _pad(self, array: Any, left: int, top: int, right: int, bottom: int) -> Any:
        if not (left or top or right or bottom):
            return array
        widths = ((0, 0), (0, 0), (top, bottom), (left, right))
        if self.padding_mode == "constant":
            return xp.pad(array, widths, constant_values=self.fill)
        return xp.pad(array, widths, mode=self.padding_mode)

    def __call__(self, x: Any) -> Any:
        array, kind, single = _unwrap(x, "RandomCrop")
        array = self._pad(array, *self._pads)
        h, w = self.size
        if self.pad_if_needed:
            dh, dw = max(0, h - array.shape[2]), max(0, w - array.shape[3])
            array = self._pad(array, dw, dh, dw, dh)
        N, _, H, W = array.shape
        if h > H or w > W:
            raise ValueError(
                f"RandomCrop: crop {self.size} is larger than the padded image ({H}, {W})"
            )
        g = as_rng(self.generator)
        top = g.integers(0, H - h + 1, size=N)
        left = g.integers(0, W - w + 1, size=N)
        # windows[n, c, i, j] is the (h, w) window at (i, j): shape (N, C, H-h+1, W-w+1, h, w).
        windows = xp.lib.stride_tricks.sliding_window_view(array, (h, w), axis=(2, 3))
        out = windows[xp.arange(N), :, top, left]  # (N, C, h, w): advanced dims go first
        return _wrap(xp.ascontiguousarray(out), kind, single)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror each sample left-right with probability ``p``."""

    def __init__(self, p: float = 0.5, generator: Any = None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p
        self.generator = generator

    def __call__(self, x: Any) -> Any:
        array, kind, single = _unwrap(x, "RandomHorizontalFlip")
        flip = _generator(self.generator).random(array.shape[0]) < self.p
        out = array.copy()
        out[flip] = array[flip][..., ::-1]
        return _wrap(out, kind, single)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomShift:
    """Translate each sample by its own random offset of up to ``max_shift`` pixels each way.

    The augmentation of Lecture 9 for digits: a digit moved by a pixel or two is the same digit,
    so every shifted copy is a new training example. Sample n is moved by (dy_n, dx_n), each
    uniform in {−s, ..., s}; the uncovered border takes the value ``fill`` (the background:
    0 for raw images, the normalised value of black for normalised ones):

        out[n, c, i, j] = x[n, c, i − dy_n, j − dx_n], or ``fill`` outside the image.

    This is ``RandomCrop(size=(H, W), padding=s, fill=fill)`` (a window of the padded image at a
    random position) computed as one gather over the whole batch.

    Args:
        max_shift: s, the largest shift in pixels (0: the input is returned unchanged).
        fill: the value of the uncovered border.
        generator: a ``numpy.random.Generator`` or ``neuralab.Generator``; default
            ``neuralab.backend.rng()``.
    """

    def __init__(self, max_shift: int, fill: float = 0.0, generator: Any = None):
        if isinstance(max_shift, bool) or not isinstance(max_shift, (int, xp.integer)) \
                or max_shift < 0:
            raise ValueError(f"RandomShift: max_shift must be a non-negative integer, got "
                             f"{max_shift!r}")
        self.max_shift, self.fill, self.generator = int(max_shift), fill, generator

    def __call__(self, x: Any) -> Any:
        s = self.max_shift
        if s == 0:
            return x
        array, kind, single = _unwrap(x, "RandomShift")
        N, C, H, W = array.shape
        padded = xp.pad(array, ((0, 0), (0, 0), (s, s), (s, s)), constant_values=self.fill)
        top, left = _generator(self.generator).integers(0, 2 * s + 1, size=(2, N))  # s − dy, s − dx
        rows = top[:, None] + xp.arange(H)  # (N, H)
        cols = left[:, None] + xp.arange(W)  # (N, W)
        out = padded[xp.arange(N)[:, None, None, None], xp.arange(C)[None, :, None, None],
                     rows[:, None, :, None], cols[:, None, None, :]]  # (N, C, H, W)
        return _wrap(out, kind, single)

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift}, fill={self.fill})"


class RandomResizedCrop:
    """A random box per sample (area fraction in ``scale``, aspect ratio in ``ratio``) resized
    to ``size``: the ImageNet augmentation of GoogLeNet (Szegedy et al., 2015).

    Boxes are drawn as in PyTorch: up to 10 tries of (area, log-uniform ratio) that fit, else the
    central crop with the aspect ratio clamped to ``ratio``. Draws are vectorised over the batch.
    """

    def __init__(self, size: int | Sequence[int], scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3 / 4, 4 / 3), generator: Any = None):
        self.size = _pair(size, "RandomResizedCrop")
        if not (0 < scale[0] <= scale[1] <= 1):
            raise ValueError(
                f"RandomResizedCrop: scale must satisfy 0 < lo <= hi <= 1, got {scale}")
        if not (0 < ratio[0] <= ratio[1]):
            raise ValueError(f"RandomResizedCrop: ratio must satisfy 0 < lo <= hi, got {ratio}")
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.generator = generator

    def boxes(self, N: int, H: int, W: int) -> tuple[Any, Any, Any, Any]:
        """Per-sample (top, left, height, width) integer boxes, each an array of length N."""
        g = _generator(self.generator)
        area = H * W
        top = xp.zeros(N, dtype=xp.int64)
        left = xp.zeros(N, dtype=xp.int64)
        height = xp.zeros(N, dtype=xp.int64)
        width = xp.zeros(N, dtype=xp.int64)
        todo = xp.ones(N, dtype=bool)
        log_ratio = xp.log(xp.asarray(self.ratio))
        for _ in range(10):
            if not todo.any():
                break
            target = area * g.uniform(self.scale[0], self.scale[1], size=N)
            aspect = xp.exp(g.uniform(log_ratio[0], log_ratio[1], size=N))
            w = xp.rint(xp.sqrt(target * aspect)).astype(xp.int64)
            h = xp.rint(xp.sqrt(target / aspect)).astype(xp.int64)
            ok = todo & (w > 0) & (h > 0) & (w <= W) & (h <= H)
            t = (g.random(N) * (H - h + 1)).astype(xp.int64)
            lft = (g.random(N) * (W - w + 1)).astype(xp.int64)
            top[ok], left[ok], height[ok], width[ok] = t[ok], lft[ok], h[ok], w[ok]
            todo &= ~ok
        if todo.any():  # fallback: central crop with the ratio clamped
            in_ratio = W / H
            if in_ratio < self.ratio[0]:
                w, h = W, int(round(W / self.ratio[0]))
            elif in_ratio > self.ratio[1]:
                h, w = H, int(round(H * self.ratio[1]))
            else:
                w, h = W, H
            top[todo], left[todo] = (H - h) // 2, (W - w) // 2
            height[todo], width[todo] = h, w
        return top, left, height, width

    def __call__(self, x: Any) -> Any:
        array, kind, single = _unwrap(x, "RandomResizedCrop")
        N, _, H, W = array.shape
        top, left, height, width = self.boxes(N, H, W)
        out = _resample(array, top.astype(float), left.astype(float), height.astype(float),
                        width.astype(float), *self.size)
        return _wrap(out, kind, single)

    def __repr__(self) -> str:
        return f"RandomResizedCrop(size={self.size}, scale={self.scale}, ratio={self.ratio})"


class ScaleJitter:
    """VGG's scale jittering: rescale the shorter side to a random S in [s_min, s_max] (one S
    per sample), then take a random ``crop`` window (Simonyan & Zisserman, 2015, Sec. 3.1).

    Rescaling by S / min(H, W) and cropping ``crop`` pixels is the same as taking a box of
    ``crop * min(H, W) / S`` input pixels and resampling it to ``crop``; that is what is computed,
    for every sample at once.

    Args:
        s_min, s_max: range of the training scale S (256 and 512 in the paper); ``s_min >= crop``.
        crop: output size (224 in the paper), int or (h, w).
    """

    def __init__(self, s_min: int, s_max: int, crop: int | Sequence[int],
                 generator: Any = None):
        self.crop = _pair(crop, "ScaleJitter", "crop")
        if not (0 < s_min <= s_max):
            raise ValueError(f"ScaleJitter: need 0 < s_min <= s_max, got {s_min}, {s_max}")
        if s_min < max(self.crop):
            raise ValueError(
                f"ScaleJitter: s_min={s_min} is smaller than the crop {self.crop}; the rescaled "
                "image must contain the crop"
            )
        self.s_min, self.s_max = s_min, s_max
        self.generator = generator

    def __call__(self, x: Any) -> Any:
        array, kind, single = _unwrap(x, "ScaleJitter")
        N, _, H, W = array.shape
        g = _generator(self.generator)
        S = g.integers(self.s_min, self.s_max + 1, size=N).astype(float)
        factor = S / min(H, W)  # rescale factor per sample
        ch, cw = self.crop
        # Box in input pixels, and its random position inside the image.
        bh, bw = ch / factor, cw / factor
        top = g.random(N) * (H - bh)
        left = g.random(N) * (W - bw)
        out = _resample(array, top, left, bh, bw, ch, cw)
        return _wrap(out, kind, single)

    def __repr__(self) -> str:
        return f"ScaleJitter(s_min={self.s_min}, s_max={self.s_max}, crop={self.crop})"


def batch_transform(transform: Callable | None) -> Callable | None:
    """A function applying ``transform`` to a whole batch of raw images at once, when that gives
    exactly what applying it to each image gives; else None.

    Deterministic, elementwise pipelines qualify: ``ToTensor()`` first, then any number of
    ``Normalize``. A DataLoader uses the returned function to batch an in-memory data set by fancy
    indexing; random transforms (crops, flips), ``Lambda`` and user functions return None, and the
    data set is then read image by image, each image through ``transform`` exactly once.

    The returned function takes uint8 images as the data set stores them, (N, H, W) grey or
    (N, H, W, C), and returns a float32 (N, C, H, W) array.
    """
    steps = transform.transforms if type(transform) is Compose else [transform]
    if not steps or type(steps[0]) is not ToTensor:
        return None
    if any(type(t) is not Normalize for t in steps[1:]):
        return None

    def apply(images: Any) -> Any:
        if images.ndim == 3:  # (N, H, W) grey -> (N, H, W, 1)
            images = images[..., None]
        x = steps[0](images).array  # (N, C, H, W), the per-image arithmetic on the whole batch
        for t in steps[1:]:
            x = t(x)
        return x

    return apply
