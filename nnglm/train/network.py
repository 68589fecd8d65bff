"""The degenerate network: one Dense layer whose activation is the inverse link.

Training takes Keras' own `train_step` (the step `model.fit` runs) and runs
many of them inside one compiled loop (a `tf.function` on TensorFlow, a jitted
`fori_loop` on JAX: see backends.py), so that full-batch training does not pay
`fit`'s per-epoch overhead (callbacks, data adapters) once per step. It gives
the same weights as `model.fit(X, y, epochs=E, batch_size=N, shuffle=False)`;
a test holds it to that. What training reads of a run's config is NetworkSpec,
made once (NetworkSpec.of); hidden.py and reference.py take it too.

With `train.epochs: auto` (the default) the network trains until it has
converged by its own measure, never the GLM's: every CHECK_EVERY steps the
Newton step of its own loss (inference.Curvature) estimates how far each
coefficient still is from the optimum; training stops once that is below
`train.rtol` relative to the coefficient's size or standard error, or once it
is at the floor of the network's own arithmetic (see FLOOR). The inputs
are whitened (precondition.py), the bias starts at the intercept-only fit, and
Adam's learning rate follows the estimate: set to cover the estimated distance
in about CHECK_EVERY steps, halved whenever the estimate did not fall by a
tenth since the last look. Every update is still Keras' Adam step on the one Dense layer;
the Hessian only measures.

The floor. Adam follows the gradient the network computes in its own dtype,
g32 = g + e, where g is the exact (float64) gradient at the same weights and e
the round-off of the float32 design, weights and sums. Where g32 vanishes, g =
-e, so the weights the network can settle at lie within the Newton step H^+ e
of the optimum, and no step count takes them closer. The weights have a
resolution of their own: each is known to a unit in its last place. At every
look the network's gradient and its weights' spacing are read beside the
float64 gradient; the larger of the two effects, mapped to the coefficients
and measured as the distance is (relative to each coefficient's size or
standard error), is the floor. e grows with the dtype's eps (1.2e-7 in
float32, 2.2e-16 in float64) and with the design's conditioning, which
whitening takes out of the steps but not out of the map back to the original
features. Training stops ("floor") once the distance is within FLOOR times the
floor; or within WOBBLE times it once a look gained less than a tenth (see
WOBBLE); or once a whole look's steps changed no weight at all (every update
below half a unit in the last place: the same weights give the same gradient
at every later step, and smaller learning rates move nothing either). In
float64 the floor is far below any tolerance and none of these fires first.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import ConfigDict, Field

from nnglm.config import Config
from nnglm.config.schema import Penalty as PenaltySpec
from nnglm.config.schema import TrainConfig
from nnglm.data.table import Dataset
from nnglm.foundation.errors import UserError
from nnglm.log.result import NetworkSection, Statistics, StopReason, flat, nest
from nnglm.model import penalty
from nnglm.model.precondition import Inputs
from nnglm.train import inference
from nnglm.train.backends import Engine
from nnglm.train.inference import Curvature, Distance, loss_function
from nnglm.vocabulary.families import Family

CHECK_EVERY = 100  # steps between two looks at the curvature (a fixed count, so that runs repeat exactly)
# the distance may be this many times the floor (see the module's notes) when training stops there:
# Adam's own wobble at the last learning rate comes on top of the round-off, so a distance within
# twice the floor is as close as the next looks would get
FLOOR = 2.0
# Adam divides its steps by the root of its gradients' mean square, so at the floor its steps do not
# shrink with the gradient, only with the learning rate: it wobbles about the optimum until its steps
# are below the weights' resolution. Measured on the auto_* configs and a million rows in float32, it
# stalls 2 to 15 times above the floor; within WOBBLE times it, a look without a tenth's progress
# is the end
WOBBLE = 20.0
PATIENCE = 20  # looks without a new best estimate before `auto` gives up (a safeguard where no floor is measured)

HistoryRow = tuple[int, float, float]  # step, loss, max |w - target|
Observer = Callable[[HistoryRow], None]  # told of each history row as training makes it (the run log, a progress bar)


class NetworkFit(NetworkSection):
    """The network's fit: result.json's network section (its figures are declared there), and what the fit
    alone holds, never written there. Its coefficients are by term, on the original scale of the features;
    bse and statistics are filled after training, from its curvature."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    device: str = Field(exclude=True)  # the environment's device
    mu: np.ndarray = Field(exclude=True)  # the fitted mean (class probabilities for multinomial) on the training rows
    curvature: Curvature = Field(exclude=True)  # the network's loss, for its standard errors
    inputs: Inputs = Field(exclude=True)  # what the network trained on (the reference takes the same)
    # where train_seconds went (result.json's timings): build (model, compile, data to tensors), steps (the
    # compiled loop, its compilation in the first call), first_call (that first call alone), reads (loss and
    # gradient for each history row), looks (the convergence looks of `auto`)
    timings: dict[str, float] = Field(default_factory=dict, exclude=True)
    history: list[HistoryRow] = Field(default_factory=list, exclude=True)  # history.csv
    trajectory: list[np.ndarray] = Field(default_factory=list, exclude=True)  # the weights at each history step: trajectory.csv

    def section(self, multiclass: bool, bse: dict[str, float] | None = None, statistics: Statistics | None = None) -> NetworkSection:
        """result.json's network section: the fit's figures alone (a copy: the section keeps no curvature or data
        alive), coefficients and standard errors nested by class for a multinomial fit."""
        figures = self.model_dump() | {"bse": None if bse is None else nest(bse, multiclass), "statistics": statistics}
        return NetworkSection.model_validate(figures | {"coefficients": nest(flat(self.coefficients), multiclass)})


