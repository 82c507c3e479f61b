"""Image processing core: sniff, validate, orient, resize, strip and encode an uploaded photo.

Pure functions over bytes, no AWS. The S3-event handler imports this module lazily, so Pillow
(imported here at the top) never loads on the API's cold start; pillow-heif is imported only when
a HEIC/HEIF upload actually arrives.

Pipeline, chosen for speed and a small peak memory (figures: docs/media-pipeline.md):

1. Sniff the real format from magic bytes; the declared content type is never trusted.
2. ``Image.open`` reads only the header: refuse decompression bombs and absurd dimensions there,
   before a single pixel is decoded.
3. JPEG: ``draft()`` asks libjpeg for DCT scaling (1/2, 1/4, 1/8) down to the smallest size that is
   still at least as big as the largest rendition needs: a big photo is never decoded in full,
   which saves decode time and most of the pixel memory. HEIC (no shrink-on-load in HEVC):
   libheif's decoded frame is resized band by band into a Pillow image of that size, so no
   full-size Pillow copy of it is ever made.
4. Cascade: ``large`` from the (drafted) source, ``small`` from ``large``, ``thumb`` from ``small``
   (or from the smallest image still big enough for it, for very wide or tall photos).
5. EXIF orientation is applied to ``large`` right after it is made, not to the source: a
   transposition costs in proportion to the pixels it moves, and because every box is square the
   rendition sizes do not depend on the order. Everything downstream of ``large`` is derived
   from it, so it is oriented too.
6. Every rendition is saved as a fresh baseline JPEG with no EXIF, GPS, XMP, comment or any other
   metadata; only the ICC colour profile is written back.

Output format: JPEG (quality 82, 4:2:0, baseline, no Huffman optimisation). WebP would make
smaller files for many times the encode time on every upload, and baseline JPEG decodes
everywhere; progressive and optimize buy little for their time. So: plain JPEG.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
from dataclasses import dataclass, field

from PIL import Image, ImageCms, UnidentifiedImageError

__all__ = [
    "LARGE_BOX",
    "SMALL_BOX",
    "THUMB_SIDE",
    "ImageRejected",
    "Processed",
    "Rendition",
    "process",
    "sniff_format",
]

LARGE_BOX = 1080  # fit within LARGE_BOX x LARGE_BOX, never upscaled
SMALL_BOX = 640
THUMB_SIDE = 320  # centre square crop, at most THUMB_SIDE x THUMB_SIDE
JPEG_QUALITY = 82
BLURHASH_BOX = 16  # blurhash input: fit within 16x16 (4x3 components need far fewer samples)
BLURHASH_COMPONENTS = (4, 3)
DEFAULT_MAX_PIXELS = 40_000_000
#: The largest colour profile copied into the renditions. Real display profiles are small (sRGB
#: ~3 KB, Display P3 ~0.5 KB); above this one the pixels are converted to sRGB and no profile is
#: written, so a profile can never make a rendition large (each rendition carries its own copy).
MAX_ICC_BYTES = 64 * 1024

# Filters (Pillow's resize always antialiases when shrinking): BICUBIC for large is as good as
# LANCZOS there and cheaper; the smaller cascade steps need LANCZOS to stay as sharp as the
# reference. Figures: docs/media-pipeline.md.
_LARGE_FILTER = Image.Resampling.BICUBIC
_CASCADE_FILTER = Image.Resampling.LANCZOS

_PIL_FORMAT = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heic": "HEIF"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_GENERIC_BRANDS = {b"mif1", b"msf1", b"heif"}
_AVIF_BRANDS = {b"avif", b"avis"}
# Image formats we recognise but do not accept (answered "unsupported_format", not "not_an_image").
_OTHER_IMAGE_MAGIC = (
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"\x00\x00\x01\x00",  # ICO
    b"8BPS",  # PSD
    b"\xff\x0a",  # JPEG XL codestream
    b"\x00\x00\x00\x0cJXL ",
)
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ORIENTATION_TAG = 0x0112
# What Pillow and its plugins raise on malformed input (fuzzing has shown all of these).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError)

_heif_registered = False


class ImageRejected(Exception):
    """The upload is not an image we accept. ``reason`` is short and machine-readable:
    not_an_image, unsupported_format, decompression_bomb, dimensions_out_of_range, truncated,
    corrupt."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason if not detail else f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Rendition:
    data: bytes
    width: int
    height: int
    content_type: str
    size: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", len(self.data))


