"""Training: a library loop that reports progress as events, and the command line around it.

    python -m resnet.train --dataset clothing --epochs 12 --out runs/clothing.safetensors --data-dir ../shared/data

Every epoch writes the model (``--out``), a resumable training state (``*.state.safetensors``) and a line of
metrics (``*.metrics.jsonl``) beside it; ``--resume`` continues a stopped run from its last epoch.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from resnet.checkpoint import CheckpointError, ModelCard, atomic_save, load_model, load_state, save_model
from resnet.cpu import fast_weight_grads, keep_freed_memory
from resnet.data import AUGMENTS, DATASETS, DEFAULT_DATA_DIR, DataNotFoundError, TensorLoader, load_split
from resnet.evaluate import predict
from resnet.fontdigits import font_digits
from resnet.lowres import lowres_twin
from resnet.model import ResNet, build_model

# Named recipes; command-line flags override single fields.
RECIPES: dict[str, dict] = {
    # Ours: SGD + Nesterov momentum, one-cycle learning rate peaking at the lecture's 0.05, light augmentation.
    "fast": dict(optimizer="sgd-nesterov", schedule="onecycle", augment=True, weight_decay=5e-4, label_smoothing=0.1),
    # The lecture's (d2l train_ch6): plain SGD, constant 0.05, no augmentation; run it with --image-size 96.
    "lecture": dict(optimizer="sgd", schedule="constant", augment=False, weight_decay=0.0, label_smoothing=0.0),
    # The depth experiment (scripts/depth_study.sh): He et al.'s CIFAR recipe (SGD with momentum, lr 0.1, weight
    # decay 1e-4, batch 128) with a cosine schedule for our few epochs, no augmentation and no label smoothing, so
    # that the training error measures how well a network fits its training set.
    "depth": dict(optimizer="sgd-momentum", schedule="cosine", augment=False, weight_decay=1e-4, label_smoothing=0.0),
}


@dataclass
class TrainConfig:
    """Everything that defines a training run (stored in the checkpoint's ``recipe``)."""

    dataset: str = "digits"
    epochs: int = 3
    lr: float = 0.05  # the lecture's learning rate (peak of the one-cycle schedule)
    batch_size: int = 256
    image_size: int = 64  # 96 with --recipe lecture reproduces the lecture
    optimizer: str = "sgd-nesterov"  # "sgd" (no momentum, as in d2l), "sgd-momentum", "sgd-nesterov"
    schedule: str = "onecycle"  # "onecycle", "cosine" or "constant"
    augment: bool = True
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    seed: int = 0
    limit: int = 0  # train on the first N training images (0: all)
    test_limit: int = 0  # evaluate on the first N test images (0: all)
    device: str = "cpu"
    data_dir: str = str(DEFAULT_DATA_DIR)
    plain: bool = False  # train the plain twin: the same network without its shortcuts
    arch: str = "resnet18"  # or He et al.'s CIFAR family for the depth experiment: resnet20, resnet56, ...
    lowres: float = 0.0  # digits: share of training digits shown as their low-resolution twin (resnet.lowres)
    flat: float = 0.0  # clothing: share of items drawn as flat artwork with a drop shadow (data.flat_shot)
    fonts: float = 0.0  # digits: extra digits set in the machine's fonts, as a share of the training set (fontdigits)
    init: str = ""  # start from these weights (a fine-tune) instead of a fresh network

    def recipe(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("device", "data_dir")}


@dataclass
class Step:
    """One optimisation step: running means over the epoch so far."""

    epoch: int
    step: int  # within the epoch, 1-based
    steps: int  # per epoch
    loss: float
    accuracy: float
    images_per_s: float
    lr: float


@dataclass
class Epoch:
    """The end of an epoch: training means, test accuracy and the run's cumulative time."""

    epoch: int
    epochs: int
    train_loss: float
    train_accuracy: float
    test_accuracy: float
    train_time_s: float  # time spent in training steps, over the whole run including resumed parts
    wall_time_s: float  # training + evaluation + checkpointing
    images_per_s: float
    lr: float


def lr_at(cfg: TrainConfig, progress: float) -> float:
    """Learning rate at ``progress`` in [0, 1] of the run."""
    if cfg.schedule == "constant":
        return cfg.lr
    if cfg.schedule == "cosine":
        return 0.5 * cfg.lr * (1 + math.cos(math.pi * progress))
    if cfg.schedule == "onecycle":  # 25% linear warm-up from lr/25, cosine down to lr/1e4
        warm = 0.25
        if progress < warm:
            return cfg.lr / 25 + (cfg.lr - cfg.lr / 25) * progress / warm
        t = (progress - warm) / (1 - warm)
        return cfg.lr / 1e4 + 0.5 * (cfg.lr - cfg.lr / 1e4) * (1 + math.cos(math.pi * t))
    raise ValueError(f"unknown schedule {cfg.schedule!r}")


def make_optimizer(cfg: TrainConfig, model: torch.nn.Module) -> torch.optim.SGD:
    momentum = {"sgd": 0.0, "sgd-momentum": 0.9, "sgd-nesterov": 0.9}[cfg.optimizer]
    # No weight decay on BatchNorm and biases: the usual choice, and it keeps BN scales honest.
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    return torch.optim.SGD(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        momentum=momentum,
        nesterov=cfg.optimizer == "sgd-nesterov",
    )


def state_path(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".safetensors") + ".state.safetensors")


