"""convlab.pipelines.images: every file becomes (H, W, 3) float32 or one ImageLoadError."""

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from convlab.pipelines import images as imaging
from convlab.pipelines import samples
from convlab.pipelines.images import ImageLoadError, load_image, load_image_bytes


def save(img: Image.Image, path, fmt="PNG", **kw):
    img.save(path, fmt, **kw)
    return path


def check_contract(a):
    assert a.dtype == np.float32 and a.ndim == 3 and a.shape[2] == 3
    assert a.flags.c_contiguous
    assert np.all((a >= 0) & (a <= 1))


# --- modes -------------------------------------------------------------------------------------

def test_rgba_is_composited_on_white(tmp_path):
    img = Image.new("RGBA", (2, 1))
    img.putpixel((0, 0), (255, 0, 0, 0))      # fully transparent red -> white
    img.putpixel((1, 0), (0, 0, 0, 128))      # half-transparent black -> mid grey
    a = load_image(save(img, tmp_path / "a.png"))
    check_contract(a)
    assert np.allclose(a[0, 0], 1.0)
    assert np.allclose(a[0, 1], 1 - 128 / 255, atol=1e-6)


def test_grey_L_and_LA_expand_to_rgb(tmp_path):
    a = load_image(save(Image.new("L", (3, 2), 51), tmp_path / "l.png"))
    assert a.shape == (2, 3, 3) and np.allclose(a, 51 / 255)
    la = load_image(save(Image.new("LA", (1, 1), (0, 0)), tmp_path / "la.png"))
    assert np.allclose(la, 1.0)  # transparent black on white


def test_palette_with_and_without_transparency(tmp_path):
    img = Image.new("P", (2, 1))
    img.putpalette([0, 0, 255, 255, 255, 0] + [0] * 762)
    img.putpixel((0, 0), 0)
    img.putpixel((1, 0), 1)
    a = load_image(save(img, tmp_path / "p.png"))
    assert np.allclose(a[0, 0], [0, 0, 1]) and np.allclose(a[0, 1], [1, 1, 0])
    b = load_image(save(img, tmp_path / "pt.png", transparency=0))
    assert np.allclose(b[0, 0], 1.0) and np.allclose(b[0, 1], [1, 1, 0])


def test_16_bit_is_divided_by_65535_not_truncated(tmp_path):
    values = np.array([[0, 257, 32768, 65535]], dtype=np.uint16)
    img = Image.fromarray(values)
    assert img.mode == "I;16"
    a = load_image(save(img, tmp_path / "16.png"))
    check_contract(a)
    assert np.allclose(a[0, :, 0], values[0] / 65535.0, atol=1e-7)
    assert np.allclose(a[..., 0], a[..., 2])


def test_int32_and_float_modes(tmp_path):
    i = load_image(save(Image.fromarray(np.array([[0, 65535]], np.int32)), tmp_path / "i.tif", "TIFF"))
    assert np.allclose(i[0, :, 0], [0, 1])
    f = load_image(save(Image.fromarray(np.array([[0.25, 0.75]], np.float32)), tmp_path / "f.tif", "TIFF"))
    assert np.allclose(f[0, :, 1], [0.25, 0.75])
    wide = load_image(save(Image.fromarray(np.array([[-2.0, 6.0]], np.float32)), tmp_path / "w.tif", "TIFF"))
    assert np.allclose(wide[0, :, 0], [0, 1])  # outside [0, 1]: stretched min..max


def test_cmyk_and_bilevel(tmp_path):
    a = load_image(save(Image.new("CMYK", (2, 2), (0, 255, 0, 0)), tmp_path / "c.tif", "TIFF"))
    assert np.allclose(a[0, 0], [1, 0, 1])  # full magenta ink -> magenta
    b = load_image(save(Image.new("1", (2, 2), 1), tmp_path / "b.png"))
    assert np.allclose(b, 1.0)


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (40, 20), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 20, 20))  # left half red, right half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": the left half ends on top
    a = load_image(save(img, tmp_path / "r.jpg", "JPEG", exif=exif.tobytes(), quality=95))
    assert a.shape == (40, 20, 3)
    top, bottom = a[:15].mean(axis=(0, 1)), a[25:].mean(axis=(0, 1))
    assert top[0] > 0.9 and top[2] < 0.1
    assert bottom[2] > 0.9 and bottom[0] < 0.1


def test_bytes_and_samples_load():
    buf = io.BytesIO()
    Image.new("RGB", (5, 4), (255, 0, 0)).save(buf, "PNG")
    assert load_image_bytes(buf.getvalue()).shape == (4, 5, 3)
    for sample in samples.list_samples():
        check_contract(load_image(sample))