@dataclass(frozen=True, slots=True)
class Processed:
    format: str  # sniffed source format: "jpeg" | "png" | "webp" | "heic"
    width: int  # of the original, after EXIF orientation
    height: int
    blurhash: str
    renditions: dict[str, Rendition]


def sniff_format(data: bytes) -> str:
    """The real format from magic bytes: "jpeg", "png", "webp" or "heic"; else ImageRejected."""
    head = bytes(data[:64])
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and len(head) >= 12:
        box_size = int.from_bytes(head[:4], "big")
        end = min(max(box_size, 16), len(data), 4096)
        brands = {head[8:12]} | {bytes(data[i : i + 4]) for i in range(16, end - 3, 4)}
        if brands & _HEIF_BRANDS:
            return "heic"
        if brands & _AVIF_BRANDS:
            raise ImageRejected("unsupported_format", "avif")
        if brands & _HEIF_GENERIC_BRANDS:
            return "heic"
        raise ImageRejected("not_an_image", "iso-bmff without an image brand")
    if head.startswith(_OTHER_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"AVI "):
        raise ImageRejected("unsupported_format")
    raise ImageRejected("not_an_image")


Focus = tuple[float, float]


def process(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = 12_000,
    min_side: int = 16,
    focus: Focus | None = None,
) -> Processed:
    """Validate an upload and make its ``large``/``small``/``thumb`` JPEG renditions.

    Transparency is flattened onto white on purpose (JPEG has no alpha, and a white page is what
    a transparent PNG or WebP shows on most viewers); CMYK, 16-bit and other modes become RGB
    (or L for greyscale). Metadata is never copied: only the ICC profile survives.
    Raises ImageRejected for anything that is not a sane JPEG, PNG, WebP or HEIC photo.
    """
    fmt = sniff_format(data)
    if fmt == "heic":
        _register_heif()
    # Pillow's own guard backs up the explicit header check in _process_open: lowered to this
    # call's limit, it warns above it (made an error here) and Image.open raises above twice it.
    # Both are process-wide, so they are restored after the call (Lambda runs one event at a time).
    previous_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            src = _open(data, fmt)
            try:
                return _process_open(src, fmt, max_pixels, max_side, min_side, focus)
            finally:
                src.close()
    finally:
        Image.MAX_IMAGE_PIXELS = previous_limit


def _open(data: bytes, fmt: str) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[fmt]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("decompression_bomb", str(exc)) from None
    except UnidentifiedImageError as exc:
        raise ImageRejected("corrupt", str(exc)) from None
    except _DECODE_ERRORS as exc:
        raise ImageRejected(_decode_reason(exc), str(exc)) from None


