"""The body of ``convlab train`` (:mod:`convlab.cli.train` owns the flags): the network and the
data from the flags or the snapshot, the run, its files after every epoch, Ctrl+C."""

from __future__ import annotations

import os
import signal
import sys

from convlab.cli.interrupt import EXIT_INTERRUPTED, say_interrupted

FILES = ("weights.npz", "network.json", "log.json", "snapshot.npz")


def merged(defaults: dict, meta: dict | None, given: dict) -> dict:
    """Given flags over the snapshot's settings over the defaults."""
    out = dict(defaults)
    if meta is not None:
        c = meta.get("config", {})
        out.update(epochs=c.get("epochs"), batch=c.get("batch_size"), optimizer=c.get("optimizer"),
                   lr=c.get("lr"), weight_decay=c.get("weight_decay"), seed=c.get("seed"),
                   limit=c.get("limit"), freeze=tuple(c.get("freeze", ())),
                   augment=c.get("augment", True))
    out.update({k: v for k, v in given.items() if v is not None})
    return out


def network_source(args, meta: dict | None) -> dict:
    """``{"net": NAME}``, ``{"spec": PATH}`` or ``{"model": PATH}``: the flags', else the snapshot's."""
    for key in ("net", "spec", "model"):
        if getattr(args, key) is not None:
            return {key: getattr(args, key)}
    return dict(meta.get("run", {}).get("source", {})) if meta else {}


def build(source: dict, data_source, seed: int):
    """``(network, dataset, note)``: the data fitted to the network's input; a built-in
    network's last layer sized to the dataset's classes (``note`` says so)."""
    from convlab.engine.nets import Network, presets
    from convlab.pipelines import netfiles
    from convlab.pipelines.datasets import open_dataset

    if "model" in source:
        from convlab.models import OnnxUnavailable

        try:
            net = netfiles.open_model(source["model"])
        except OnnxUnavailable:
            raise ValueError('training an ONNX model needs the onnx package: pip install '
                             '"convlab[onnx]"') from None
        spec = None
    elif "spec" in source:
        spec = netfiles.read_spec(source["spec"])
        net = netfiles.spec_network(spec, source["spec"])
    elif "net" in source:
        spec = presets.preset(source["net"])
        net = Network.from_spec(spec, init=False)
    else:
        raise ValueError("the snapshot does not say which network it trained; give --net, "
                         "--spec or --model")
    shape = tuple(net.input_shape)
    data = open_dataset(data_source or ("shapes" if shape[0] == 1 else "shapes-rgb"),
                        input_shape=shape)
    note = ""
    if "net" in source and net.layers[-1].n_out != len(data.classes):
        spec = presets.with_classes(spec, len(data.classes))
        note = (f"{net.layers[-1].name} gives {len(data.classes)} scores, one per class of "
                f"{data.name} ({', '.join(data.classes[:10])}{', ...' if len(data.classes) > 10 else ''})")
    if spec is not None:
        net = Network.from_spec(spec, seed=seed)
    return net, data, note


class Stopper:
    """Ctrl+C once: stop after the batch under way (``stopper()`` turns True); twice: at once."""

    def __init__(self):
        self.asked = False
        self.previous = None

    def __call__(self) -> bool:
        return self.asked

    def _handler(self, signum, frame):
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True
        print("\nconvlab train: stopping after this batch (Ctrl+C again stops at once).",
              file=sys.stderr, flush=True)

    def __enter__(self):
        try:
            self.previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread: no handler, the caller stops us
            self.previous = None
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


class Reporter:
    """A tqdm bar per epoch (when ``bar``) and one line per epoch."""

    def __init__(self, bar: bool):
        self.bar_enabled, self.bar, self.phase = bar, None, None

    def batch(self, p) -> None:
        if not self.bar_enabled:
            return
        if self.bar is None or p.phase != self.phase:
            self.close()
            from tqdm import tqdm

            self.phase = p.phase
            what = "train" if p.phase == "train" else "test"
            self.bar = tqdm(total=p.batches, initial=p.batch - 1, unit="batch", leave=False,
                            desc=f"epoch {p.epoch}/{p.epochs} {what}", file=sys.stderr,
                            disable=None)   # None: only on a terminal
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{p.loss:.3f}", acc=f"{p.accuracy:.0%}", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def epoch(self, entry: dict, p) -> None:
        self.close()
        print(f"epoch {entry['epoch']}/{p.epochs}: train loss {entry['main/loss']:.4f} accuracy "
              f"{entry['main/accuracy']:.1%}, test loss {entry['validation/main/loss']:.4f} "
              f"accuracy {entry['validation/main/accuracy']:.1%}, "
              f"{p.images_per_second:,.0f} images/s, {entry['elapsed_time']:.1f} s", flush=True)