@dataclass(frozen=True)
class NetworkSpec:
    """What the networks (this one-layer network, hidden.py's, reference.py's Adam) read of a run's config:
    made once, by `of`. A Trainer made for one spec serves any spec that differs in STEERING keys only."""

    family: Family  # config.family
    train: TrainConfig  # train.*
    use_bias: bool  # model.use_bias
    kernel_initializer: str  # model.kernel_initializer
    penalty: PenaltySpec | None  # model.penalty
    hidden: tuple[int, ...]  # model.hidden
    hidden_activation: str  # model.hidden_activation
    precondition: str  # config.precondition: the network's inputs
    seed: int  # Keras' seed
    compare_rtol: float  # config.compare_rtol: the verdict's tolerance, for `converged`
    stop_rtol: float  # config.stop_rtol: where `auto` stops

    @classmethod
    def of(cls, config: Config) -> "NetworkSpec":
        model = config.model
        return cls(
            family=config.family,
            train=config.train,
            use_bias=model.use_bias,
            kernel_initializer=model.kernel_initializer,
            penalty=model.penalty,
            hidden=tuple(model.hidden),
            hidden_activation=model.hidden_activation,
            precondition=config.precondition,
            seed=config.seed,
            compare_rtol=config.compare_rtol,
            stop_rtol=config.stop_rtol,
        )


def determinism(engine: Engine, seed: int, dtype: str, device: str) -> dict[str, object]:
    """Make the run repeatable (seeds, deterministic ops, no TensorFloat-32), once a run, and say how,
    with anything the backend cannot do for this run (in train.dtype)."""
    settings = engine.determinism(seed, device)
    caveat = engine.caveat(dtype)
    return settings | ({"caveat": caveat} if caveat else {})


def start_bias(spec: NetworkSpec, dataset: Dataset) -> np.ndarray:
    """With `auto`, every family starts at the intercept-only fit; with a fixed step count only
    the families whose activation is undefined at eta = 0 do (as the seeds ran)."""
    family = spec.family
    if spec.train.auto or family.start_bias_at_mean:
        return family.intercept_only(dataset.y, dataset.n_outputs, dataset.weights, dataset.offset)
    return np.zeros(dataset.n_outputs)


def starts_inside(family: Family, use_bias: bool) -> bool:
    """Without a bias, a link whose activation is undefined at eta = 0 (identity or sqrt on a positive mean,
    inverse_power ...) cannot start from a zero kernel: its kernel starts inside the domain (start_kernel)."""
    return not use_bias and family.start_bias_at_mean


def check_start(family: Family, use_bias: bool, dataset: Dataset) -> None:
    """A UserError where the network has no start inside its activation's domain (see start_kernel):
    bad input, found by `validate` and by `run` before it makes a folder."""
    if starts_inside(family, use_bias):
        start_kernel(family, dataset)