def metrics_path(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".safetensors") + ".metrics.jsonl")


def _save_state(path: Path, model, opt, loader: TensorLoader, cfg: TrainConfig, epoch: int, times: dict) -> None:
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    params = [p for g in opt.param_groups for p in g["params"]]
    for i, p in enumerate(params):
        buf = opt.state.get(p, {}).get("momentum_buffer")
        if buf is not None:
            tensors[f"momentum.{i}"] = buf
    tensors["rng.loader"] = loader.generator.get_state()
    tensors["rng.torch"] = torch.get_rng_state()
    meta = {"config": json.dumps(asdict(cfg)), "epoch": str(epoch), "times": json.dumps(times)}
    atomic_save(tensors, path, meta)


def _load_state(path: Path, model, opt, loader: TensorLoader) -> tuple[TrainConfig, int, dict]:
    tensors, meta = load_state(path)
    try:
        cfg = TrainConfig(**json.loads(meta["config"]))
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        params = [p for g in opt.param_groups for p in g["params"]]
        for i, p in enumerate(params):
            if f"momentum.{i}" in tensors:
                opt.state[p]["momentum_buffer"] = tensors[f"momentum.{i}"].to(p.device)
        loader.generator.set_state(tensors["rng.loader"])
        torch.set_rng_state(tensors["rng.torch"])
        return cfg, int(meta["epoch"]), json.loads(meta["times"])
    except (KeyError, RuntimeError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a usable training state ({exc})") from None


def train(
    cfg: TrainConfig,
    out: Path | None = None,
    resume: bool = False,
    half: bool = False,
    model: ResNet | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[Step | Epoch]:
    """Train a ResNet-18 and yield a ``Step`` per batch and an ``Epoch`` per epoch.

    With ``out`` the model, the training state and the metrics log are written after every epoch; with
    ``resume`` the run continues from the state file beside ``out``. ``should_stop`` is polled between steps
    so that an interactive caller can stop cleanly (the last finished epoch stays saved). On a CPU the model's
    convolutions are swapped in place for ``SmallMapConv2d`` (same parameters and state dict).
    """
    info = DATASETS[cfg.dataset]
    if (cfg.lowres or cfg.fonts) and info.name != "digits":
        raise ValueError("--lowres and --fonts make digits: they apply to the digits dataset only")
    dev = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    torch.backends.cudnn.benchmark = dev.type == "cuda"  # fixed input sizes: let cuDNN pick its fastest kernels
    train_x, train_y = load_split(cfg.dataset, train=True, data_dir=cfg.data_dir)
    test_x, test_y = load_split(cfg.dataset, train=False, data_dir=cfg.data_dir)
    if cfg.limit:
        train_x, train_y = train_x[: cfg.limit], train_y[: cfg.limit]
    if cfg.test_limit:
        test_x, test_y = test_x[: cfg.test_limit], test_y[: cfg.test_limit]
    if cfg.fonts:
        images, labels = font_digits(round(cfg.fonts * len(train_y)), seed=cfg.seed)
        train_x = torch.cat([train_x, torch.from_numpy(images)])
        train_y = torch.cat([train_y, torch.from_numpy(labels)])
    augment = AUGMENTS[info.name] if cfg.augment else None
    if augment is not None and cfg.flat:
        augment = replace(augment, flat=cfg.flat)
    loader = TensorLoader(
        train_x,
        train_y,
        cfg.image_size,
        cfg.batch_size,
        shuffle=True,
        augment=augment,
        seed=cfg.seed,
        device=dev,
        drop_last=len(train_y) >= 2 * cfg.batch_size,
        twins=lowres_twin(train_x) if cfg.lowres else None,
        twin_p=cfg.lowres,
    )
    if model is None and cfg.init:
        model, card = load_model(cfg.init)
        if (card.dataset, card.arch, card.plain) != (cfg.dataset, cfg.arch, cfg.plain):
            kind = f"{card.dataset} {'plain ' if card.plain else ''}{card.arch}"
            raise CheckpointError(f"{cfg.init} holds a {kind}, not this run's network")
        model.train()
    model = (model or build_model(cfg.arch, cfg.plain)).to(dev).to(memory_format=torch.channels_last)
    if dev.type == "cpu":
        fast_weight_grads(model)  # same parameters and state dict; a faster weight gradient on small maps
    opt = make_optimizer(cfg, model)
    start, times = 0, {"train_time_s": 0.0, "wall_time_s": 0.0}
    if resume and out is not None and state_path(out).exists():
        saved, start, times = _load_state(state_path(out), model, opt, loader)
        if saved.recipe() != cfg.recipe():
            raise CheckpointError(f"{state_path(out)} was made with another recipe: {saved.recipe()}")
    elif out is not None:
        metrics_path(out).unlink(missing_ok=True)
    for epoch in range(start + 1, cfg.epochs + 1):
        t_epoch = time.perf_counter()
        result = yield from _train_epoch(model, opt, loader, cfg, epoch, should_stop)
        if result is None:  # stopped on request: the last finished epoch stays saved
            return
        train_loss, train_accuracy, t_train, images_per_s, lr = result
        preds = predict(model, test_x, cfg.image_size, device=dev)
        test_acc = (preds == test_y).float().mean().item()
        times["train_time_s"] += t_train
        times["wall_time_s"] += time.perf_counter() - t_epoch
        event = Epoch(
            epoch,
            cfg.epochs,
            train_loss,
            train_accuracy,
            test_acc,
            times["train_time_s"],
            times["wall_time_s"],
            images_per_s,
            lr,
        )
        if out is not None:
            _save_epoch(out, model, opt, loader, cfg, event, times, half)
        yield event


def _train_epoch(
    model: ResNet,
    opt: torch.optim.SGD,
    loader: TensorLoader,
    cfg: TrainConfig,
    epoch: int,
    should_stop: Callable[[], bool] | None,
) -> Generator[Step, None, tuple[float, float, float, float, float] | None]:
    """One epoch of SGD steps, yielding a ``Step`` per batch (every 50 on a GPU, which is not synced per step).

    Returns (mean loss, accuracy, seconds in training steps, images/s, last learning rate), or None when stopped.
    """
    dev = next(model.parameters()).device
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda")
    model.train()
    steps = len(loader)
    total = steps * cfg.epochs
    t_train = 0.0
    loss_sum = torch.zeros((), device=dev)
    correct = torch.zeros((), device=dev, dtype=torch.long)
    seen = 0
    lr = cfg.lr
    for i, (x, y) in enumerate(loader, start=1):
        if should_stop is not None and should_stop():
            return None
        t0 = time.perf_counter()
        lr = lr_at(cfg, ((epoch - 1) * steps + i - 1) / total)
        for g in opt.param_groups:
            g["lr"] = lr
        with autocast:
            logits = model(x)
            loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_sum += loss.detach() * len(y)
        correct += (logits.argmax(1) == y).sum()
        seen += len(y)
        t_train += time.perf_counter() - t0
        if dev.type == "cuda" and i % 50 and i != steps:
            continue  # don't sync every step on a GPU
        yield Step(epoch, i, steps, loss_sum.item() / seen, correct.item() / seen, seen / t_train, lr)
    return loss_sum.item() / seen, correct.item() / seen, t_train, seen / t_train, lr


def _save_epoch(
    out: Path, model: ResNet, opt, loader: TensorLoader, cfg: TrainConfig, event: Epoch, times: dict, half: bool
) -> None:
    """After an epoch: the model with its card, the resumable state, and a line of the metrics log."""
    t_save = time.perf_counter()
    accuracy = round(event.test_accuracy, 6)
    card = ModelCard(cfg.dataset, cfg.image_size, event.epoch, accuracy, cfg.recipe(), plain=cfg.plain, arch=cfg.arch)
    save_model(model, card, out, half=half)
    _save_state(state_path(out), model, opt, loader, cfg, event.epoch, times)
    times["wall_time_s"] += time.perf_counter() - t_save
    with open(metrics_path(out), "a") as f:
        f.write(json.dumps(asdict(event)) + "\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    d = TrainConfig()
    p.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    p.add_argument("--recipe", choices=sorted(RECIPES), default="fast", help="preset; the flags below override it")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--lr", type=float, default=d.lr, help="(peak) learning rate; 0.05 is the lecture's")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--image-size", type=int, default=d.image_size)
    p.add_argument("--optimizer", choices=["sgd", "sgd-momentum", "sgd-nesterov"])
    p.add_argument("--schedule", choices=["onecycle", "cosine", "constant"])
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--label-smoothing", type=float)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--limit", type=int, default=0, help="train on the first N training images")
    p.add_argument("--test-limit", type=int, default=0, help="evaluate on the first N test images")
    p.add_argument("--data-dir", default=d.data_dir)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    p.add_argument("--out", type=Path, help="model file (default runs/<dataset>.safetensors)")
    p.add_argument("--arch", default=d.arch, help="resnet18 (the lecture's) or resnet20, resnet56, ... (6n + 2)")
    p.add_argument("--plain", action="store_true", help="train the plain twin (no shortcuts, no 1x1 projections)")
    p.add_argument("--lowres", type=float, default=d.lowres, help="digits: share shown as their coarse twin (0-1)")
    p.add_argument("--flat", type=float, default=d.flat, help="clothing: share drawn as flat art with a shadow")
    p.add_argument("--fonts", type=float, default=d.fonts, help="digits: extra font digits, a share of the set")
    p.add_argument("--init", default=d.init, help="start from these weights (fine-tune) instead of a fresh network")
    p.add_argument("--half", action="store_true", help="store the model's floats as float16 (what we ship)")
    p.add_argument("--resume", action="store_true", help="continue from the state file beside --out")
    return p.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    fields = dict(RECIPES[args.recipe])
    for name in ("optimizer", "schedule", "augment", "weight_decay", "label_smoothing"):
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    return TrainConfig(
        dataset=args.dataset,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        image_size=args.image_size,
        seed=args.seed,
        limit=args.limit,
        test_limit=args.test_limit,
        device=args.device,
        data_dir=args.data_dir,
        plain=args.plain,
        arch=args.arch,
        lowres=args.lowres,
        flat=args.flat,
        fonts=args.fonts,
        init=args.init,
        **fields,
    )


def main(argv: list[str] | None = None) -> int:
    from tqdm import tqdm

    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = config_from_args(args)
    if torch.device(cfg.device).type == "cpu":
        keep_freed_memory()  # no page faults on every step's large tensors
    out = args.out or Path("runs") / f"{cfg.dataset}.safetensors"
    print(f"training {cfg.dataset} -> {out}\nrecipe: {json.dumps(cfg.recipe())}", flush=True)
    bar = None
    try:
        for ev in train(cfg, out, resume=args.resume, half=args.half):
            if isinstance(ev, Step):
                if bar is None:
                    bar = tqdm(total=ev.steps, desc=f"epoch {ev.epoch}/{cfg.epochs}", unit="batch", mininterval=2)
                bar.n = ev.step
                bar.set_postfix(loss=f"{ev.loss:.3f}", acc=f"{ev.accuracy:.3f}", img_s=f"{ev.images_per_s:.0f}")
            else:
                if bar is not None:
                    bar.close()
                    bar = None
                print(
                    f"epoch {ev.epoch}/{ev.epochs}: train loss {ev.train_loss:.4f} "
                    f"acc {100 * ev.train_accuracy:.2f}% | "
                    f"test acc {100 * ev.test_accuracy:.2f}% | {ev.images_per_s:.0f} img/s | "
                    f"{ev.wall_time_s / 60:.1f} min so far",
                    flush=True,
                )
    except (DataNotFoundError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
