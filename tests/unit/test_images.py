"""chalicelib.images: sniffing, validation, orientation, renditions, privacy and colour.

Every input is made here with Pillow (or zlib), in memory: no binary fixtures.
"""

from __future__ import annotations

import io
import struct
import time
import zlib

import pytest
from PIL import ExifTags, Image, ImageChops, ImageCms, ImageDraw
from PIL.JpegImagePlugin import JpegImageFile

from chalicelib import images
from chalicelib.images import ImageRejected

RED, BLUE, GREEN, WHITE = (220, 30, 30), (30, 30, 220), (30, 200, 30), (255, 255, 255)


# ------------------------------------------------------------------ helpers


def photo(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A cheap photo-like image: a colour gradient with a few shapes on it."""
    gradient = Image.linear_gradient("L").resize((width, height))
    img = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.ROTATE_180), gradient))
    draw = ImageDraw.Draw(img)
    draw.ellipse((width // 4, height // 4, width // 2, height // 2), fill=RED)
    draw.rectangle((width // 2, height // 2, width * 3 // 4, height * 3 // 4), fill=BLUE)
    return img if mode == "RGB" else img.convert(mode)


def encode(img: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def opened(rendition: images.Rendition) -> Image.Image:
    img = Image.open(io.BytesIO(rendition.data))
    img.load()
    return img


def near(pixel, colour, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@pytest.fixture(scope="module")
def jpeg_12mp() -> bytes:
    return encode(photo(4000, 3000), quality=90)


@pytest.fixture(scope="module")
def png_bomb() -> bytes:
    """A valid 40,000 x 40,000 1-bit greyscale PNG (1.6 gigapixels) of ~0.9 MB, written with
    zlib directly: 200 MB of zero rows deflated at level 1 (~0.3 s)."""
    width = height = 40_000
    row = b"\x00" * (1 + width // 8)  # filter byte + packed bits
    deflate = zlib.compressobj(1)
    block = row * 1000
    idat = b"".join([deflate.compress(block) for _ in range(height // 1000)] + [deflate.flush()])
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


# ------------------------------------------------------------------ renditions


def test_process_makes_three_renditions_of_the_right_sizes(jpeg_12mp):
    # Given a 12 MP landscape JPEG
    # When it is processed
    result = images.process(jpeg_12mp)
    # Then large fits 1080, small fits 640, thumb is a 320 square, all JPEG
    assert (result.format, result.width, result.height) == ("jpeg", 4000, 3000)
    sizes = {name: (r.width, r.height) for name, r in result.renditions.items()}
    assert sizes == {"large": (1080, 810), "small": (640, 480), "thumb": (320, 320)}
    for rendition in result.renditions.values():
        img = opened(rendition)
        assert img.format == "JPEG"
        assert img.size == (rendition.width, rendition.height)
        assert rendition.content_type == "image/jpeg"
        assert rendition.size == len(rendition.data)


def test_process_uses_jpeg_dct_scaling_for_the_large_rendition(jpeg_12mp, monkeypatch):
    # Given a spy on JPEG draft()
    calls = []
    real_draft = JpegImageFile.draft

    def spy(self, mode, size):
        calls.append(size)
        return real_draft(self, mode, size)

    monkeypatch.setattr(JpegImageFile, "draft", spy)
    # When a 12 MP JPEG is processed
    images.process(jpeg_12mp)
    # Then libjpeg was asked for a scaled decode that still covers the large rendition
    assert len(calls) == 1
    width, height = calls[0]
    assert 1080 <= width < 2000 and 810 <= height < 1500


def test_process_does_not_upscale_small_images():
    # Given a 200x150 photo
    data = encode(photo(200, 150))
    # When it is processed
    result = images.process(data)
    # Then every rendition keeps its size, and the thumb is its largest centre square
    sizes = {name: (r.width, r.height) for name, r in result.renditions.items()}
    assert sizes == {"large": (200, 150), "small": (200, 150), "thumb": (150, 150)}


def test_process_thumb_of_a_panorama_comes_from_the_source():
    # Given a very wide panorama, whose large rendition is only 135 px tall
    data = encode(photo(8000, 1000))
    # When it is processed
    result = images.process(data)
    # Then the thumb is still a full 320 square (not 135), made from the decoded source
    r = result.renditions
    assert (r["large"].width, r["large"].height) == (1080, 135)
    assert (r["small"].width, r["small"].height) == (640, 80)
    assert (r["thumb"].width, r["thumb"].height) == (320, 320)


def test_process_thumb_is_the_centre_square():
    # Given a landscape image: red left third, green centre, blue right third
    img = Image.new("RGB", (900, 300), GREEN)
    ImageDraw.Draw(img).rectangle((0, 0, 299, 299), fill=RED)
    ImageDraw.Draw(img).rectangle((600, 0, 899, 299), fill=BLUE)
    # When it is processed
    thumb = opened(images.process(encode(img, quality=95)).renditions["thumb"])
    # Then the thumb shows only the green centre
    assert thumb.size == (300, 300)
    for xy in ((5, 150), (150, 150), (294, 150)):
        assert near(thumb.getpixel(xy), GREEN), xy


def test_process_is_deterministic(jpeg_12mp):
    # Given the same upload twice
    # When it is processed twice
    first, second = images.process(jpeg_12mp), images.process(jpeg_12mp)
    # Then sizes, bytes and blurhash agree
    assert first.blurhash == second.blurhash
    for name in ("large", "small", "thumb"):
        a, b = first.renditions[name], second.renditions[name]
        assert (a.width, a.height, a.size) == (b.width, b.height, b.size)
        assert a.data == b.data


def test_process_blurhash_has_4x3_components():
    # Given a photo
    # When it is processed
    blurhash = images.process(encode(photo(800, 600))).blurhash
    # Then the hash is a 4x3 blurhash: size flag "L" ((3-1)*9 + (4-1) = 21) and 28 characters
    assert blurhash[0] == "L"
    assert len(blurhash) == 28


# ------------------------------------------------------------------ orientation


def test_process_applies_exif_orientation_6():
    # Given an upright portrait (red top, blue bottom, green left edge), stored rotated 90 degrees
    # counter-clockwise with EXIF orientation 6, as a phone held upright writes it
    upright = Image.new("RGB", (1500, 2000), WHITE)
    draw = ImageDraw.Draw(upright)
    draw.rectangle((0, 0, 1499, 399), fill=RED)
    draw.rectangle((0, 1600, 1499, 1999), fill=BLUE)
    draw.rectangle((0, 400, 199, 1599), fill=GREEN)
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    assert stored.size == (2000, 1500)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = encode(stored, quality=92, exif=exif.tobytes())
    # When it is processed
    result = images.process(data)
    # Then the original's oriented size is portrait, every rendition too, and the top is the top
    assert (result.width, result.height) == (1500, 2000)
    large = opened(result.renditions["large"])
    assert large.size == (810, 1080)
    w, h = large.size
    assert near(large.getpixel((w // 2, 20)), RED)
    assert near(large.getpixel((w // 2, h - 20)), BLUE)
    assert near(large.getpixel((20, h // 2)), GREEN)
    assert near(large.getpixel((w - 20, h // 2)), WHITE)
    small = opened(result.renditions["small"])
    assert small.size == (480, 640)
    assert near(small.getpixel((240, 10)), RED)
    assert result.renditions["thumb"].width == result.renditions["thumb"].height == 320


QUADRANTS = {(0, 0): RED, (1, 0): GREEN, (0, 1): BLUE, (1, 1): WHITE}  # (right?, bottom?)
UNDO = {  # the transposition that stores an upright image so that orientation N shows it upright
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def quadrant_image(width: int, height: int) -> Image.Image:
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for (right, bottom), colour in QUADRANTS.items():
        x0, y0 = right * width // 2, bottom * height // 2
        draw.rectangle((x0, y0, x0 + width // 2 - 1, y0 + height // 2 - 1), fill=colour)
    return img


def assert_quadrants(img: Image.Image, label: str) -> None:
    w, h = img.size
    for (right, bottom), colour in QUADRANTS.items():
        xy = (w // 4 + right * w // 2, h // 4 + bottom * h // 2)
        assert near(img.getpixel(xy), colour), (label, xy, img.getpixel(xy), colour)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(
    "upright_size", [(1500, 2000), (900, 7200)], ids=["portrait", "tall-panorama"]
)
def test_process_applies_every_exif_orientation(orientation, upright_size):
    # Given an upright image with four coloured quadrants, stored transposed with the EXIF
    # orientation that undoes it (the tall panorama's thumb is made from the source, not large)
    upright = quadrant_image(*upright_size)
    undo = UNDO[orientation]
    stored = upright if undo is None else upright.transpose(undo)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    data = encode(stored, quality=92, exif=exif.tobytes())
    # When it is processed
    result = images.process(data)
    # Then every rendition shows the upright image
    assert (result.width, result.height) == upright_size
    for name, rendition in result.renditions.items():
        img = opened(rendition)
        if name != "thumb":
            assert img.width / img.height == pytest.approx(upright_size[0] / upright_size[1], 0.02)
        assert_quadrants(img, name)


# ------------------------------------------------------------------ privacy and colour


def test_process_strips_exif_gps_xmp_and_comments():
    # Given a JPEG with camera EXIF, a GPS position, XMP and a comment
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.Model] = "Model-X-4242"
    exif[ExifTags.Base.Orientation] = 1
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 22.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (4.0, 53.0, 42.0)
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        b'22-rdf-syntax-ns#"><rdf:Description photoshop:City="Secretville" xmlns:photoshop='
        b'"http://ns.adobe.com/photoshop/1.0/"/></rdf:RDF></x:xmpmeta>'
    )
    data = encode(
        photo(1600, 1200), quality=90, exif=exif.tobytes(), xmp=xmp, comment=b"home address"
    )
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input really has them
    assert "xmp" in source.info and "comment" in source.info
    # When it is processed
    result = images.process(data)
    # Then no rendition carries any of it
    for name, rendition in result.renditions.items():
        img = opened(rendition)
        assert len(img.getexif()) == 0, name
        assert not img.getexif().get_ifd(ExifTags.IFD.GPSInfo), name
        assert not {"exif", "xmp", "comment"} & set(img.info), (name, set(img.info))
        for marker in (b"Exif", b"SecretCam", b"Model-X", b"xmpmeta", b"Secretville", b"home"):
            assert marker not in rendition.data, (name, marker)


def test_process_keeps_the_icc_profile():
    # Given a JPEG with an ICC colour profile
    icc = srgb_icc()
    data = encode(photo(1200, 900), quality=90, icc_profile=icc)
    # When it is processed
    result = images.process(data)
    # Then every rendition carries the same profile
    for name, rendition in result.renditions.items():
        assert opened(rendition).info.get("icc_profile") == icc, name


def padded_icc(extra: int) -> bytes:
    """A valid sRGB profile grown by ``extra`` bytes (its header's size updated): lcms reads it."""
    icc = bytearray(srgb_icc() + bytes(extra))
    icc[0:4] = struct.pack(">I", len(icc))
    return bytes(icc)


def test_a_megabyte_of_arbitrary_icc_bytes_is_dropped():
    # Given a tiny PNG whose colour profile is a megabyte of random bytes (issue 10, point 10)
    junk = random_bytes(1 << 20)
    data = encode(photo(64, 48), "PNG", icc_profile=junk)
    assert len(data) > 1 << 20
    # When it is processed
    result = images.process(data)
    # Then no rendition carries the bytes: each is the size of a 64x48 JPEG
    for name, rendition in result.renditions.items():
        assert len(rendition.data) < 8 * 1024, (name, len(rendition.data))
        assert opened(rendition).info.get("icc_profile") is None, name


def test_a_truncated_icc_profile_is_dropped():
    data = encode(photo(64, 48), "PNG", icc_profile=srgb_icc()[:200])
    for name, rendition in images.process(data).renditions.items():
        assert opened(rendition).info.get("icc_profile") is None, name


def test_a_valid_icc_profile_over_the_cap_is_applied_not_copied():
    # Given a valid RGB profile bigger than the cap
    icc = padded_icc(images.MAX_ICC_BYTES)
    assert ImageCms.ImageCmsProfile(io.BytesIO(icc)).profile.xcolor_space == "RGB "
    source = photo(400, 300)
    data = encode(source, "PNG", icc_profile=icc)
    # When it is processed
    result = images.process(data)
    # Then the pixels went through it to sRGB (here sRGB to sRGB: the colours stay) and no
    # rendition carries the profile
    for name, rendition in result.renditions.items():
        img = opened(rendition)
        assert img.info.get("icc_profile") is None, name
        assert len(rendition.data) < 64 * 1024, name
    large = opened(result.renditions["large"])
    assert near(large.getpixel((150, 112)), RED)  # inside the red ellipse


def test_a_profile_for_another_colour_space_is_dropped():
    # Given a greyscale PNG tagged with an RGB profile (it cannot describe grey pixels)
    data = encode(photo(64, 48, "L"), "PNG", icc_profile=srgb_icc())
    for name, rendition in images.process(data).renditions.items():
        assert opened(rendition).info.get("icc_profile") is None, name


def test_a_valid_profile_under_the_cap_is_kept_on_a_png():
    icc = padded_icc(10_000)
    data = encode(photo(64, 48), "PNG", icc_profile=icc)
    for name, rendition in images.process(data).renditions.items():
        assert opened(rendition).info.get("icc_profile") == icc, name


def random_bytes(size: int) -> bytes:
    import os

    return os.urandom(size)


def test_process_flattens_transparency_onto_white():
    # Given an RGBA PNG: left half fully transparent black, right half opaque red
    img = Image.new("RGBA", (400, 200), (0, 0, 0, 0))
    ImageDraw.Draw(img).rectangle((200, 0, 399, 199), fill=(*RED, 255))
    # When it is processed
    result = images.process(encode(img, "PNG"))
    # Then transparent pixels are white, opaque ones keep their colour
    assert result.format == "png"
    large = opened(result.renditions["large"])
    assert large.mode == "RGB"
    assert near(large.getpixel((50, 100)), WHITE, 8)
    assert near(large.getpixel((350, 100)), RED, 12)


def test_process_flattens_a_palette_image_with_transparency_onto_white():
    # Given a palette PNG whose index 0 is transparent
    img = Image.new("P", (100, 100), 0)
    img.putpalette([0, 0, 0, *RED] + [0] * 762)
    ImageDraw.Draw(img).rectangle((50, 0, 99, 99), fill=1)
    data = encode(img, "PNG", transparency=0)
    # When it is processed
    large = opened(images.process(data).renditions["large"])
    # Then the transparent half is white, not black
    assert near(large.getpixel((10, 50)), WHITE, 8)
    assert near(large.getpixel((90, 50)), RED, 12)


def test_process_converts_cmyk_to_rgb():
    # Given a CMYK JPEG of pure cyan
    img = Image.new("CMYK", (300, 200), (255, 0, 0, 0))
    # When it is processed
    large = opened(images.process(encode(img, quality=95)).renditions["large"])
    # Then the rendition is RGB and still cyan
    assert large.mode == "RGB"
    assert near(large.getpixel((150, 100)), (0, 255, 255), 30)


def test_process_scales_16_bit_greyscale_instead_of_clipping():
    # Given a 16-bit greyscale PNG at 40000/65535 (~61 % grey)
    img = Image.new("I;16", (100, 100), 40_000)
    # When it is processed
    large = opened(images.process(encode(img, "PNG")).renditions["large"])
    # Then it is mid grey, not clipped to white
    value = large.getpixel((50, 50))
    assert abs((value if isinstance(value, int) else value[0]) - 156) <= 4


# ------------------------------------------------------------------ formats


def test_process_accepts_webp():
    # Given a WebP upload
    data = encode(photo(800, 600), "WEBP", quality=80)
    # When it is processed
    result = images.process(data)
    # Then it is recognised as WebP and rendered to JPEG
    assert result.format == "webp"
    sizes = {name: (r.width, r.height) for name, r in result.renditions.items()}
    assert sizes == {"large": (800, 600), "small": (640, 480), "thumb": (320, 320)}
    assert opened(result.renditions["small"]).format == "JPEG"


def test_process_accepts_heic():
    # Given a HEIC upload, if pillow-heif can encode one here
    pillow_heif = pytest.importorskip("pillow_heif")
    if not pillow_heif.libheif_info().get("HEIF"):
        pytest.skip("this libheif build has no HEVC encoder: cannot make a HEIC input")
    heif = pillow_heif.from_pillow(photo(800, 600))
    buf = io.BytesIO()
    heif.save(buf, quality=80, enc_params={"preset": "ultrafast"})
    # When it is processed
    result = images.process(buf.getvalue())
    # Then it is recognised as HEIC and rendered to JPEG
    assert (result.format, result.width, result.height) == ("heic", 800, 600)
    large = opened(result.renditions["large"])
    assert (large.format, large.size) == ("JPEG", (800, 600))
    assert near(large.getpixel((300, 225)), RED, 50)  # inside the ellipse


def heic(img: Image.Image) -> bytes:
    """``img`` as a HEIC file, or a skip when this libheif cannot encode HEVC."""
    pillow_heif = pytest.importorskip("pillow_heif")
    if not pillow_heif.libheif_info().get("HEIF"):
        pytest.skip("this libheif build has no HEVC encoder: cannot make a HEIC input")
    buf = io.BytesIO()
    pillow_heif.from_pillow(img).save(buf, quality=80, enc_params={"preset": "ultrafast"})
    return buf.getvalue()


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
@pytest.mark.parametrize(
    ("size", "out_size", "resample"),
    [
        ((301, 203), (100, 67), Image.Resampling.BICUBIC),
        ((300, 1200), (81, 324), Image.Resampling.LANCZOS),
        ((640, 480), (639, 479), Image.Resampling.BILINEAR),
    ],
)
def test_resizing_in_bands_gives_the_pixels_of_a_whole_resize(
    monkeypatch, mode, size, out_size, resample
):
    # Given a raw buffer with padded rows (as libheif leaves them), cut into bands of a few rows
    monkeypatch.setattr(images, "BAND_ROWS", 10)
    img = photo(*size, mode)
    pad = 7
    row = len(img.tobytes()) // img.height
    raw = b"".join(
        img.tobytes()[y * row : (y + 1) * row] + b"\x00" * pad for y in range(img.height)
    )
    # When it is resized band by band
    resized = images.resize_in_bands(raw, img.size, mode, row + pad, out_size, resample)
    # Then every pixel is the one a whole resize gives, edges and band seams included, or one
    # level from it where a sampling position lands on a pixel edge (float rounding)
    assert resized.size == out_size
    whole = img.resize(out_size, resample)
    differences = ImageChops.difference(resized, whole).tobytes()
    assert max(differences) <= 1
    assert sum(1 for d in differences if d) <= len(differences) // 50


def test_a_large_heic_is_resized_in_bands_before_pillow_sees_it(monkeypatch):
    # Given a 3000x2000 HEIC (HEVC has no shrink-on-load)
    data = heic(photo(3000, 2000))
    sizes = []
    resize = images.resize_in_bands

    def spy(*args):
        sizes.append(args[4])
        return resize(*args)

    monkeypatch.setattr(images, "resize_in_bands", spy)
    # When it is processed, and again decoded whole for comparison
    result = images.process(data)
    monkeypatch.setattr(images, "_heic_resized", lambda src, need: None)
    whole = images.process(data)
    # Then libheif's frame went straight to the large rendition's size (so no 3000x2000
    # Pillow copy was made: this fails if pillow-heif's plugin stops exposing its frame), and
    # every rendition is the whole decode's
    assert sizes == [(1080, 720)]
    assert (result.width, result.height) == (3000, 2000)
    assert {n: (r.width, r.height) for n, r in result.renditions.items()} == {
        "large": (1080, 720),
        "small": (640, 427),
        "thumb": (320, 320),
    }
    assert {n: r.data for n, r in result.renditions.items()} == {
        n: r.data for n, r in whole.renditions.items()
    }
    assert result.blurhash == whole.blurhash
    assert near(opened(result.renditions["large"]).getpixel((405, 270)), RED, 50)


def test_a_small_heic_is_decoded_whole():
    # Given a HEIC no bigger than the large rendition needs
    data = heic(photo(1200, 900))
    # When it is processed
    result = images.process(data)
    # Then it is rendered from the whole decode (nothing to reduce)
    assert result.renditions["large"].width == 1080


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"\xff\xd8\xff\xe0" + b"\x00" * 60, "jpeg"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 60, "png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 60, "webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x14ftypheix\x00\x00\x00\x00heix", "heic"),
    ],
)
def test_sniff_format_reads_magic_bytes(data, fmt):
    assert images.sniff_format(data) == fmt


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not_an_image"),
        (b"hello, I am a text file declared as image/jpeg\n" * 20, "not_an_image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not_an_image"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isomiso2", "not_an_image"),  # MP4 video
        (b"GIF89a" + b"\x00" * 40, "unsupported_format"),
        (b"BM" + b"\x00" * 40, "unsupported_format"),
        (b"II*\x00" + b"\x00" * 40, "unsupported_format"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "unsupported_format"),
    ],
)
def test_process_rejects_what_is_not_an_accepted_image(data, reason):
    with pytest.raises(ImageRejected) as raised:
        images.process(data)
    assert raised.value.reason == reason