def start_kernel(family: Family, dataset: Dataset) -> np.ndarray:
    """The coefficients of statsmodels' first IRLS step (as R's glm starts: mu from the family's starting
    mu, one weighted least squares of the working response), which put eta inside the activation's domain
    on every row; a UserError where they do not. (Only where use_bias is false: see starts_inside.)"""
    sm_family = family.sm_family()
    y, X = dataset.y, dataset.X
    offset = np.zeros(len(y)) if dataset.offset is None else dataset.offset
    mu = sm_family.starting_mu(y)
    w = (1.0 if dataset.weights is None else dataset.weights) / (sm_family.variance(mu) * sm_family.link.deriv(mu) ** 2)
    root = np.sqrt(w)
    kernel = np.linalg.lstsq(X * root[:, None], (sm_family.link(mu) - offset) * root, rcond=None)[0]
    low, high = family.eta_range
    eta = X @ kernel + offset
    inside = (eta > low) & (eta < high)
    if not np.all(inside):
        raise UserError(
            f"model.use_bias: false with {family.key}: the activation is undefined at η = 0 and the first "
            f"IRLS step (the start R and statsmodels take) puts η outside ({low:g}, {high:g}) on {int(np.sum(~inside))} of "
            f"{len(eta)} rows, so the network has no start inside the domain; set model.use_bias: true"
        )
    return kernel


def build(
    engine: Engine,
    spec: NetworkSpec,
    n_features: int,
    n_outputs: int,
    bias: np.ndarray,
    offset: bool = False,
    penalty=None,
    kernel: np.ndarray | None = None,
):
    """The degenerate network: one Dense layer whose activation is the inverse link. With `offset`, a
    second input (rows, 1) is added to its linear predictor before the activation: a fixed input, never
    trained. `penalty`: a kernel regularizer (see penalized). `kernel`: its start (see start_kernel),
    else model.kernel_initializer's."""
    seeded(engine, spec.seed, spec.train.dtype)
    initializer = spec.kernel_initializer if kernel is None else engine.keras.initializers.Constant(kernel)
    head = output_layer(engine, spec, n_outputs, bias, offset, initializer, penalty)
    return assemble(engine, spec, n_features, [head], offset)


def seeded(engine: Engine, seed: int, dtype: str) -> None:
    """Keras' seeds and float type, before any layer is made: its initializers draw their seeds then."""
    # both are Keras' process-wide settings (it has no other way to seed its initializers or to set the
    # float type of what a layer makes without a dtype of its own); each run sets them again here
    engine.keras.utils.set_random_seed(seed)
    engine.keras.config.set_floatx(dtype)


def output_layer(engine: Engine, spec: NetworkSpec, n_outputs: int, bias: np.ndarray, offset: bool, kernel_initializer, penalty=None):
    """The Dense layer that makes the linear predictor: the inverse link is its activation, unless an
    offset is added first (assemble applies it then)."""
    keras = engine.keras
    return keras.layers.Dense(
        n_outputs,
        activation=None if offset else inference.activation_function(spec.family),
        use_bias=spec.use_bias,
        kernel_initializer=kernel_initializer,
        bias_initializer=keras.initializers.Constant(bias),
        kernel_regularizer=penalty,
        dtype=spec.train.dtype,
    )


def assemble(engine: Engine, spec: NetworkSpec, n_features: int, layers: Sequence, offset: bool):
    """The layers (the last one output_layer's) as a Keras model, with the offset input where there is
    one, compiled with Adam and the family's loss."""
    keras, family, train = engine.keras, spec.family, spec.train
    x = keras.Input((n_features,), dtype=train.dtype)
    # model.alpha: estimate: log(alpha) is one more weight, its own column beside the mean
    extra = [alpha_column(keras, np.log(family.param("alpha")), train.dtype)] if family.estimated else []
    if offset:
        o = keras.Input((1,), dtype=train.dtype)
        eta = keras.layers.Add(dtype=train.dtype)([keras.Sequential([x, *layers])(x), o])
        mu = keras.layers.Activation(inference.activation_function(family), dtype=train.dtype)(eta)
        model = keras.Model([x, o], extra[0](mu) if extra else mu)
    else:
        model = keras.Sequential([x, *layers, *extra])
    return compiled_with_adam(engine, spec, model)


