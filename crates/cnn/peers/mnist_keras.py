"""The `mnist` example's models in Keras, on the same 10,000 vendored digits and the same split
(first 8,000 train, last 2,000 test). Prints one JSON line per model: name, test accuracy,
training seconds and epochs run, read by `cargo run --release -p cnn --example mnist -- --run-keras`.

    python3 crates/cnn/peers/mnist_keras.py --data-dir crates/cnn/data [--epochs 30]
"""
import argparse
import gzip
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras
from keras import layers, regularizers


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def material_model():
    l2 = regularizers.L2(1e-5)
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(10, 3, activation="relu", kernel_regularizer=l2),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(50, activation="relu", kernel_regularizer=l2),
        layers.Dense(10, activation="softmax", kernel_regularizer=l2),
    ])


def workflow_model():
    blocks = []
    for filters in (32, 64):
        blocks += [layers.Conv2D(filters, 3), layers.BatchNormalization(), layers.Activation("relu"),
                   layers.MaxPooling2D(2)]
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", interpolation="nearest", seed=0),
        *blocks,
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--workflow-epochs", type=int, default=30)
    args = parser.parse_args()
    images = read_idx(os.path.join(args.data_dir, "mnist-10k-images-idx3-ubyte.gz")).astype("float32") / 255.0
    labels = read_idx(os.path.join(args.data_dir, "mnist-10k-labels-idx1-ubyte.gz")).astype("int64")
    x = images[..., None]
    y = keras.utils.to_categorical(labels, 10)
    x_train, x_test, y_train, y_test = x[:8000], x[8000:], y[:8000], y[8000:]
    keras.utils.set_random_seed(0)
    for name, optimizer in [("material SGD(0.1)", keras.optimizers.SGD(0.1)), ("material Adam", keras.optimizers.Adam())]:
        model = material_model()
        model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
        started = time.perf_counter()
        history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=100, verbose=0)
        seconds = time.perf_counter() - started
        _, accuracy = model.evaluate(x_test, y_test, batch_size=100, verbose=0)
        print(json.dumps({"model": name, "accuracy": accuracy, "seconds": seconds,
                          "epochs": len(history.history["loss"])}), flush=True)
    model = workflow_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss="categorical_crossentropy", metrics=["accuracy"])
    callbacks = [
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=3),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=6, restore_best_weights=True),
    ]
    started = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=args.workflow_epochs, batch_size=32, validation_split=0.1,
                        callbacks=callbacks, verbose=0)
    seconds = time.perf_counter() - started
    _, accuracy = model.evaluate(x_test, y_test, batch_size=100, verbose=0)
    print(json.dumps({"model": "workflow", "accuracy": accuracy, "seconds": seconds,
                      "epochs": len(history.history["loss"])}), flush=True)


if __name__ == "__main__":
    main()
