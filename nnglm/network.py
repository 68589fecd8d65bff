"""The degenerate network: one Dense layer whose activation is the inverse link.

Training takes Keras' own `train_step` (the step `model.fit` runs) and runs
many of them inside one compiled `tf.function` loop, so that full-batch
training does not pay `fit`'s per-epoch overhead (callbacks, data adapters)
once per step. It gives the same weights as
`model.fit(X, y, epochs=E, batch_size=N, shuffle=False)`; a test holds it to that.

TensorFlow and Keras are imported inside the functions: nothing else in
nnglm needs them, and `nnglm validate` should not wait for them.
"""

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from nnglm.config import Config
from nnglm.data import Dataset
from nnglm.errors import UserError


@dataclass
class NetworkFit:
    coefficients: dict[str, float]
    final_loss: float
    epochs_run: int
    train_seconds: float
    diverged: bool
    device: str
    mu: np.ndarray  # the fitted mean on the training rows
    history: list[tuple[int, float, float]] = field(default_factory=list)  # step, loss, max |w - glm|

    def to_dict(self) -> dict:
        keys = ("coefficients", "final_loss", "epochs_run", "train_seconds", "diverged")
        return {k: getattr(self, k) for k in keys}


def import_backend(backend: str):
    # Keras reads its backend once, at import
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules:
        with _quiet_stderr():
            import tensorflow  # noqa: F401
    import keras
    import tensorflow as tf

    return keras, tf


@contextlib.contextmanager
def _quiet_stderr():
    # TensorFlow's C++ start-up notes ("Could not find cuda drivers ...") are written to
    # file descriptor 2 before TF_CPP_MIN_LOG_LEVEL is read; hide them, and only them
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def resolve_device(config: Config) -> str:
    """The TensorFlow device to train on, e.g. 'CPU:0' or 'GPU:0'."""
    _, tf = import_backend(config.train.backend)
    gpus = tf.config.list_physical_devices("GPU")
    wanted = config.train.device
    if wanted == "gpu" and not gpus:
        raise UserError("train.device: gpu was asked for, but TensorFlow sees no GPU here; allowed: auto, cpu")
    return "GPU:0" if gpus and wanted != "cpu" else "CPU:0"


def build(config: Config, n_features: int):
    keras, _ = import_backend(config.train.backend)
    keras.utils.set_random_seed(config.seed)
    keras.config.set_floatx(config.train.dtype)
    family, train = config.family, config.train
    model = keras.Sequential(
        [
            keras.Input((n_features,), dtype=train.dtype),
            keras.layers.Dense(
                1,
                activation=family.activation,
                use_bias=config.model.use_bias,
                kernel_initializer=config.model.kernel_initializer,
                dtype=train.dtype,
            ),
        ]
    )
    optimizer = keras.optimizers.Adam(
        learning_rate=train.learning_rate, beta_1=train.beta_1, beta_2=train.beta_2, epsilon=train.epsilon
    )
    model.compile(optimizer=optimizer, loss=family.loss)
    return model


def coefficients(model, use_bias: bool) -> np.ndarray:
    """The weights in term order: the bias first (statsmodels' 'const'), then the kernel."""
    weights = model.get_weights()
    kernel = np.asarray(weights[0], dtype=float).ravel()
    return np.concatenate([np.asarray(weights[1], dtype=float), kernel]) if use_bias else kernel


def train(
    dataset: Dataset,
    config: Config,
    device: str,
    target: np.ndarray,
    on_progress: Callable[[int, float], None] = lambda step, loss: None,
) -> NetworkFit:
    """Train for up to train.epochs steps, logging loss and distance to `target` every log_every steps."""
    keras, tf = import_backend(config.train.backend)
    tf.config.experimental.enable_op_determinism()
    train_cfg = config.train
    names = (["const"] if config.model.use_bias else []) + dataset.feature_names
    start = time.perf_counter()
    with tf.device(device):
        model = build(config, dataset.n_features)
        X = tf.constant(dataset.X, dtype=train_cfg.dtype)
        y = tf.constant(dataset.y[:, None], dtype=train_cfg.dtype)
        run_steps = _step_runner(model, X, y, dataset.n_rows, train_cfg.batch_size, tf)
        loss_fn = keras.losses.get(config.family.loss)

        @tf.function
        def current():
            mu = model(X)
            return tf.reduce_mean(loss_fn(y, mu)), mu

        history = []
        step, diverged = 0, False
        loss, mu = current()
        history.append(_log(step, loss, model, config, target))
        while step < train_cfg.epochs:
            n = min(train_cfg.log_every, train_cfg.epochs - step)
            run_steps(n)
            step += n
            loss, mu = current()
            history.append(_log(step, loss, model, config, target))
            on_progress(step, history[-1][1])
            if not np.isfinite(history[-1][1]) or not np.all(np.isfinite(coefficients(model, config.model.use_bias))):
                diverged = True
                break
        used = model.weights[0].value.device.rpartition("device:")[2] or device
    return NetworkFit(
        coefficients=dict(zip(names, map(float, coefficients(model, config.model.use_bias)))),
        final_loss=history[-1][1],
        epochs_run=step,
        train_seconds=time.perf_counter() - start,
        diverged=diverged,
        device=used,
        mu=np.asarray(mu, dtype=float).ravel(),
        history=history,
    )


def _step_runner(model, X, y, n_rows: int, batch_size, tf) -> Callable[[int], None]:
    model.optimizer.build(model.trainable_variables)
    if batch_size == "full" or batch_size >= n_rows:

        @tf.function
        def loop(n):
            for _ in tf.range(n):
                model.train_step((X, y))

        return lambda n: loop(tf.constant(n, dtype=tf.int32))

    # mini-batches: Keras' own loop, one epoch per step count (slower, for small data)
    return lambda n: model.fit(X, y, batch_size=batch_size, epochs=n, shuffle=False, verbose=0)


def _log(step: int, loss, model, config: Config, target: np.ndarray) -> tuple[int, float, float]:
    w = coefficients(model, config.model.use_bias)
    return step, float(loss), float(np.max(np.abs(w - target))) if w.size else 0.0