def compiled_with_adam(engine: Engine, spec: NetworkSpec, model):
    """The model compiled with Adam (train.*'s rate and moments) and the family's loss."""
    train = spec.train
    optimizer = engine.keras.optimizers.Adam(learning_rate=train.rate, beta_1=train.beta_1, beta_2=train.beta_2, epsilon=train.epsilon)
    model.compile(optimizer=optimizer, loss=inference.loss_function(spec.family))
    return model


def alpha_column(keras, start: float, dtype: str):
    """A layer holding one trainable weight, log(alpha), that appends it as a column to the mean:
    the output (rows, 2) is what the family's loss with alpha learned takes (families.py)."""

    class AlphaColumn(keras.layers.Layer):
        def build(self, input_shape):
            self.log_alpha = self.add_weight(shape=(1,), initializer=keras.initializers.Constant(start), name="log_alpha")

        def call(self, mu):
            return keras.ops.concatenate([mu, keras.ops.zeros_like(mu) + self.log_alpha], axis=-1)

        def compute_output_shape(self, input_shape):
            return (*input_shape[:-1], 2)

    return AlphaColumn(dtype=dtype, name="log_alpha")


def penalized(spec: NetworkSpec, dataset: Dataset, inputs: Inputs) -> Callable | None:
    """model.penalty as a Keras kernel regularizer on the weights' original scale (inputs.matrix @ kernel),
    times the loss's nll_factor: Keras' loss is nll_factor times the mean NLL (see families.py)."""
    pen = penalty.of_run(spec.penalty, dataset, spec.use_bias)
    if pen is None:
        return None
    from keras import ops

    on_features = slice(int(spec.use_bias), None)
    factor = spec.family.nll_factor
    M = ops.convert_to_tensor(inputs.matrix, dtype=spec.train.dtype)
    ridge = ops.convert_to_tensor(pen.ridge[on_features][:, None], dtype=spec.train.dtype)
    lasso = ops.convert_to_tensor(pen.lasso[on_features][:, None], dtype=spec.train.dtype)

    def elastic_net(kernel):
        slopes = ops.matmul(M, kernel)
        return factor * ops.sum(ridge / 2 * ops.square(slopes) + lasso * ops.abs(slopes))

    return elastic_net