# --- bad files ---------------------------------------------------------------------------------

def noise_png(path, size=(64, 64)):
    rng = np.random.default_rng(0)
    return save(Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)), path)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file(tmp_path, fmt):
    path = tmp_path / f"t.{fmt.lower()}"
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path, fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match="truncated or damaged"):
        load_image(path)


@pytest.mark.parametrize("content, reason", [
    (b"hello, this is text\n", "is not an image"),
    (b"", "is empty"),
])
def test_not_an_image(tmp_path, content, reason):
    path = tmp_path / "notes.png"
    path.write_bytes(content)
    with pytest.raises(ImageLoadError, match=reason):
        load_image(path)


def test_missing_file_folder_and_permission(tmp_path, monkeypatch):
    with pytest.raises(ImageLoadError, match="does not exist"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageLoadError, match="is a folder"):
        load_image(tmp_path)
    path = noise_png(tmp_path / "ok.png")

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr("os.open", denied)  # the guard opens with os.open; as root chmod is moot
    with pytest.raises(ImageLoadError, match="permission denied"):
        load_image(path)


def test_decompression_bomb_guards(tmp_path, monkeypatch):
    path = noise_png(tmp_path / "big.png", (20, 20))
    monkeypatch.setattr(imaging, "MAX_PIXELS", 100)
    with pytest.raises(ImageLoadError, match="too many pixels") as info:
        load_image(path)
    assert "\n" not in str(info.value)
    monkeypatch.setattr(imaging, "MAX_PIXELS", 10**9)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)  # Pillow's own guard (over twice the limit)
    with pytest.raises(ImageLoadError, match="too many pixels"):
        load_image(path)


def _valid_files():
    out = []
    rng = np.random.default_rng(2)
    img = Image.fromarray(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8))
    for fmt in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"):
        buf = io.BytesIO()
        img.save(buf, fmt)
        out.append(buf.getvalue())
    return out


VALID = _valid_files()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.integers(0, len(VALID) - 1), cut=st.floats(0, 1),
       flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6))
def test_damaged_files_only_ever_raise_image_load_error(which, cut, flips):
    data = bytearray(VALID[which][: max(1, int(len(VALID[which]) * cut))])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    try:
        a = load_image_bytes(bytes(data))
    except ImageLoadError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        check_contract(a)


# --- geometry ----------------------------------------------------------------------------------

def test_scale_to_longest_shrinks_keeps_float_never_enlarges():
    img = np.full((500, 1000, 3), 0.3, np.float32)
    scaled, factor = imaging.scale_to_longest(img, 512)
    assert scaled.shape == (256, 512, 3) and factor == pytest.approx(0.512)
    assert scaled.dtype == np.float32 and np.allclose(scaled, 0.3, atol=1e-5)  # no 8-bit rounding
    small = np.zeros((100, 50, 3), np.float32)
    same, f = imaging.scale_to_longest(small, 512)
    assert same.shape == small.shape and f == 1.0


def test_center_crop_imagenet_steps():
    img = np.full((300, 600, 3), 0.5, np.float32)
    steps = imaging.center_crop_imagenet(img)
    assert steps["resized"].shape == (256, 512, 3)
    assert steps["box_resized"] == (142, 14, 369, 241)
    left, top, right, bottom = steps["box"]
    assert (right - left) == pytest.approx(227 * 600 / 512) and top == pytest.approx(14 * 300 / 256)
    assert steps["crop"].shape == (227, 227, 3)
    x = steps["input"]
    assert x.shape == (1, 3, 227, 227) and x.dtype == np.float32
    expected = 0.5 - np.array(imaging.IMAGENET_MEAN) / 255.0
    assert np.allclose(x[0, :, 100, 100], expected, atol=1e-5)


def _crop_by_resizing_everything(image, insize=227, shorter=256):
    """The reference: resize the whole photo (shorter side 256), then cut the centre square."""
    h, w = image.shape[:2]
    factor = shorter / min(h, w)
    new_w = shorter if w <= h else max(shorter, round(w * factor))
    new_h = shorter if h < w else max(shorter, round(h * factor))
    top, left = (new_h - insize) // 2, (new_w - insize) // 2
    return imaging._resize(image, new_w, new_h)[top:top + insize, left:left + insize]


@pytest.mark.parametrize("shape", [(512, 512), (300, 451), (427, 640), (257, 1999), (1000, 333),
                                   (231, 229), (227, 227), (100, 90), (3000, 2001), (13, 7)])
