"""The degenerate network: one Dense layer whose activation is the inverse link.

Training takes Keras' own `train_step` (the step `model.fit` runs) and runs
many of them inside one compiled loop (a `tf.function` on TensorFlow, a jitted
`fori_loop` on JAX: see backends.py), so that full-batch training does not pay
`fit`'s per-epoch overhead (callbacks, data adapters) once per step. It gives
the same weights as `model.fit(X, y, epochs=E, batch_size=N, shuffle=False)`;
a test holds it to that.

Keras is imported inside the functions: nothing else in nnglm needs it, and
`nnglm validate` should not wait for it.
"""

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from nnglm import backends
from nnglm.config import Config
from nnglm.data import Dataset


@dataclass
class NetworkFit:
    coefficients: dict[str, float]  # by term, on the original scale of the features
    final_loss: float
    epochs_run: int
    train_seconds: float
    diverged: bool
    max_abs_grad: float  # the largest absolute gradient of the loss at the end
    converged: bool | None  # max_abs_grad < train.grad_tol; None when no grad_tol is set
    note: str | None  # why training stopped where it did, when that is news
    device: str
    mu: np.ndarray  # the fitted mean (class probabilities for multinomial) on the training rows
    history: list[tuple[int, float, float]] = field(default_factory=list)  # step, loss, max |w - glm|
    trajectory: list[np.ndarray] = field(default_factory=list)  # the weights at each history step
    model: object = None  # the trained Keras model
    scaling: "Scaling | None" = None  # what the model's inputs were standardized with
    dtype: str = "float32"

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The fitted mean (class probabilities for multinomial) on new rows."""
        import keras

        mu = keras.ops.convert_to_numpy(self.model(self.scaling.apply(X).astype(self.dtype))).astype(float)
        return mu[:, 0] if mu.shape[1] == 1 else mu

    def to_dict(self) -> dict:
        keys = ("coefficients", "final_loss", "epochs_run", "train_seconds", "diverged", "max_abs_grad", "converged", "note")
        return {k: getattr(self, k) for k in keys}


@dataclass(frozen=True)
class Scaling:
    """The network sees (X - shift) / scale; its weights are mapped back before anything reads them."""

    shift: np.ndarray
    scale: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray, standardize: bool, use_bias: bool) -> "Scaling":
        k = X.shape[1]
        if not standardize:
            return cls(np.zeros(k), np.ones(k))
        sd = X.std(axis=0)
        sd[sd == 0] = 1.0
        # without a bias there is no intercept to absorb a shift: scale only
        return cls(X.mean(axis=0) if use_bias else np.zeros(k), sd)

    def apply(self, X: np.ndarray) -> np.ndarray:
        return (X - self.shift) / self.scale


def resolve_device(config: Config) -> str:
    """The device to train on, 'CPU:0' or 'GPU:0'."""
    return backends.load(config.train.backend, config.train.dtype).device(config.train.device)


def determinism(config: Config, device: str) -> dict[str, object]:
    """Make the run repeatable (seeds, deterministic ops, no TensorFloat-32) and say how,
    with anything the backend cannot do for this run."""
    engine = backends.load(config.train.backend, config.train.dtype)
    settings = engine.determinism(config.seed, device)
    caveat = engine.caveat(config.train.dtype)
    return settings | ({"caveat": caveat} if caveat else {})


def start_bias(config: Config, y: np.ndarray) -> float:
    family = config.family
    return float(family.sm_family().link(np.mean(y))) if family.start_bias_at_mean else 0.0


def build(config: Config, dataset: Dataset, hidden: list[int] = ()):
    """The degenerate network; with `hidden` widths, hidden layers (Keras' default initializer)
    before the same output layer, which then starts from Keras' default too."""
    keras = backends.load(config.train.backend, config.train.dtype).keras
    keras.utils.set_random_seed(config.seed)
    keras.config.set_floatx(config.train.dtype)
    family, train = config.family, config.train
    layers = [keras.Input((dataset.n_features,), dtype=train.dtype)]
    layers += [keras.layers.Dense(width, activation=config.model.hidden_activation, dtype=train.dtype) for width in hidden]
    layers.append(
        keras.layers.Dense(
            dataset.n_outputs,
            activation=family.activation,
            use_bias=config.model.use_bias,
            # zeros would leave every hidden unit the same forever
            kernel_initializer="glorot_uniform" if hidden else config.model.kernel_initializer,
            bias_initializer=keras.initializers.Constant(start_bias(config, dataset.y)),
            dtype=train.dtype,
        )
    )
    model = keras.Sequential(layers)
    optimizer = keras.optimizers.Adam(
        learning_rate=train.learning_rate, beta_1=train.beta_1, beta_2=train.beta_2, epsilon=train.epsilon
    )
    model.compile(optimizer=optimizer, loss=family.loss)
    return model


def coefficients(model, use_bias: bool, scaling: Scaling | None = None, multiclass: bool = False) -> np.ndarray:
    weights = [np.asarray(w, dtype=float) for w in model.get_weights()]
    return original_scale(weights[0], weights[1] if use_bias else None, scaling, multiclass)


def original_scale(kernel: np.ndarray, bias: np.ndarray | None, scaling: Scaling | None, multiclass: bool) -> np.ndarray:
    """Dense weights (kernel (features, outputs), bias (outputs,)) as coefficients in the order
    of Dataset.terms, on the original scale of the features."""
    if scaling is not None:
        kernel = kernel / scaling.scale[:, None]
    rows = [kernel]
    if bias is not None:
        if scaling is not None:
            bias = bias - scaling.shift @ kernel
        rows.insert(0, bias[None, :])
    B = np.vstack(rows)  # (terms, outputs)
    if multiclass:
        # softmax is unchanged by adding one vector to every class: compare contrasts with class 0
        B = B[:, 1:] - B[:, :1]
    return B.T.ravel()


def train(
    dataset: Dataset,
    config: Config,
    device: str,
    target: np.ndarray,
    on_log: Callable[[tuple[int, float, float]], None] = lambda row: None,
    hidden: list[int] = (),
) -> NetworkFit:
    """Train for up to train.epochs steps, logging loss and distance to `target` every log_every steps;
    each history row (step, loss, max |w - target|) is also handed to `on_log` as it is made.
    With `hidden` widths the network has hidden layers: no coefficients, no distance to the GLM."""
    engine = backends.load(config.train.backend, config.train.dtype)
    keras = engine.keras
    engine.determinism(config.seed, device)
    train_cfg, family = config.train, config.family
    scaling = Scaling.of(dataset.X, train_cfg.standardize, config.model.use_bias)

    def weights(model) -> np.ndarray:
        if hidden:
            return np.array([])
        return coefficients(model, config.model.use_bias, scaling, family.multiclass)

    start = time.perf_counter()
    with engine.placement(device):
        model = build(config, dataset, hidden)
        X = keras.ops.convert_to_tensor(scaling.apply(dataset.X), dtype=train_cfg.dtype)
        y = keras.ops.convert_to_tensor(dataset.y[:, None], dtype=train_cfg.dtype)
        if full_batch(config, dataset.n_rows):
            run_steps = engine.step_runner(model, X, y)
        else:  # mini-batches: Keras' own loop, one epoch per step count (slower, for small data)
            run_steps = lambda n: model.fit(X, y, batch_size=train_cfg.batch_size, epochs=n, shuffle=False, verbose=0)  # noqa: E731
        current = engine.evaluator(model, X, y, loss_function(family))

        trajectory = []

        def log(step, loss):
            w = weights(model)
            trajectory.append(w)
            row = step, float(loss), float(np.max(np.abs(w - target))) if w.size else float("nan")
            on_log(row)
            return row

        batches = 1 if train_cfg.batch_size == "full" else -(-dataset.n_rows // train_cfg.batch_size)

        def steps_done() -> int:
            # from the optimizer itself, so an interruption mid-call still counts right
            return int(model.optimizer.iterations.numpy()) // batches

        step, diverged, interrupted = 0, False, False
        loss, mu, grad = current()
        history = [log(step, loss)]
        try:
            while step < train_cfg.epochs and not (train_cfg.grad_tol and grad < train_cfg.grad_tol):
                run_steps(min(train_cfg.log_every, train_cfg.epochs - step))
                step = steps_done()
                loss, mu, grad = current()
                history.append(log(step, loss))
                if not np.isfinite(float(loss)) or not np.all(np.isfinite(trajectory[-1])):
                    diverged = True
                    break
        except KeyboardInterrupt:
            interrupted = True
            if steps_done() != step:
                step = steps_done()
                loss, mu, grad = current()
                history.append(log(step, loss))
        used = engine.used_device(model, device)
    grad = float(grad)
    converged = None if train_cfg.grad_tol is None else bool(grad < train_cfg.grad_tol)
    note = None
    if interrupted:
        note = f"interrupted after {step} steps; the weights are those reached by then"
    elif diverged:
        note = f"diverged: the loss or a weight stopped being finite by step {step}"
    elif converged is False:
        note = f"not converged after {step} steps; max |grad| = {grad:.3g} (train.grad_tol {train_cfg.grad_tol:g})"
    fit = NetworkFit(
        coefficients=dict(zip(dataset.terms(config.model.use_bias), map(float, weights(model)))),
        final_loss=history[-1][1],
        epochs_run=step,
        train_seconds=time.perf_counter() - start,
        diverged=diverged,
        max_abs_grad=grad,
        converged=converged,
        note=note,
        device=used,
        mu=np.asarray(mu, dtype=float)[:, 0] if dataset.n_outputs == 1 else np.asarray(mu, dtype=float),
        history=history,
        trajectory=trajectory,
        model=model,
        scaling=scaling,
        dtype=train_cfg.dtype,
    )
    if interrupted:
        raise Interrupted(fit)
    return fit


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during training, carrying what the network had learned by then."""

    def __init__(self, fit: NetworkFit):
        super().__init__()
        self.fit = fit


def full_batch(config: Config, n_rows: int) -> bool:
    batch = config.train.batch_size
    return batch == "full" or batch >= n_rows


def loss_function(family):
    import keras

    return keras.losses.get(family.loss) if isinstance(family.loss, str) else family.loss


def activation_function(family):
    import keras

    return keras.activations.get(family.activation) if isinstance(family.activation, str) else family.activation