def compiled(engine: Engine, model, spec: NetworkSpec, Z: np.ndarray, dataset: Dataset, penalty=None) -> tuple[Callable, Callable, int]:
    """The model's compiled step loop (n steps per call), its evaluator (loss, mean, gradient) and the batches a step takes."""
    train = spec.train
    data = tensors(engine, spec, Z, dataset)
    x, Y, sw = data[0], data[1], (data[2] if len(data) == 3 else None)
    if full_batch(train.batch_size, dataset.n_rows):
        run = engine.step_runner(model, data)
    else:  # mini-batches: Keras' own loop, one epoch per step count (slower, for small data)
        run = lambda n: model.fit(x, Y, sample_weight=sw, batch_size=train.batch_size, epochs=n, shuffle=False, verbose=0)  # noqa: E731
    batches = 1 if train.batch_size == "full" else -(-dataset.n_rows // train.batch_size)
    return run, engine.evaluator(model, data, loss_function(spec.family), penalty), batches


def tensors(engine: Engine, spec: NetworkSpec, Z: np.ndarray, dataset: Dataset) -> tuple:
    """(inputs, target) or (inputs, target, sample weights) as Keras trains on them: the inputs are Z, or
    [Z, offset] where the rows have an offset."""
    tensor = lambda a: engine.keras.ops.convert_to_tensor(a, dtype=spec.train.dtype)  # noqa: E731
    x = tensor(Z) if dataset.offset is None else [tensor(Z), tensor(dataset.offset[:, None])]
    Y = tensor(dataset.y[:, None])
    # Keras' loss with sample weights is sum(w * loss) / rows: the weighted NLL's optimum (see docs/data-and-formulas.md, "Weights in Keras")
    sw = None if dataset.weights is None else tensor(dataset.weights)
    return (x, Y) if sw is None else (x, Y, sw)


class Steps:
    """The model, its compiled step loop and what is read after each call: loss, mean, gradient."""

    def __init__(self, model, run: Callable, current: Callable, batches: int, weights: Callable, target: np.ndarray, on_log: Observer):
        self.model, self.weights, self.target, self.on_log = model, weights, target, on_log
        self._run, self._current, self._batches = run, current, batches
        self.history: list[HistoryRow] = []
        self.trajectory: list[np.ndarray] = []
        self.step = 0
        self.timings = {"steps": 0.0, "reads": 0.0}
        self.read()

    def done(self) -> int:
        # from the optimizer itself, so an interruption mid-call still counts right
        return int(self.model.optimizer.iterations.numpy()) // self._batches

    def read(self) -> None:
        """Loss, mean and gradient at the current weights, and one history row."""
        start = time.perf_counter()
        self.step = self.done()
        self.loss, self.mu, self.gradient = self._current()
        self.grad = float(np.max(np.abs(self.gradient), initial=0.0))
        w = self.weights()
        self.trajectory.append(w)
        gap = float(np.max(np.abs(w - self.target))) if w.size else float("nan")
        self.history.append((self.step, float(self.loss), gap))
        self.timings["reads"] += time.perf_counter() - start
        self.on_log(self.history[-1])

    def run(self, n: int) -> None:
        start = time.perf_counter()
        self._run(n)
        seconds = time.perf_counter() - start
        self.timings.setdefault("first_call", seconds)
        self.timings["steps"] += seconds
        self.read()

    @property
    def finite(self) -> bool:
        return bool(np.isfinite(float(self.loss)) and np.all(np.isfinite(self.trajectory[-1])))

    def set_learning_rate(self, lr: float) -> None:
        self.model.optimizer.learning_rate.assign(lr)


def coefficients_of(model, inputs: Inputs, use_bias: bool, multiclass: bool, estimated: int = 0) -> np.ndarray:
    """The Dense layer's weights as coefficients on the original features (Dataset.terms' order), then
    the parameters learned beside them (alpha = exp of its weight)."""
    weights = [np.asarray(w, dtype=float) for w in model.get_weights()]
    coefficients = inputs.to_original(weights[0], weights[1] if use_bias else None, multiclass)
    if not estimated:
        return coefficients
    return np.concatenate([coefficients, np.exp(np.concatenate(weights[-estimated:]))])


def terms(dataset: Dataset, use_bias: bool, family: Family) -> list[str]:
    """The coefficients' names, then the learned parameters' (model.alpha: estimate adds alpha)."""
    return dataset.terms(use_bias) + list(family.estimated)


def train(
    engine: Engine,
    dataset: Dataset,
    spec: NetworkSpec,
    device: str,
    target: np.ndarray,
    on_log: Observer = lambda row: None,
    on_look: Callable[[Distance], None] = lambda distance: None,
    trainer: "Trainer | None" = None,
) -> NetworkFit:
    """Train the one-layer network, logging loss and distance to `target` every log_every steps;
    each history row (step, loss, max |w - target|) is also handed to `on_log` as it is made.
    `trainer`: a model built and compiled for an earlier run of the same data and model (see prepare),
    reset and trained again instead of built anew: a sweep point then costs its steps only.
    `on_look` is told of each of `auto`'s distance estimates."""
    family, use_bias = spec.family, spec.use_bias
    start = time.perf_counter()
    with engine.placement(device):
        if trainer is None:
            trainer = prepare(engine, spec, dataset, device)
        else:
            reset(trainer, engine, spec)
        model, inputs = trainer.model, trainer.inputs
        weights = lambda: coefficients_of(model, inputs, use_bias, family.multiclass, len(family.estimated))  # noqa: E731
        # the convergence looks' machinery, made only where they are taken: a fixed step count builds none
        curvature = trainer.curvature_of(engine, spec) if spec.train.auto else None
        built = time.perf_counter() - start
        steps = Steps(model, trainer.run, trainer.current, trainer.batches, weights, target, on_log)
        schedule = Schedule(spec.train, spec.stop_rtol, on_look)
        try:
            stopped = schedule.run(steps, lambda: look(curvature, steps, inputs, dataset, family))
        except KeyboardInterrupt:
            stopped = StopReason.INTERRUPTED
            if steps.done() != steps.step:
                steps.read()
        used = engine.used_device(model, device)
    seconds = {"train": time.perf_counter() - start, "build": built}
    fit, distance = reached(engine, spec, dataset, trainer, steps, schedule, stopped, used, seconds)
    judge(fit, spec, steps, distance)
    if stopped == StopReason.INTERRUPTED:
        raise Interrupted(fit)
    return fit


def reached(
    engine: Engine,
    spec: NetworkSpec,
    dataset: Dataset,
    trainer: "Trainer",
    steps: Steps,
    schedule: "Schedule",
    stopped: StopReason,
    device: str,
    seconds: dict[str, float],
) -> tuple[NetworkFit, Distance | None]:
    """The fit training reached (judge fills in whether it diverged or converged), and its distance
    estimate (None where a weight or the loss is not finite). `seconds`: train (all of it) and build."""
    curvature = trainer.curvature_of(engine, spec)
    coefficients = steps.weights()
    distance = curvature.distance(coefficients) if steps.finite else None
    mu = np.asarray(steps.mu, dtype=float)
    fit = NetworkFit(
        coefficients=dict(zip(terms(dataset, spec.use_bias, spec.family), map(float, coefficients))),
        final_loss=steps.history[-1][1],
        epochs_run=steps.step,
        train_seconds=seconds["train"],
        diverged=False,
        max_abs_grad=steps.grad,
        converged=False,
        stopped=stopped,
        distance=distance.relative if distance else float("inf"),
        floor=schedule.floor,
        precondition=trainer.inputs.method,
        learning_rates=list(schedule.learning_rates),
        start_bias=[float(b) for b in trainer.bias] if spec.use_bias else [],
        device=device,
        mu=mu[:, 0] if dataset.n_outputs == 1 else mu,
        curvature=curvature,
        inputs=trainer.inputs,
        timings={"build": seconds["build"], **steps.timings, "looks": schedule.look_seconds},
        history=steps.history,
        trajectory=steps.trajectory,
    )
    return fit, distance


def look(curvature: Curvature | None, steps: Steps, inputs: Inputs, dataset: Dataset, family) -> Distance:
    """The network's own distance estimate at its current weights, with the floor of its arithmetic
    where its gradient is in the curvature's coordinates (whitened inputs, as under `auto`)."""
    assert curvature is not None  # looks are taken under `auto` only
    gradient = None
    if curvature.inputs is inputs:
        # Keras' loss is nll_factor times the mean NLL (sum(w * loss) / rows): back to the summed NLL
        gradient = np.asarray(steps.gradient, dtype=float) * dataset.n_rows / family.nll_factor
        spacing = np.abs(np.spacing(np.concatenate([np.ravel(w) for w in steps.model.get_weights()]))).astype(float)
        return curvature.distance(steps.weights(), gradient, spacing)
    return curvature.distance(steps.weights())


# train.* keys that only steer training (how long, how fast): points that differ in nothing
# else share one built model and its compiled loop (see run/cache.py)
STEERING = ("learning_rate", "epochs", "log_every", "max_steps", "max_seconds", "rtol", "grad_tol")


@dataclass
class Trainer:
    """A built model with its compiled step loop, evaluator and curvature, for the runs that share them
    (the data they were compiled on included: a trainer is for these data only)."""

    model: Any  # a Keras model
    run: Callable[[int], None]
    current: Callable[[], tuple]
    batches: int
    inputs: Inputs
    bias: np.ndarray  # the bias it starts from
    initial: list[np.ndarray]  # the weights as build made them
    dataset: Dataset  # the very data the loop was compiled on
    curvature: Curvature | None = None  # made on first use (see curvature_of)

    def curvature_of(self, engine: Engine, spec: NetworkSpec) -> Curvature:
        """The network's loss in float64, for its looks and standard errors: made once, sharing the
        network's whitened inputs where it has them."""
        if self.curvature is None:
            data = self.dataset
            pen = penalty.of_run(spec.penalty, data, spec.use_bias)
            self.curvature = Curvature(engine, spec.family, data, spec.use_bias, pen, self.inputs)
        return self.curvature


def prepare(engine: Engine, spec: NetworkSpec, dataset: Dataset, device: str) -> Trainer:
    """The model built and its step loop compiled, for `train` to run (and to run again from its start)."""
    bias = start_bias(spec, dataset)
    with engine.placement(device):
        inputs = Inputs.of(dataset.X, spec.precondition, spec.use_bias)
        regularizer = penalized(spec, dataset, inputs)
        # on the network's inputs: kernel_X = M kernel_Z (precondition.py; no shift without a bias)
        inside = starts_inside(spec.family, spec.use_bias)
        kernel = np.linalg.solve(inputs.matrix, start_kernel(spec.family, dataset))[:, None] if inside else None
        model = build(
            engine,
            spec,
            dataset.n_features,
            dataset.n_outputs,
            bias,
            offset=dataset.offset is not None,
            penalty=regularizer,
            kernel=kernel,
        )
        initial = [np.array(w) for w in model.get_weights()]
        run, current, batches = compiled(engine, model, spec, inputs.apply(dataset.X, spec.train.dtype), dataset, regularizer)
    return Trainer(model, run, current, batches, inputs, bias, initial, dataset)


def reset(trainer: Trainer, engine: Engine, spec: NetworkSpec) -> None:
    """The model as build leaves it: its first weights, Adam's moments and step count at zero, the run's learning rate."""
    engine.keras.utils.set_random_seed(spec.seed)
    model = trainer.model
    model.set_weights(trainer.initial)
    for variable in model.optimizer.variables:
        variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
    model.optimizer.learning_rate.assign(spec.train.rate)
    model.reset_metrics()


class Schedule:
    """How long to train and, with `auto`, Adam's learning rate along the way."""

    def __init__(self, train: TrainConfig, stop_rtol: float, on_look: Callable[[Distance], None] = lambda distance: None):
        self.train, self.stop_rtol, self.on_look = train, stop_rtol, on_look
        self.learning_rates: list[tuple[int, float]] = []
        self.floor: float | None = None  # at the last look, where measured
        self.look_seconds = 0.0
        self._last_weights: list[np.ndarray] | None = None

    def _look(self, distance: Callable[[], Distance]) -> Distance:
        start = time.perf_counter()
        d = distance()
        self.look_seconds += time.perf_counter() - start
        self.floor = d.floor or None
        self.on_look(d)
        return d

    def run(self, steps: Steps, distance: Callable[[], Distance]) -> StopReason:
        """Train; return why training stopped."""
        train = self.train
        if not train.auto:
            self.learning_rates.append((0, train.rate))
            while steps.step < train.fixed_steps:
                if train.grad_tol and steps.grad < train.grad_tol:
                    return StopReason.GRAD_TOL
                steps.run(min(train.log_every, train.fixed_steps - steps.step))
                if not steps.finite:
                    return StopReason.DIVERGED
            return StopReason.EPOCHS
        return self._auto(steps, distance)

    def _auto(self, steps: Steps, distance: Callable[[], Distance]) -> StopReason:
        train = self.train
        started = time.perf_counter()
        d = self._look(distance)
        lr = train.learning_rate or (d.weights / CHECK_EVERY if d.weights > 0 else train.KERAS_LEARNING_RATE)
        best, last, since_best, every = d.relative, d.relative, 0, CHECK_EVERY
        while True:
            if d.relative <= self.stop_rtol:
                return StopReason.CONVERGED
            at_floor = d.relative <= FLOOR * d.floor
            stalled = d.relative <= WOBBLE * d.floor and d.relative > 0.9 * last
            if at_floor or stalled or self._frozen(steps):
                return StopReason.FLOOR
            if train.grad_tol and steps.grad < train.grad_tol:
                return StopReason.GRAD_TOL
            if steps.step >= train.max_steps:
                return StopReason.MAX_STEPS
            if time.perf_counter() - started > train.max_seconds:
                return StopReason.MAX_SECONDS
            if since_best >= PATIENCE:
                return StopReason.NO_PROGRESS
            self._set(steps, lr)
            goal = min(steps.step + every, train.max_steps)
            while steps.step < goal:
                steps.run(min(train.log_every, goal - steps.step))
                if not steps.finite:
                    return StopReason.DIVERGED
            d = self._look(distance)
            if d.weights > 10 * lr * every:
                lr *= 2  # far beyond what these steps can cover: longer steps
            elif d.relative > 0.9 * last:
                lr *= 0.5  # the estimate stalled: Adam is circling the optimum, take shorter steps
            best, since_best = (d.relative, 0) if d.relative < 0.9 * best else (best, since_best + 1)
            last = d.relative

    def _frozen(self, steps: Steps) -> bool:
        """Whether the steps since the last look changed no weight at all (see the module's notes)."""
        now, before = steps.model.get_weights(), self._last_weights
        self._last_weights = now
        return before is not None and all(np.array_equal(a, b) for a, b in zip(now, before))

    def _set(self, steps: Steps, lr: float) -> None:
        if not self.learning_rates or self.learning_rates[-1][1] != lr:
            steps.set_learning_rate(lr)
            self.learning_rates.append((steps.step, lr))


def judge(fit: NetworkFit, spec: NetworkSpec, steps: Steps, distance: Distance | None) -> None:
    """Fill in diverged, converged and note from how training ended."""
    train, family = spec.train, spec.family
    start_loss = steps.history[0][1]
    assert fit.distance is not None and fit.final_loss is not None and fit.max_abs_grad is not None  # reached sets them
    pinned = 0
    if np.isfinite(family.eta_min) and distance is not None:
        theta = fit.curvature.theta_at(np.array(list(fit.coefficients.values())))
        pinned = int(np.sum(fit.curvature.eta(theta) <= family.eta_min))
    if fit.stopped == StopReason.DIVERGED or distance is None:
        fit.diverged, fit.note = True, f"diverged: the loss or a weight stopped being finite by step {fit.epochs_run}"
    elif pinned:
        fit.diverged = True
        fit.note = (
            f"diverged: the activation is pinned at its domain guard (η ≤ {family.eta_min:g}) on {pinned} of "
            f"{len(steps.mu)} rows, where its gradient is 0"
        )
    elif fit.final_loss > start_loss + 1e-6 * abs(start_loss):
        fit.diverged = True
        fit.note = f"diverged: the loss rose from {start_loss:.6g} at the start to {fit.final_loss:.6g} at step {fit.epochs_run}"
    fit.converged = bool(
        not fit.diverged and fit.distance <= spec.compare_rtol and not (train.grad_tol and fit.max_abs_grad >= train.grad_tol)
    )
    if fit.stopped == StopReason.INTERRUPTED:
        fit.note = f"interrupted after {fit.epochs_run} steps; the weights are those reached by then"
    elif fit.diverged:
        pass
    elif fit.stopped == StopReason.EPOCHS and train.grad_tol:
        fit.note = f"not converged after {fit.epochs_run} steps; max |grad| = {fit.max_abs_grad:.3g} (train.grad_tol {train.grad_tol:g})"
    elif fit.stopped in (StopReason.MAX_STEPS, StopReason.MAX_SECONDS):
        cap = (
            f"train.max_steps = {train.max_steps}" if fit.stopped == StopReason.MAX_STEPS else f"train.max_seconds = {train.max_seconds:g}"
        )
        fit.note = f"stopped at {cap} after {fit.epochs_run} steps, estimated distance to the optimum {fit.distance:.2g} (relative)"
    elif fit.stopped == StopReason.FLOOR:
        head = f"stopped after {fit.epochs_run} steps at the floor of {train.dtype} arithmetic here, estimated distance to the optimum {fit.distance:.2g} (relative): "
        resolves = (
            f"the {fit.floor:.2g} that the network's own {train.dtype} arithmetic resolves (the Newton step of its "
            "gradient's difference from the float64 one, or a last-place change of its weights, the larger)"
        )
        if fit.floor and fit.distance <= FLOOR * fit.floor:
            fit.note = head + f"within {FLOOR:g} times {resolves}"
        elif fit.floor and fit.distance <= WOBBLE * fit.floor:
            fit.note = head + f"within {WOBBLE:g} times {resolves}, and the last look gained less than a tenth"
        else:
            fit.note = head + f"the last {CHECK_EVERY} steps changed no weight (each update was below a {train.dtype} weight's resolution)"
    elif fit.stopped == StopReason.NO_PROGRESS:
        fit.note = (
            f"stopped after {fit.epochs_run} steps: no progress over the last {PATIENCE} looks; estimated distance "
            f"to the optimum {fit.distance:.2g} (relative), the floor this dtype reaches here"
        )


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during training, carrying what the network had learned by then."""

    def __init__(self, fit: NetworkFit):
        super().__init__()
        self.fit = fit


def full_batch(batch: Literal["full"] | int, n_rows: int) -> bool:
    """Whether train.batch_size takes all the rows in one step."""
    return batch == "full" or batch >= n_rows
