"""The three jobs of ``convlab visualize`` (:mod:`.visualize`): a method on a photo, a layer's
unit pictures, a unit's top dataset patches. Each returns ``(what was written, one line)``."""

from __future__ import annotations

import json
import os

from convlab.cli.export_network import BadFile, network_settings
from convlab.engine import attribution as A
from convlab.export.atomic import atomic_path
from convlab.pipelines import attribution as views
from convlab.pipelines import netbuild, records
from convlab.pipelines.network import NetworkRunner, has_batch_norm, input_shape
from convlab.render.png import write_png


def text_chunks(title: str, description: str, record: dict) -> dict:
    from convlab import __version__

    return {"Software": f"ConvLab {__version__}", "Title": title, "Description": description,
            "convlab:settings": json.dumps(record)}


def out_folder(path) -> str:
    """``path`` as an absolute folder, created if missing; one sentence if it is a file."""
    full = os.path.abspath(os.fspath(path))
    if os.path.exists(full) and not os.path.isdir(full):
        raise BadFile(f"{path} exists and is not a folder; --out needs a folder here.")
    os.makedirs(full, exist_ok=True)
    return full


def _network(args):
    settings, _ = network_settings(args)
    try:
        net = NetworkRunner().network(settings)
    except ValueError as exc:
        raise BadFile(f"cannot build the network: {exc}") from None
    mode = views.engine_mode(settings) if has_batch_norm(net) else "test"
    return settings, net, mode


def _record(args, settings, net, image, box, extra: list[str]) -> dict:
    """The network's settings record (as ``convlab export`` writes it) with this command."""
    custom = settings.net == "custom"
    record = records.network_settings_record(
        settings.net, image, weights_path=settings.weights, weights_source=net.weights_source,
        insize=settings.insize, seed=settings.seed,
        bn_mode=settings.bn_mode if has_batch_norm(net) else None, crop_box=box,
        spec=settings.network_spec() if custom else None,
        spec_path=args.spec if custom else None, model_path=settings.model,
        preprocess=settings.preprocess, labels_path=settings.labels, conv1=settings.conv1)
    record["pipeline"] = "visualize"
    record["command"] = views.visualize_command(record["command"], image.get("path"), extra)
    return record


def _write(path, rgb, text, scale: int = 1) -> None:
    with atomic_path(path) as tmp:
        write_png(tmp, rgb, text, scale=scale)


def method_job(args, say):
    from convlab.pipelines.images import load_image
    from convlab.pipelines.samples import default_sample

    settings, net, mode = _network(args)
    path = args.image or default_sample()
    image = load_image(path)
    prep = netbuild.prepare(image, settings, net)
    unit = views.parse_unit(args.unit) if args.unit else None
    found = views.explain_photo(net, prep["input"], args.method, class_index=args.class_index,
                                unit=unit, cam_layer=args.layer, mode=mode, seed=args.seed or 0)
    extra = [f"--method {args.method}"]
    extra += [f"--unit {args.unit}"] if unit else [f"--class {found.target[1]}"]
    extra += [f"--layer {found.cam_layer}"] * bool(args.layer)
    extra += [f"--seed {args.seed}"] * (args.method == "smoothgrad" and bool(args.seed))
    extra += [f"--scale {args.scale}"] * (args.scale != 1)
    record = _record(args, settings, net, records.image_record(path, image.shape), prep["box"],
                     extra + ["--out FILE.png"])
    top = views.display_top(found)
    record["view"] = {"method": args.method, "target": list(found.target),
                      "cam_layer": found.cam_layer, "colour_bar": [0.0, top],
                      "colormap": views.COLORMAP}
    where = f" at {found.cam_layer}" if found.cam_layer else ""
    line = f"{views.METHODS[args.method]} of {found.what}{where}; colour bar 0 to {top:.4g}"
    _write(args.out, views.overlay(prep["crop"], found.heat, top=top),
           text_chunks(f"{views.METHODS[args.method]}, {found.what}", line, record), args.scale)
    return args.out, line


def features_job(args, say):
    settings, net, mode = _network(args)
    layer = args.features
    if layer not in net.layer_names:
        raise BadFile(f"{layer!r} is not a layer of {net.name}.")
    in_shape = input_shape(net, settings)
    maps = net.shapes(in_shape if args.size is None else (in_shape[0], args.size, args.size))
    if maps.get(layer) is None:
        raise BadFile(f"at this input size the picture never reaches {layer}.")
    channels = range(min(args.channels, maps[layer][0]))
    folder = out_folder(args.out)
    mean, std = views.preprocessing(settings)
    size = (args.size, args.size) if args.size else tuple(in_shape[1:])
    pictures = views.unit_pictures(
        net, layer, channels, size=size, steps=args.steps, seed=args.seed or 0, mean=mean,
        std=std, mode=mode, on_picture=lambda i, p: say(f"{layer}: unit {i + 1}/{len(channels)}"))
    extra = [f"--features {layer}", f"--channels {len(channels)}", f"--steps {args.steps}"]
    extra += [f"--size {args.size}"] * bool(args.size) + [f"--scale {args.scale}"] * (
        args.scale != 1) + ["--out DIR"]
    record = _record(args, settings, net, {"path": None, "name": None}, None, extra)
    record["view"] = {"features": layer, "channels": list(channels), "steps": args.steps}
    out = os.path.join(folder, f"features_{layer}.png")
    line = f"what {layer}'s units 0-{len(channels) - 1} want ({args.steps} steps)"
    grid = views.picture_grid(pictures, scale=args.scale)             # gutters stay 2 pixels
    _write(out, grid, text_chunks(f"{layer} feature visualisation", line, record))
    return out, line


def patches_job(args, say):
    settings, net, mode = _network(args)
    layer, channel = views.parse_unit(args.top_patches)
    in_shape = input_shape(net, settings)
    mean, std = views.preprocessing(settings)
    inputs, pictures = views.dataset_inputs(args.data, in_shape, mean, std, limit=args.limit)
    found = A.top_patches(net, (layer, channel), inputs, k=args.k, mode=mode)
    folder = out_folder(args.out)
    extra = [f"--top-patches {layer}:{channel}", f"--data {args.data}", f"--k {args.k}"]
    extra += [f"--limit {args.limit}"] * (args.limit != 500) + [f"--scale {args.scale}"] * (
        args.scale != 1) + ["--out DIR"]
    record = _record(args, settings, net, {"path": None, "name": None}, None, extra)
    record["view"] = {"top_patches": [layer, channel], "data": str(args.data),
                      "patches": [{"image": n, "box": list(box), "value": v}
                                  for n, box, v in found]}
    out = os.path.join(folder, f"top_patches_{layer}_{channel}.png")
    line = (f"the {len(found)} patches of {len(inputs)} images that excite {layer} channel "
            f"{channel} most (best {found[0][2]:.4g})")
    _write(out, views.patch_grid(pictures, found, scale=args.scale),
           text_chunks(f"{layer}:{channel} top patches", line, record))
    with atomic_path(os.path.join(folder, f"top_patches_{layer}_{channel}.json")) as tmp:
        tmp.write_text(json.dumps(record["view"], indent=1))
    return out, line
