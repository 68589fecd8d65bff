"""The network with hidden layers (model.hidden): the linear model's rival, not its equal.

It has no coefficients to set beside the GLM's, so it is judged by its loss on
held-out rows (holdout.py). It trains a fixed number of steps on standardized
inputs, with the same loss, optimizer and compiled step loop as the one-layer
network (network.py).

Started at the GLM (model.hidden_start: glm, GlmStart), it is the Combined
Actuarial Neural Network of Schelldorfer and Wüthrich (2019): the linear
predictor is the GLM's, a Dense layer on the same inputs whose weights start at
the GLM's coefficients (the skip connection; fixed, it is never trained), plus
the hidden part, whose last layer starts at zero, plus the offset. Step 0 then
predicts the GLM's means, and training can only move from there.

With `early` rows, the loss on them is read every train.log_every steps: the
weights of the lowest are kept, and training stops after PATIENCE reads without
a new lowest.
"""

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ConfigDict, Field

from nnglm.config.schema import TrainConfig
from nnglm.data.table import Dataset
from nnglm.log.result import HiddenSection
from nnglm.model.precondition import Inputs
from nnglm.train import inference, network
from nnglm.train.backends import Engine
from nnglm.train.network import NetworkSpec

AUTO_STEPS = 5000  # a hidden-layer network has no optimum to measure: with `auto` it trains this long
PATIENCE = 10  # reads of the early-stopping loss without a new lowest before training stops


@dataclass(frozen=True)
class GlmStart:
    """Where the network started at the GLM starts: the GLM's coefficients (Dataset.terms' order, as
    GlmFit.coefficients' values), and whether the skip connection is held there (model.hidden_skip: fixed)."""

    coefficients: np.ndarray
    fixed: bool


class HiddenFit(HiddenSection):
    """What training reached: result.json's hidden section (its figures are declared there), and what the
    fit alone holds, never written there: no coefficients, a model that predicts."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    model: Any = Field(exclude=True)  # a Keras model
    inputs: Inputs = Field(exclude=True)
    dtype: str = Field(exclude=True)
    early_losses: list[tuple[int, float]] = Field(default_factory=list, exclude=True)  # (step, loss on the early rows)

    def predict(self, X: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
        """The fitted mean (class probabilities for multinomial) on new rows."""
        import keras

        x = self.inputs.apply(X).astype(self.dtype)
        mu = self.model(x if offset is None else [x, offset[:, None].astype(self.dtype)])
        mu = keras.ops.convert_to_numpy(mu).astype(float)
        return mu[:, 0] if mu.shape[1] == 1 else mu


def steps(train: TrainConfig) -> int:
    return AUTO_STEPS if train.auto else train.fixed_steps


def build(engine: Engine, spec: NetworkSpec, n_features: int, n_outputs: int, bias: np.ndarray, offset: bool = False):
    """model.hidden's Dense layers (Keras' default initializer) before the one-layer network's output
    layer, which then starts from Keras' default too: zeros would leave every hidden unit the same forever."""
    network.seeded(engine, spec.seed, spec.train.dtype)
    dtype = spec.train.dtype
    layers = [engine.keras.layers.Dense(width, activation=spec.hidden_activation, dtype=dtype) for width in spec.hidden]
    head = network.output_layer(engine, spec, n_outputs, bias, offset, kernel_initializer="glorot_uniform")
    return network.assemble(engine, spec, n_features, [*layers, head], offset)


def build_at_glm(engine: Engine, spec: NetworkSpec, dataset: Dataset, inputs: Inputs, glm_start: GlmStart):
    """The network started at the GLM: eta = skip(x) + head(hidden(x)) (+ offset), the skip connection at
    the GLM's coefficients, the head (the hidden part's last layer) at zero."""
    network.seeded(engine, spec.seed, spec.train.dtype)
    keras, dtype, n_outputs = engine.keras, spec.train.dtype, dataset.n_outputs
    kernel, bias = inputs.from_original(glm_start.coefficients, spec.use_bias, n_outputs)
    x = keras.Input((dataset.n_features,), dtype=dtype)
    h = x
    for width in spec.hidden:
        h = keras.layers.Dense(width, activation=spec.hidden_activation, dtype=dtype)(h)
    head = keras.layers.Dense(n_outputs, use_bias=spec.use_bias, kernel_initializer="zeros", bias_initializer="zeros", dtype=dtype)
    skip = keras.layers.Dense(
        n_outputs,
        use_bias=spec.use_bias,
        kernel_initializer=keras.initializers.Constant(kernel),
        bias_initializer=keras.initializers.Constant(bias),
        trainable=not glm_start.fixed,
        dtype=dtype,
        name="skip",
    )
    parts, model_inputs = [head(h), skip(x)], [x]
    if dataset.offset is not None:
        o = keras.Input((1,), dtype=dtype)
        parts, model_inputs = [*parts, o], [x, o]
    eta = keras.layers.Add(dtype=dtype)(parts)
    mu = keras.layers.Activation(inference.activation_function(spec.family), dtype=dtype)(eta)
    return network.compiled_with_adam(engine, spec, keras.Model(model_inputs if len(model_inputs) > 1 else x, mu))