def test_center_crop_resizes_only_the_crop_yet_matches_resizing_everything(shape):
    rng = np.random.default_rng(sum(shape))
    image = rng.random((*shape, 3), dtype=np.float32)
    image[: shape[0] // 2] *= 0.5  # some structure, not only noise
    steps = imaging.center_crop_imagenet(image)
    assert steps["crop"].shape == (227, 227, 3) and steps["crop"].dtype == np.float32
    assert np.allclose(steps["crop"], _crop_by_resizing_everything(image), atol=1e-4)
    left, top, right, bottom = steps["box_resized"]  # still the crop, in resized's pixels
    assert np.allclose(steps["resized"][top:bottom, left:right], steps["crop"], atol=1e-4)
    assert steps["resized_offset"] == (0, 0)


def test_center_crop_of_a_very_wide_strip_never_makes_a_huge_picture(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    path = save(Image.fromarray(rng.integers(0, 256, (2, 20000, 3), dtype=np.uint8)), tmp_path / "strip.png")
    image = load_image(path)
    sizes, real = [], Image.Image.resize

    def spy(self, size, *a, **k):
        sizes.append(tuple(size))
        return real(self, size, *a, **k)
    monkeypatch.setattr(Image.Image, "resize", spy)
    steps = imaging.center_crop_imagenet(image)   # before: resized to 2,560,000 x 256 (7.8 GB)
    assert max(max(s) for s in sizes) <= imaging.MAX_RESIZED_SIDE
    assert steps["crop"].shape == (227, 227, 3) and steps["input"].shape == (1, 3, 227, 227)
    assert steps["resized"].shape == (256, imaging.MAX_RESIZED_SIDE, 3)   # the middle of the strip
    left, top, right, bottom = steps["box_resized"]                       # still the crop, in it
    assert (right - left, bottom - top) == (227, 227) and top == 14
    assert steps["resized_offset"] == ((2_560_000 - imaging.MAX_RESIZED_SIDE) // 2, 0)
    assert left + steps["resized_offset"][0] == (2_560_000 - 227) // 2
    assert np.allclose(steps["resized"][top:bottom, left:right], steps["crop"], atol=1e-4)
    box = steps["box"]  # the crop in the strip's own pixels: the middle 1.8 x 1.8 pixels
    assert box[2] - box[0] == pytest.approx(227 / 128) and (box[0] + box[2]) / 2 == pytest.approx(10000, abs=1)
    # the crop is the middle of the strip enlarged: its mean is that region's mean
    middle = image[:, 9999:10002].mean(axis=(0, 1))
    assert np.allclose(steps["crop"].mean(axis=(0, 1)), middle, atol=0.15)


# --- formats: an explicit list, no delegates (issue 20, "Image formats") -----------------------

def _document(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 10, 10)).save(buf, fmt)
    return buf.getvalue()


PS = b"%!PS-Adobe-3.0\n%%BoundingBox: 0 0 8 6\nnewpath 0 0 moveto 8 6 lineto stroke showpage\n"


@pytest.mark.parametrize("data,suffix", [(_document("EPS"), ".jpg"), (_document("EPS"), ".eps"),
                                         (PS, ".png"), (_document("PDF"), ".jpg")])
def test_eps_ps_and_pdf_never_reach_a_delegate(tmp_path, monkeypatch, data, suffix):
    """An EPS file renamed .jpg reached Pillow's EPS plugin, which runs Ghostscript on a path
    (and left an empty temporary file each time). Only the formats ConvLab reads are tried."""
    import subprocess
    import tempfile

    from PIL import EpsImagePlugin

    reached = []
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", "gs", raising=False)  # as if installed
    monkeypatch.setattr(EpsImagePlugin, "has_ghostscript", lambda: True, raising=False)
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *a, **k: reached.append("gs"))
    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open",
                        lambda self: reached.append("eps plugin") or (_ for _ in ()).throw(SyntaxError))
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: reached.append(a))
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    path = tmp_path / f"document{suffix}"
    path.write_bytes(data)
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    assert reached == [] and list(temp.iterdir()) == []
    assert "not an image in a format ConvLab reads (PNG, JPEG, GIF, BMP, TIFF and WebP)" in str(info.value)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"])
def test_every_listed_format_loads(tmp_path, fmt):
    path = tmp_path / f"photo.{fmt.lower()}"
    Image.new("RGB", (7, 5), (0, 128, 255)).save(path, fmt)
    assert load_image(path).shape == (5, 7, 3)


@pytest.mark.parametrize("fmt", ["ICO", "TGA", "PPM", "PCX"])
def test_a_format_outside_the_list_is_refused_saying_which_are_read(tmp_path, fmt):
    path = tmp_path / "photo.png"
    Image.new("RGB", (7, 5), (0, 128, 255)).save(path, fmt)
    with pytest.raises(ImageLoadError, match="PNG, JPEG, GIF, BMP, TIFF and WebP"):
        load_image(path)