def write_files(out: str, trainer) -> None:
    """weights.npz, network.json, log.json and snapshot.npz, each whole or not at all."""
    from convlab.pipelines import train_state

    trainer.net.save_npz(os.path.join(out, "weights.npz"))
    train_state.write_json(os.path.join(out, "network.json"), trainer.net.to_spec())
    train_state.write_json(os.path.join(out, "log.json"), trainer.log)
    trainer.save(os.path.join(out, "snapshot.npz"))


def train(args, given: dict, defaults: dict) -> int:
    """Open, train, write; the exit status (ValueError/OSError go to the caller's sentence).
    Each step's arrays reuse the last step's memory while it runs (glibc: pipelines/heap.py)."""
    from convlab.pipelines import heap

    with heap.training():
        return _train(args, given, defaults)


def _train(args, given: dict, defaults: dict) -> int:
    from convlab.pipelines import guard
    from convlab.pipelines.training import TrainConfig, Trainer

    out = os.fspath(args.out)
    snap = os.path.join(out, "snapshot.npz")
    meta = _snapshot_meta(args, snap)
    s = merged(defaults, meta, given)
    source = network_source(args, meta)
    data_source = args.data or (meta.get("run", {}).get("data") if meta else None)
    net, data, note = build(source, data_source, s["seed"])
    config = TrainConfig(epochs=s["epochs"], batch_size=s["batch"], optimizer=s["optimizer"],
                         lr=s["lr"], weight_decay=s["weight_decay"], seed=s["seed"],
                         augment=s["augment"], freeze=tuple(s["freeze"]), limit=s["limit"])
    reporter = Reporter(bar=not args.quiet)
    stopper = Stopper()
    trainer = Trainer(net, data, config, on_batch=reporter.batch, on_epoch=reporter.epoch,
                      should_stop=stopper)
    trainer.run_info = {"source": source, "data": data_source}
    if meta is not None:
        trainer.resume(snap)
    guard.check_output_folder(out, "training output")
    os.makedirs(out, exist_ok=True)
    _say_start(net, data, trainer, note, out)
    if trainer.finished:
        print(f"The run in {out} already did its {trainer.at.epoch} epochs; give --epochs more "
              f"than {trainer.at.epoch} to go on.")
        return 0
    return _run(trainer, stopper, reporter, out)


def _snapshot_meta(args, snap: str) -> dict | None:
    from convlab.pipelines import train_state

    if args.resume:
        if not os.path.exists(snap):
            raise ValueError(f"there is no snapshot at {snap} to resume; run without --resume "
                             "to start a run there")
        return train_state.read_meta(snap)
    if os.path.exists(snap):
        raise ValueError(f"{args.out} already holds a training run ({snap}); add --resume to "
                         "continue it, or choose another --out")
    return None


def _run(trainer, stopper, reporter, out: str) -> int:
    def on_epoch(entry, progress):
        reporter.epoch(entry, progress)
        write_files(out, trainer)

    trainer.on_epoch = on_epoch
    try:
        with stopper:
            done = trainer.run()
    except KeyboardInterrupt:
        reporter.close()
        print(f"convlab train: stopped at once; {out} holds the files of the last finished "
              "epoch, each whole.", file=sys.stderr)
        return say_interrupted()
    reporter.close()
    if not done:
        write_files(out, trainer)
        at = trainer.at
        print(f"convlab train: interrupted in epoch {at.epoch + 1} after {at.batch} batches; "
              f"the run is saved in {os.path.join(out, 'snapshot.npz')}; continue it with "
              f"'convlab train --resume --out {out}'.", file=sys.stderr)
        return EXIT_INTERRUPTED
    last = trainer.log[-1]
    print(f"Test accuracy {last['validation/main/accuracy']:.1%} after {last['epoch']} epochs "
          f"in {last['elapsed_time']:.1f} s. Weights: {os.path.join(out, 'weights.npz')}; see "
          f"them with 'convlab export IMAGE --spec {os.path.join(out, 'network.json')} "
          f"--weights {os.path.join(out, 'weights.npz')} --out DIR'.")
    return 0


def _say_start(net, data, trainer, note: str, out: str) -> None:
    c = trainer.config
    rate = f"lr {c.rate:g}" + (f", weight decay {c.weight_decay:g}" if c.weight_decay else "")
    frozen = f", frozen: {', '.join(c.freeze)}" if c.freeze else ""
    print(f"Training {net.name} ({net.param_count():,} parameters{frozen}) on {data.name}: "
          f"{len(trainer.train):,} training and {len(trainer.test):,} test images of "
          f"{' x '.join(map(str, data.input_shape))}, {len(data.classes)} classes; "
          f"{c.optimizer} {rate}, batch {c.batch_size}, seed {c.seed}; writing to {out}.")
    if note:
        print(f"Sized for the data: {note}.")
    if trainer.at.iteration:
        print(f"Resuming at epoch {trainer.at.epoch + 1}, batch {trainer.at.batch} "
              f"(iteration {trainer.at.iteration}).")