class Early:
    """The loss on the early-stopping rows, read every train.log_every steps; the weights at its lowest."""

    def __init__(self, engine: Engine, model, spec: NetworkSpec, inputs: Inputs, rows: Dataset):
        self.model = model
        self.evaluate = early_loss(engine, model, spec, inputs, rows)
        self.losses: list[tuple[int, float]] = []
        self.best_loss, self.best_step, self.since = float("inf"), 0, 0
        self.best_weights = [np.array(w) for w in model.get_weights()]

    def read(self, step: int) -> None:
        loss = self.evaluate()
        self.losses.append((step, loss))
        if loss < self.best_loss:
            self.best_loss, self.best_step, self.since = loss, step, 0
            self.best_weights = [np.array(w) for w in self.model.get_weights()]
        else:
            self.since += 1

    @property
    def stale(self) -> bool:
        return self.since >= PATIENCE

    def restore(self) -> None:
        self.model.set_weights(self.best_weights)


def early_loss(engine: Engine, model, spec: NetworkSpec, inputs: Inputs, rows: Dataset):
    """() -> the model's loss on `rows` at its current weights, as Keras trains it (the weighted mean)."""
    data = network.tensors(engine, spec, inputs.apply(rows.X), rows)
    current = engine.evaluator(model, data, inference.loss_function(spec.family))
    return lambda: float(current()[0])


def train(
    engine: Engine,
    dataset: Dataset,
    spec: NetworkSpec,
    device: str,
    on_log: network.Observer = lambda row: None,
    glm_start: GlmStart | None = None,
    early: Dataset | None = None,
) -> HiddenFit:
    """Train for steps(spec.train) steps, or until the loss or a weight stops being finite; from the GLM's
    fit where glm_start is given (from scratch where its coefficients are not finite: the GLM failed);
    with `early`, stopped and its weights kept as the module says."""
    train = spec.train
    inputs = Inputs.of(dataset.X, "standardize" if train.inputs != "none" else "none", spec.use_bias)
    fallback = None
    if glm_start is not None and not np.all(np.isfinite(glm_start.coefficients)):
        glm_start, fallback = None, "the GLM failed (no finite coefficients): the network started from scratch, not at the GLM"
    n_steps = steps(train)
    start = time.perf_counter()
    with engine.placement(device):
        if glm_start is None:
            model = build(
                engine, spec, dataset.n_features, dataset.n_outputs, network.start_bias(spec, dataset), dataset.offset is not None
            )
        else:
            model = build_at_glm(engine, spec, dataset, inputs, glm_start)
        run, current, batches = network.compiled(engine, model, spec, inputs.apply(dataset.X), dataset)
        loop = network.Steps(model, run, current, batches, lambda: np.array([]), np.array([]), on_log)
        watch = None if early is None else Early(engine, model, spec, inputs, early)
        if watch:
            watch.read(0)
        while loop.step < n_steps and loop.finite and not (watch and watch.stale):
            loop.run(min(train.log_every, n_steps - loop.step))
            if watch:
                watch.read(loop.step)
        if watch:
            watch.restore()
    diverged = not loop.finite
    losses = dict((step, loss) for step, loss, _ in loop.history)
    notes = [fallback] if fallback else []
    if diverged:
        notes.append(f"diverged: the loss or a weight stopped being finite by step {loop.step}")
    return HiddenFit(
        widths=list(spec.hidden),
        activation=spec.hidden_activation,
        final_loss=losses[watch.best_step] if watch else loop.history[-1][1],
        epochs_run=loop.step,
        train_seconds=time.perf_counter() - start,
        diverged=diverged,
        note="; ".join(notes) or None,
        start=None if glm_start is None and fallback is None else ("scratch" if glm_start is None else "glm"),
        skip=None if glm_start is None else ("fixed" if glm_start.fixed else "trained"),
        best_step=watch.best_step if watch else None,
        model=model,
        inputs=inputs,
        dtype=train.dtype,
        early_losses=watch.losses if watch else [],
    )