def _process_open(
    src: Image.Image,
    fmt: str,
    max_pixels: int,
    max_side: int,
    min_side: int,
    focus: Focus | None = None,
) -> Processed:
    # 1. header checks, before any pixel is decoded
    w, h = src.size
    if w * h > max_pixels:
        raise ImageRejected("decompression_bomb", f"{w}x{h}")
    if min(w, h) < min_side or max(w, h) > max_side:
        raise ImageRejected("dimensions_out_of_range", f"{w}x{h}")

    # 2. JPEG: DCT-scaled decode, just big enough for the large rendition and for the thumb's
    # crop. Every box is square, so this does not depend on the orientation.
    # HEIC: no shrink-on-load in HEVC, so the decoded frame is resized band by band instead
    # (_heic_resized), never copied whole into Pillow.
    large_size = _fit(w, h, LARGE_BOX)  # in the stored orientation: large is transposed after
    thumb_side = min(THUMB_SIDE, w, h)
    thumb_scale = thumb_side / min(w, h)
    need = (
        max(large_size[0], math.ceil(w * thumb_scale)),
        max(large_size[1], math.ceil(h * thumb_scale)),
    )
    if fmt == "jpeg":
        src.draft(None, need)  # picks the largest 1/2^k scale that still covers `need`
    loaded = src
    try:
        if fmt == "heic":
            loaded = _heic_resized(src, need) or src
        loaded.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("decompression_bomb", str(exc)) from None
    except _DECODE_ERRORS as exc:
        raise ImageRejected(_decode_reason(exc), str(exc)) from None

    # 3. orientation (EXIF, or XMP's tiff:Orientation, as ImageOps.exif_transpose reads it)
    try:
        orientation = src.getexif().get(_ORIENTATION_TAG, 1)
    except _DECODE_ERRORS:
        orientation = 1  # unreadable EXIF: show the pixels as stored
    transpose = _TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
    swap = transpose in (
        Image.Transpose.TRANSPOSE,
        Image.Transpose.TRANSVERSE,
        Image.Transpose.ROTATE_90,
        Image.Transpose.ROTATE_270,
    )
    out_w, out_h = (h, w) if swap else (w, h)
    small_size = _fit(out_w, out_h, SMALL_BOX)  # displayed orientation: made from oriented large

    icc = src.info.get("icc_profile") or None
    base, icc = _normalise(loaded, icc)
    base, icc = _checked_profile(base, icc)

    # 4. the cascade: large from the source, small from large, thumb from small
    large = _resize(base, large_size, _LARGE_FILTER)
    if transpose is not None:
        oriented = large.transpose(transpose)
        if large is not base:
            large.close()
        large = oriented
    small = large if small_size == large.size else _resize(large, small_size, _CASCADE_FILTER)
    if min(small.size) >= thumb_side:
        thumb = _square(small, thumb_side, focus)
    elif min(large.size) >= thumb_side:
        thumb = _square(large, thumb_side, focus)
    else:  # a very wide or tall photo: large is too thin for a sharp square, go back to the source
        # (not yet oriented: the crop stays centred here)
        thumb = _square(base, thumb_side)
        if transpose is not None:
            thumb = _replace(thumb, thumb.transpose(transpose))
    if base is not large:
        base.close()
    if loaded is not src and loaded is not base:
        loaded.close()

    renditions: dict[str, Rendition] = {}
    large_r = renditions["large"] = _encode(large, icc)
    renditions["small"] = large_r if small is large else _encode(small, icc)
    renditions["thumb"] = _encode(thumb, icc)
    hash_ = _blurhash(small)
    for img in {id(i): i for i in (large, small, thumb)}.values():
        img.close()
    return Processed(format=fmt, width=out_w, height=out_h, blurhash=hash_, renditions=renditions)


def _heic_resized(src: Image.Image, need: tuple[int, int]) -> Image.Image | None:
    """A HEIC's primary image resized (``_LARGE_FILTER``) to the smallest size that covers
    ``need`` (usually the large rendition's own), or None when it needs no downscaling (then
    ``load()`` decodes it whole). Made band by band straight from libheif's decoded frame
    (``resize_in_bands``: the pixels of a whole resize), so the full-size Pillow copy (4 bytes a
    pixel: 48 MB at 12 MP, beside libheif's own 36 MB) never exists.

    It reads pillow-heif's plugin state (``_heif_file``, the version pinned in requirements.txt;
    tests/unit/test_images.py fails if it moves) and, as the plugin's own ``load()`` does, lets
    go of the decoded frame once it is used."""
    w, h = src.size
    scale = max(need[0] / w, need[1] / h)
    size = (max(need[0], round(w * scale)), max(need[1], round(h * scale)))
    heif_file = getattr(src, "_heif_file", None)
    if size[0] >= w or size[1] >= h or heif_file is None:
        return None
    frame = heif_file[src.tell()]
    data = frame.data  # decodes (errors are the caller's, as with load())
    if frame.size != (w, h) or frame.mode not in ("RGB", "RGBA", "L"):
        return None  # not what the header said, or a mode Pillow cannot take raw: load() it
    resized = resize_in_bands(data, frame.size, frame.mode, frame.stride, size, _LARGE_FILTER)
    resized.info = dict(src.info)  # the profile and EXIF the rest reads
    src._heif_file = None  # type: ignore[attr-defined]  # the frame's 36 MB go with it
    return resized


