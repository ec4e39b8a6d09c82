"""Times the Keras versions of the cnn crate's example models on this machine.

Same models, same data sizes and batch sizes as `digits_grid` and `cifar10`; prints one JSON
object. Used by `cargo run --release -p cnn --example train_vs_keras -- --run-keras`, which
times our side in the same run and prints the ratios.

    pip install -r crates/cnn/peers/requirements.txt
    python3 crates/cnn/peers/keras_models.py --epochs 10
"""

import argparse
import gzip
import json
import os
import pathlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers, regularizers  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def load_digits():
    with gzip.open(HERE.parent / "data" / "digits.csv.gz", "rt") as f:
        rows = np.loadtxt(f, delimiter=",")
    images = rows[:, :64].reshape(-1, 8, 8, 1).astype("float32")
    labels = rows[:, 64].astype("int64")
    order = np.random.default_rng(0).permutation(len(labels))
    test, train = order[:360], order[360:]
    onehot = np.eye(10, dtype="float32")[labels]
    return images[train], onehot[train], images[test], onehot[test]


def digits_model(eta, lmbd):
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(10, (3, 3), activation="relu", kernel_regularizer=regularizers.L2(lmbd)),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(50, activation="relu", kernel_regularizer=regularizers.L2(lmbd)),
        layers.Dense(10, activation="softmax", kernel_regularizer=regularizers.L2(lmbd)),
    ])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=eta), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def cifar_model():
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(10),
    ])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="digits epochs (the first is warm-up)")
    parser.add_argument("--cifar-images", type=int, default=4000, help="synthetic CIFAR-sized images")
    parser.add_argument("--cifar-epochs", type=int, default=3, help="CIFAR epochs (the first is warm-up)")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)

    x, y, xt, yt = load_digits()
    model = digits_model(1e-2, 1e-5)
    timer = EpochTimer()
    model.fit(x, y, epochs=args.epochs, batch_size=100, verbose=0, callbacks=[timer])
    digits_accuracy = float(model.evaluate(xt, yt, verbose=0)[1])

    rng = np.random.default_rng(0)
    images = rng.random((args.cifar_images, 32, 32, 3), dtype="float32")
    labels = rng.integers(0, 10, args.cifar_images)
    cifar = cifar_model()
    cifar_timer = EpochTimer()
    cifar.fit(images, labels, epochs=args.cifar_epochs, batch_size=32, verbose=0, callbacks=[cifar_timer])
    cifar.predict(images[:256], batch_size=32, verbose=0)
    start = time.perf_counter()
    cifar.predict(images, batch_size=32, verbose=0)
    predict_seconds = time.perf_counter() - start

    print(json.dumps({
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "digits_epoch_seconds": float(np.median(timer.seconds[1:])),
        "digits_test_accuracy_after_epochs": digits_accuracy,
        "cifar_train_images_per_second": args.cifar_images / float(np.median(cifar_timer.seconds[1:])),
        "cifar_predict_images_per_second": args.cifar_images / predict_seconds,
    }))


if __name__ == "__main__":
    main()
