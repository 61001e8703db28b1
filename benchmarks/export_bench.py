"""Export every AlexBN layer (maps and grids) of a bundled photo and print the seconds.

    python benchmarks/export_bench.py [--repeats 3] [--npy] [--scale 1]

Target: under 10 s on a 2-core machine for all 22 layers (about 4,000 PNG files). The figure
covers the export only (PNG encoding, text chunks, manifest, the atomic move); the forward pass
is timed separately. The peak resident memory of the whole run is printed last: with ``--scale``
it shows that maps are enlarged one at a time (``--scale 8`` peaked at 1.7 GB for one 96-map
layer when whole layers were enlarged at once).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time

from convlab.pipelines import images as imaging
from convlab.engine.backend import to_numpy
from convlab.engine.nets import build_network
from convlab.export.maps import export_maps
from convlab.pipelines.samples import default_sample


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--npy", action="store_true")
    p.add_argument("--scale", type=int, default=1)
    args = p.parse_args()
    net = build_network("alexbn", seed=0)
    prep = imaging.center_crop_imagenet(imaging.load_image(default_sample()))
    t0 = time.perf_counter()
    out = net.forward(prep["input"], use_batch_stats=True)
    forward = time.perf_counter() - t0
    layers = {name: to_numpy(a)[0] for name, a in out.items()}
    times, files = [], 0
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            result = export_maps(tmp, layers, settings={"pipeline": "network", "net": "alexbn"},
                                 npy=args.npy, scale=args.scale)
            times.append(time.perf_counter() - t0)
            files = len(result.files)
    print(f"AlexBN forward (batch statistics): {forward:.3f} s")
    print(f"export of {len(layers)} layers, {files} files (maps + grids + manifest): "
          f"median {statistics.median(times):.2f} s, best {min(times):.2f} s over {len(times)} runs")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(f"peak resident memory: {peak:.0f} MB (scale {args.scale})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