def test_process_rejects_a_text_file_declared_as_jpeg():
    # Given a text file that an uploader called photo.jpg with Content-Type image/jpeg
    data = b"This is not a photo.\n" * 100
    # When it is processed
    with pytest.raises(ImageRejected) as raised:
        images.process(data)
    # Then it is refused as not an image
    assert raised.value.reason == "not_an_image"


def test_process_ignores_the_extension_a_png_is_sniffed_as_png():
    # Given PNG bytes (whatever the upload claimed)
    data = encode(photo(300, 200), "PNG")
    # When it is processed
    result = images.process(data)
    # Then the sniffed format is png
    assert result.format == "png"


# ------------------------------------------------------------------ hostile and broken input


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_process_rejects_a_truncated_jpeg(jpeg_12mp, keep):
    # Given a JPEG cut short
    data = jpeg_12mp[: int(len(jpeg_12mp) * keep)]
    # When it is processed
    with pytest.raises(ImageRejected) as raised:
        images.process(data)
    # Then it is refused as truncated
    assert raised.value.reason == "truncated"


def test_process_rejects_a_truncated_png():
    data = encode(photo(400, 300), "PNG")
    with pytest.raises(ImageRejected) as raised:
        images.process(data[: len(data) // 2])
    assert raised.value.reason == "truncated"


@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
def test_process_rejects_a_cut_short_webp_or_png(fmt):
    # Given a WebP or PNG cut to a third (libwebp cannot tell "truncated" from "corrupt")
    data = encode(photo(400, 300), fmt)
    # When it is processed
    with pytest.raises(ImageRejected) as raised:
        images.process(data[: len(data) // 3])
    # Then it is refused
    assert raised.value.reason in {"truncated", "corrupt"}


def test_process_rejects_garbage_after_a_jpeg_signature():
    # Given a JPEG signature followed by noise
    data = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
    # When it is processed
    with pytest.raises(ImageRejected) as raised:
        images.process(data)
    # Then it is refused as corrupt
    assert raised.value.reason in {"corrupt", "truncated"}


def test_process_rejects_a_png_bomb_from_the_header(png_bomb, monkeypatch):
    # Given a 1.6-gigapixel 1-bit PNG of under a megabyte, and a tripwire on decoding
    assert len(png_bomb) < 4_000_000

    def tripwire(self):
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(Image.Image, "load", tripwire)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", tripwire)
    # When it is processed
    start = time.perf_counter()
    with pytest.raises(ImageRejected) as raised:
        images.process(png_bomb)
    elapsed = time.perf_counter() - start
    # Then it is refused from its header alone, quickly, without decoding
    assert raised.value.reason == "decompression_bomb"
    assert elapsed < 0.5


@pytest.mark.parametrize("max_pixels", [5_000, 9_999])  # 10,000 px: above 2x and within 2x
def test_process_rejects_more_pixels_than_the_limit(max_pixels):
    # Given a 100x100 image and a lower pixel limit
    data = encode(photo(100, 100), "PNG")
    # When it is processed
    with pytest.raises(ImageRejected) as raised:
        images.process(data, max_pixels=max_pixels)
    # Then it is refused as a bomb, and Pillow's global limit is put back afterwards
    assert raised.value.reason == "decompression_bomb"
    assert Image.MAX_IMAGE_PIXELS > 10_000_000


@pytest.mark.parametrize(
    "size",
    [(1, 1), (15, 400), (4000, 8), (8, 4000), (12_001, 100)],
    ids=["1x1", "15px-wide", "thin-4000x8", "thin-8x4000", "side-over-12000"],
)
def test_process_rejects_dimensions_out_of_range(size):
    # Given a tiny, absurdly thin or absurdly long image
    data = encode(Image.new("L", size, 128), "PNG")
    # When it is processed
    with pytest.raises(ImageRejected) as raised:
        images.process(data)
    # Then it is refused for its dimensions
    assert raised.value.reason == "dimensions_out_of_range"


def test_image_rejected_is_a_plain_exception_with_a_reason():
    error = ImageRejected("corrupt", "bad huffman table")
    assert isinstance(error, Exception)
    assert error.reason == "corrupt"
    assert "corrupt" in str(error)


class FakeLibc:
    def __init__(self, has_mallopt: bool = True):
        self.calls: list[tuple[int, int]] = []
        if has_mallopt:
            self.mallopt = lambda param, value: self.calls.append((param, value)) or 1


def test_a_heic_gives_big_buffers_their_own_mappings_once_per_process(monkeypatch):
    # Given a process whose allocator has not been tuned yet, and HEIC and JPEG uploads
    data = heic(photo(400, 300))
    libc = FakeLibc()
    monkeypatch.setattr(images, "_heif_registered", False)
    monkeypatch.setattr("ctypes.CDLL", lambda name: libc)
    # When a JPEG is processed, then the allocator is left as it is (it would cost JPEGs time)
    images.process(encode(photo(400, 300)))
    assert libc.calls == []
    # When two HEICs are processed
    images.process(data)
    images.process(data)
    # Then glibc was told once to map every buffer from 1 MiB on its own (M_MMAP_THRESHOLD)
    assert libc.calls == [(-3, 1024 * 1024)]


def test_an_allocator_without_mallopt_is_left_alone(monkeypatch):
    # Given a C library with no mallopt (macOS)
    data = heic(photo(400, 300))
    monkeypatch.setattr(images, "_heif_registered", False)
    monkeypatch.setattr("ctypes.CDLL", lambda name: FakeLibc(has_mallopt=False))
    # When a HEIC is processed, then it is processed as anywhere else
    assert images.process(data).renditions["large"].width == 400
