"""convlab.pipelines.samples: the bundled photos and their licence."""

from convlab.pipelines import samples
from convlab.pipelines.images import load_image


def test_bundled_samples_and_licence():
    names = [s.name for s in samples.list_samples()]
    assert names == ["astronaut.jpg", "chelsea.jpg", "coffee.jpg", "rocket.jpg"]
    assert samples.default_sample().name == "astronaut.jpg"
    assert load_image(samples.default_sample()).shape == (512, 512, 3)
    licence = (samples.samples_folder() / "LICENSE.md").read_text(encoding="utf-8")
    assert all(name in licence for name in names)
    assert all(s.stat().st_size < 150_000 for s in samples.list_samples())
