"""Times PyTorch (eager, CPU, 2 threads) versions of the cnn crate's example models.

The same models, data sizes and batch sizes as `keras_models.py` (the digits model with SGD and
L2 on the kernels, the CIFAR-10 model with Adam on CIFAR-sized random images), channels first as
PyTorch keeps images; prints one JSON object with the same keys. Used by
`cargo run --release -p cnn --example train_vs_keras -- --run-torch`.

    python3 crates/cnn/peers/torch_models.py --epochs 10
"""

import argparse
import gzip
import json
import pathlib
import time

import numpy as np
import torch
from torch import nn

HERE = pathlib.Path(__file__).resolve().parent
torch.set_num_threads(2)


def load_digits():
    with gzip.open(HERE.parent / "data" / "digits.csv.gz", "rt") as f:
        rows = np.loadtxt(f, delimiter=",")
    images = rows[:, :64].reshape(-1, 1, 8, 8).astype("float32")
    labels = rows[:, 64].astype("int64")
    order = np.random.default_rng(0).permutation(len(labels))
    test, train = order[:360], order[360:]
    return (torch.from_numpy(images[train]), torch.from_numpy(labels[train]),
            torch.from_numpy(images[test]), torch.from_numpy(labels[test]))


def digits_model():
    # Keras's softmax + categorical cross-entropy is PyTorch's logits + CrossEntropyLoss.
    return nn.Sequential(nn.Conv2d(1, 10, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(10 * 3 * 3, 50), nn.ReLU(), nn.Linear(50, 10))


def cifar_model():
    return nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(64 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))


def epoch(model, optimizer, x, y, batch, generator):
    """One shuffled epoch; returns its seconds."""
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    order = torch.randperm(len(y), generator=generator)
    for first in range(0, len(y), batch):
        index = order[first:first + batch]
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x[index]), y[index]).backward()
        optimizer.step()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="digits epochs (the first is warm-up)")
    parser.add_argument("--cifar-images", type=int, default=4000, help="synthetic CIFAR-sized images")
    parser.add_argument("--cifar-epochs", type=int, default=3, help="CIFAR epochs (the first is warm-up)")
    args = parser.parse_args()
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)

    x, y, xt, yt = load_digits()
    model = digits_model()
    # Keras's L2(1e-5) on the kernels adds 1e-5 * sum(w^2) to the loss: weight decay 2e-5.
    kernels = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    sgd = torch.optim.SGD([{"params": kernels, "weight_decay": 2e-5}, {"params": biases}], lr=1e-2)
    seconds = [epoch(model, sgd, x, y, 100, generator) for _ in range(args.epochs)]
    with torch.no_grad():
        digits_accuracy = float((model(xt).argmax(1) == yt).float().mean())

    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.random((args.cifar_images, 3, 32, 32), dtype="float32"))
    labels = torch.from_numpy(rng.integers(0, 10, args.cifar_images))
    cifar = cifar_model()
    adam = torch.optim.Adam(cifar.parameters(), lr=1e-3)
    cifar_seconds = [epoch(cifar, adam, images, labels, 32, generator) for _ in range(args.cifar_epochs)]
    cifar.eval()
    with torch.no_grad():
        for first in range(0, 256, 32):
            cifar(images[first:first + 32])
        start = time.perf_counter()
        for first in range(0, args.cifar_images, 32):
            cifar(images[first:first + 32])
        predict_seconds = time.perf_counter() - start

    print(json.dumps({
        "torch": torch.__version__,
        "digits_epoch_seconds": float(np.median(seconds[1:])),
        "digits_test_accuracy_after_epochs": digits_accuracy,
        "cifar_train_images_per_second": args.cifar_images / float(np.median(cifar_seconds[1:])),
        "cifar_predict_images_per_second": args.cifar_images / predict_seconds,
    }))


if __name__ == "__main__":
    main()