#: source rows a band of resize_in_bands covers (about: output rows are whole)
BAND_ROWS = 256
#: how far each Pillow filter reaches, in source pixels at scale 1 (Pillow's own supports)
_SUPPORT = {
    Image.Resampling.BILINEAR: 1.0,
    Image.Resampling.BICUBIC: 2.0,
    Image.Resampling.LANCZOS: 3.0,
}


def resize_in_bands(
    data: object,
    size: tuple[int, int],
    mode: str,
    stride: int,
    out_size: tuple[int, int],
    resample: Image.Resampling,
) -> Image.Image:
    """``Image.frombuffer(...).resize(out_size, resample)`` over a raw ``mode`` buffer (rows
    ``stride`` bytes apart), one band of rows at a time, with one band in memory instead of the
    whole image. Each band of output rows is resized from its own source rows plus the filter's
    reach on both sides (Pillow's ``box`` keeps the sampling positions of the whole image), so
    the pixels are those of a whole resize: equal, or one level apart on the rare row whose
    sampling position lands on a pixel edge, where the band's float arithmetic rounds the
    other way (tests/unit/test_images.py)."""
    w, h = size
    out_w, out_h = out_size
    scale = h / out_h
    reach = math.ceil(_SUPPORT[resample] * max(scale, 1.0)) + 1
    rows_out = max(1, int(BAND_ROWS / scale))
    out = Image.new(mode, out_size)
    view = memoryview(data)  # type: ignore[arg-type]  # any buffer: bytes, libheif's image
    for first in range(0, out_h, rows_out):
        last = min(out_h, first + rows_out)
        y0, y1 = first * h / out_h, last * h / out_h
        top, bottom = max(0, math.floor(y0) - reach), min(h, math.ceil(y1) + reach)
        band = view[top * stride : bottom * stride]
        strip = Image.frombuffer(mode, (w, bottom - top), band, "raw", mode, stride, 1)  # type: ignore[arg-type]
        box = (0.0, y0 - top, float(w), y1 - top)
        with strip, strip.resize((out_w, last - first), resample, box=box) as part:
            out.paste(part, (0, first))
    return out


def _fit(w: int, h: int, box: int) -> tuple[int, int]:
    """The size of (w, h) scaled to fit within box x box, never upscaled."""
    if w <= box and h <= box:
        return w, h
    scale = box / max(w, h)
    return max(1, min(box, round(w * scale))), max(1, min(box, round(h * scale)))


def _resize(img: Image.Image, size: tuple[int, int], resample: Image.Resampling) -> Image.Image:
    if img.size == size:
        return img
    # reducing_gap: when the image is >= 6x the target (a big PNG/WebP/HEIC, which have no DCT
    # scaling), box-reduce by an integer factor first: much faster, for a small loss of quality.
    # Figures: docs/media-pipeline.md.
    return img.resize(size, resample, reducing_gap=3.0)


def _square(img: Image.Image, side: int, focus: Focus | None = None) -> Image.Image:
    """Square crop of img around ``focus`` (x, y in -1..1, y up; the centre without one),
    kept inside the image, resized to side x side, in one resampling pass."""
    w, h = img.size
    m = min(w, h)
    fx, fy = focus or (0.0, 0.0)
    left = min(max((fx + 1) / 2 * w - m / 2, 0), w - m)
    top = min(max((1 - fy) / 2 * h - m / 2, 0), h - m)
    box = (left, top, left + m, top + m)
    return img.resize((side, side), _CASCADE_FILTER, box=box, reducing_gap=3.0)


def square_thumb(large_jpeg: bytes, focus: Focus | None) -> Rendition:
    """A new ``thumb`` from a ``large`` rendition, cropped around ``focus`` (the media's focus
    changed after processing)."""
    with Image.open(io.BytesIO(large_jpeg), formats=["JPEG"]) as img:
        img.load()
        icc = img.info.get("icc_profile")
        thumb = _square(img, min(THUMB_SIDE, *img.size), focus)
        try:
            return _encode(thumb, icc)
        finally:
            thumb.close()


def _replace(old: Image.Image, new: Image.Image) -> Image.Image:
    old.close()
    return new


def _normalise(img: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    """An "RGB" or "L" image ready for JPEG, and the ICC profile that still describes it.

    Alpha (RGBA, LA, PA, P or L/RGB with a tRNS transparency key) is flattened onto white on
    purpose. CMYK goes through its ICC profile to sRGB when it has one (the CMYK profile cannot
    describe RGB pixels, so it is dropped); 16-bit greyscale is scaled, not clipped, to 8 bits.
    """
    mode = img.mode
    try:
        if mode in ("RGB", "L"):
            if "transparency" not in img.info:
                return img, icc
            return _flatten(img.convert("RGBA" if mode == "RGB" else "LA")), icc
        if mode in ("RGBA", "RGBa", "LA", "La"):
            return _flatten(img), icc
        if mode in ("P", "PA"):
            has_alpha = mode == "PA" or "transparency" in img.info
            return (_flatten(img.convert("RGBA")) if has_alpha else img.convert("RGB")), icc
        if mode == "1":
            return img.convert("L"), icc
        if mode.startswith("I") or mode == "F":
            return img.convert("I").point(lambda v: v / 256).convert("L"), icc
        if mode == "CMYK":
            return _cmyk_to_rgb(img, icc), None
        return img.convert("RGB"), None  # RGBX, YCbCr, HSV, LAB ...: the profile no longer fits
    except ValueError as exc:  # a conversion Pillow does not offer
        raise ImageRejected("unsupported_format", f"mode {mode}: {exc}") from None


_ICC_SPACES = {"RGB": "RGB ", "L": "GRAY"}  # the ICC colour space that describes each mode


def _checked_profile(img: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    """The image and the profile to write with it: a profile only if lcms parses it and it
    describes the image's colour space; a valid RGB profile over MAX_ICC_BYTES is applied
    (pixels converted to sRGB) and not written; anything else is dropped (sRGB assumed, as
    browsers do for an untagged image)."""
    if not icc:
        return img, None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = profile.profile.xcolor_space
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return img, None  # not an ICC profile: arbitrary bytes are never copied
    if space != _ICC_SPACES.get(img.mode):
        return img, None
    if len(icc) <= MAX_ICC_BYTES:
        return img, icc
    if img.mode != "RGB":
        return img, None
    try:
        converted = ImageCms.profileToProfile(
            img, profile, ImageCms.createProfile("sRGB"), outputMode="RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img, None  # a profile lcms reads but cannot build a transform from
    if converted is None:  # only with inPlace=True
        return img, None
    return converted, None


def _flatten(img: Image.Image) -> Image.Image:
    """Composite an image with alpha onto an opaque white background (RGBA -> RGB, LA -> L).

    One new image only: paste() takes the colour bands of an RGBA source and its alpha as the
    mask as they are, so no RGB copy and no separate alpha band are made (a lower peak memory;
    figures: docs/media-pipeline.md).
    """
    if img.mode in ("RGBa", "La"):  # premultiplied: undo before compositing
        img = img.convert(img.mode[:-1] + "A")
    if img.mode == "LA":
        background = Image.new("L", img.size, 255)
        background.paste(img.getchannel("L"), mask=img.getchannel("A"))
    else:
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img, mask=img)
    return background


def _cmyk_to_rgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    if icc:
        try:
            src_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            rgb = ImageCms.profileToProfile(
                img, src_profile, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            if rgb is not None:
                return rgb
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken or non-CMYK profile: fall back to Pillow's naive conversion
    return img.convert("RGB")


def _encode(img: Image.Image, icc: bytes | None) -> Rendition:
    """A fresh JPEG: nothing of the source's metadata but the ICC profile."""
    img.info = {}  # Pillow's JPEG writer would otherwise copy a COM comment from info
    buf = io.BytesIO()
    options: dict[str, object] = {"quality": JPEG_QUALITY}
    if icc:
        options["icc_profile"] = icc
    img.save(buf, "JPEG", **options)
    return Rendition(
        data=buf.getvalue(), width=img.width, height=img.height, content_type="image/jpeg"
    )


def _blurhash(img: Image.Image) -> str:
    import blurhash  # pure Python, no dependencies; only ~300 pixels go through it

    tiny = img.resize(_fit(img.width, img.height, BLURHASH_BOX), Image.Resampling.BOX)
    if tiny.mode != "RGB":
        tiny = _replace(tiny, tiny.convert("RGB"))
    raw = tiny.tobytes()
    tw, th = tiny.size
    tiny.close()
    rows = [
        [tuple(raw[o : o + 3]) for o in range(y * tw * 3, (y + 1) * tw * 3, 3)] for y in range(th)
    ]
    # blurhash ships no types (its encode is untyped, so mypy sees Any); it returns a str.
    encoded: str = blurhash.encode(rows, *BLURHASH_COMPONENTS)
    return encoded


#: glibc's mallopt parameter, and the size from which a buffer is mapped on its own
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1024 * 1024


def _return_big_buffers() -> None:
    """Every buffer of 1 MiB or more gets its own mapping, given back to the system when freed.

    glibc's default raises the threshold to the largest buffer freed so far (up to 32 MiB), so
    once libheif has freed its first big buffer the next ones come from the heap, where what is
    freed stays in the process and fragments. Fixing it (which also turns the adjustment off)
    took a 12 MP HEIC's peak from 116 to 87 MiB for ~5% more time, but costs a 12 MP JPEG ~15%
    (fresh mappings) for 2 MiB: so it is done when the first HEIC arrives (``_register_heif``),
    not before (glibc cannot go back to adjusting). Figures in docs/media-pipeline.md. Only
    where there is a mallopt (glibc; elsewhere nothing changes)."""
    import contextlib
    import ctypes

    # the interpreter's own symbols (libc's: no library search); no mallopt (macOS): nothing done
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def _register_heif() -> None:
    """Once per process, when the first HEIC arrives: pillow-heif's opener, and the allocator
    set to give libheif's big buffers back (``_return_big_buffers``)."""
    global _heif_registered
    if _heif_registered:
        return
    try:
        import pillow_heif
    except ImportError:  # pragma: no cover - pillow-heif is in requirements.txt
        raise ImageRejected("unsupported_format", "heic support not installed") from None
    # Embedded thumbnails and depth/aux images are never used: a HEIC's thumbnail can show
    # something other than its main image, so renditions always come from the primary image.
    # One decode thread: Lambda below 1,769 MB has one vCPU, and each libheif thread keeps its
    # own malloc arena, so more threads cost memory and gain little time (figures:
    # docs/media-pipeline.md).
    pillow_heif.register_heif_opener(
        thumbnails=False, depth_images=False, aux_images=False, decode_threads=1
    )
    _return_big_buffers()
    _heif_registered = True


def _decode_reason(exc: BaseException) -> str:
    return "truncated" if "truncated" in str(exc).lower() else "corrupt"
