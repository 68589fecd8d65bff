"""The config's schema: one frozen, validated tree of pydantic models, each key with its type, range,
default and description. Unknown keys, wrong types and out-of-range values are errors (messages.py
words them)."""

import difflib
import math
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_serializer, field_validator, model_validator

from nnglm.foundation.errors import UserError, short
from nnglm.vocabulary import families, formats, generators, tolerance, urls
from nnglm.vocabulary.formula import Formula, FormulaError, parse_formula

REQUIRED = generators.REQUIRED
# each synthetic generator with its parameters and their defaults (generators.py owns them)
GENERATORS: dict[str, dict[str, Any]] = {name: generators.parameters(name) for name in generators.GENERATORS}
GENERATOR_PARAMS = sorted({p for params in GENERATORS.values() for p in params})
# the target columns each generator makes; the other columns are its features
GENERATOR_TARGETS = {name: list(cls.targets) for name, cls in generators.GENERATORS.items()}


PositiveFloat = Annotated[float, Field(gt=0)]
# a level of a text or numeric column: data.success, data.reference_class
Label = Annotated[str, Field(min_length=1, max_length=1000)] | int | float
INT32_MAX = 2**31 - 1  # the backends count steps and size layers in 32-bit integers
Count = Annotated[int, Field(ge=1, le=INT32_MAX)]  # steps, iterations, widths
Fraction = Annotated[float, Field(ge=0, lt=1)]


class Section(BaseModel):
    # no key takes an infinite or NaN number (compare.max_abs: .inf would make every run equivalent)
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False, use_attribute_docstrings=True)


class DataSource(Section):
    """The keys every data source shares: the columns, the GLM's options, the held-out rows. Each source
    below adds its own keys, and only those; `data.source` picks it (DataConfig)."""

    source: str  # each source narrows it to its own name
    """synthetic | file (csv is its older name) | statsmodels | dataframe (the Python API's data=): picks which of the keys below apply"""
    target: str | None = None
    """the target column (a generator names its own; required for a file or a statsmodels dataset unless data.formula gives it)"""
    features: list[str] | None = None
    """the feature columns; default: every other column (but trials, weights, offset, exposure)"""
    categorical: list[str] = []
    """columns to dummy-code, first level dropped (R's treatment contrasts), the terms named as R names them (colourred); a text or categorical column among the features is coded so without being listed"""
    formula: Annotated[str, Field(min_length=1, max_length=10_000)] | None = None
    """statsmodels' formula language with R's habits (., cbind, factor, relevel, offset, log, poly, ns, bs), as "y ~ x1 * x2 + factor(g) + log(x3)" or "y ~ . - x"; replaces target, features and categorical; "- 1": no intercept"""
    trials: str | None = None
    """binomial: a column of trials; the target counts successes out of them"""
    weights: str | None = None
    """a column of prior weights, 0 or more (data.weights_kind says which kind)"""
    weights_kind: Literal["freq", "var"] | None = None
    """freq (statsmodels' freq_weights: each row stands for that many identical rows) | var (var_weights: the row's variance is divided by the weight); required with data.weights"""
    offset: str | None = None
    """a column added to the linear predictor, never trained"""
    exposure: str | None = None
    """log link only: a column whose log is added to the offset"""
    missing: Literal["error", "drop"] = "error"
    """error | drop: what to do with rows with a missing value in a used column"""
    success: Label | None = None
    """binomial with a labelled target: the level that counts as 1 (default: the second, as R's factor)"""
    reference_class: Label | None = None
    """multinomial: the class the others are contrasted with (default: the first)"""
    validation_fraction: Annotated[float, Field(ge=0, lt=1)] = 0.0
    """rows held out of every fit, to compare the fits on (a seeded random choice)"""
    folds: Annotated[int, Field(ge=2, le=INT32_MAX)] | None = None
    """K-fold cross-validation of the GLM against the hidden-layer networks (needs model.hidden; not with data.validation_fraction): each row held out once, the folds seeded and stratified by class where the family has classes"""

    # the keys data.formula replaces
    formula_replaces: ClassVar[tuple[str, ...]] = ("target", "features")

    @model_validator(mode="before")
    @classmethod
    def _null_is_left_out(cls, raw: Any) -> Any:
        # a null counts as left out for a key this source requires or does not take (another source's):
        # `--set data.source=csv data.path=d.csv data.dataset=null` switches a statsmodels config to a file
        if not isinstance(raw, dict):
            return raw
        fields = cls.model_fields
        return {k: v for k, v in raw.items() if v is not None or k not in DATA_KEYS or (k in fields and not fields[k].is_required())}

    @field_validator("success", "reference_class", mode="before")
    @classmethod
    def _label_not_bool(cls, value: Any, info: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(
                f"data.{info.field_name}: got {str(value).lower()}: YAML reads yes/no/on/off/true/false as booleans; "
                f'quote the level: data.{info.field_name}: "{"yes" if value else "no"}"'
            )
        return value

    @model_validator(mode="after")
    def _check_columns(self) -> "DataSource":
        self._check_source()
        if self.formula is not None:
            self.parsed_formula()
            for key in self.formula_replaces:
                if getattr(self, key) is not None:
                    raise ValueError(f"data.{key}: not used with data.formula, which names the target and the terms")
            if self.categorical:
                raise ValueError("data.categorical: not used with data.formula; write C(name) in the formula")
            if "~" not in self.formula:
                raise ValueError(f"data.formula: {short(self.formula)} has no '~'; write it as target ~ terms, e.g. y ~ x1 + C(g)")
        if self.weights_kind is not None and self.weights is None:
            raise ValueError("data.weights_kind: set data.weights (the column) too")
        if self.weights is not None and self.weights_kind is None and self._proportion_target():
            object.__setattr__(self, "weights_kind", "var")  # R's weights of a proportion (Menarche/Total) are its trials
        if self.weights is not None and self.weights_kind is None:
            raise ValueError(
                "data.weights_kind: required with data.weights: freq (each row stands for that many identical rows) "
                "or var (the row's variance is divided by the weight)"
            )
        return self

    def _check_source(self) -> None:
        """The source's own rules, before the ones every source shares."""
        if self.formula is None and self.target is None:
            raise ValueError(f"data.target: required when data.source is {self.source} (the target column)")

    def _proportion_target(self) -> bool:
        """The formula's target is a ratio, R's way to write a proportion (Menarche/Total ~ Age)."""
        import ast

        parsed = self.parsed_formula()
        if parsed is None:
            return False
        try:
            node = ast.parse(parsed.target, mode="eval").body
        except SyntaxError:
            return False
        return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)

    def parsed_formula(self) -> Formula | None:
        """data.formula checked and mapped (formula.py): nothing in it is ever run unchecked."""
        if self.formula is None:
            return None
        try:
            return parse_formula(self.formula)
        except FormulaError as e:
            raise ValueError(str(e)) from None

    def target_columns(self) -> list[str]:
        """The columns left out of the default features as targets: the target."""
        return [str(self.target)]

    def check_family(self, family: families.Family) -> None:
        """Raises where the family cannot fit what the source gives; a file's columns are checked once read."""

    def describe(self) -> str:
        """Where the data come from, as messages name it."""
        raise NotImplementedError


class FileData(DataSource):
    """A data file, its path relative to the working directory, read as data.format says (files/), or a
    database at an SQLAlchemy URL; `source: csv` is the older name of the same source."""

    source: Literal["file", "csv"] = "file"
    """file, or csv (its older name)"""
    path: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    """the data file (or a folder of partitioned Parquet files), relative to the working directory; required unless data.url is given"""
    format: Literal[formats.FORMATS] | None = None  # type: ignore[valid-type]
    """csv | tsv | jsonl | json | parquet | feather | excel | ods | stata | spss | xpt | sas7bdat | rds | rdata | sqlite; null: from the extension (.gz .bz2 .xz .zip after .csv/.tsv/.json/.jsonl: compressed); a folder: partitioned Parquet"""
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] | None = None
    """csv/tsv: one character; null: sniffed among , tab ; |"""
    sheet: Annotated[str, Field(min_length=1)] | Annotated[int, Field(ge=0)] | None = None
    """excel, ods: a sheet's name, or its number from 0; null: the first"""
    object: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    """rdata: the object of an .RData file to read (required when it holds several)"""
    table: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    """sqlite or data.url: the table (or view) to read"""
    query: Annotated[str, Field(min_length=1, max_length=100_000)] | None = None
    """sqlite or data.url: one SELECT to read instead of a table; anything that writes is refused before it reaches the database"""
    url: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    """a database's SQLAlchemy URL instead of data.path, with data.table or data.query (a password in it is used, never written)"""

    def _check_source(self) -> None:
        super()._check_source()
        if self.url is not None:
            self._check_url()
            return
        if self.path is None:
            raise ValueError("data.path: required when data.source is file (or data.url: a database's SQLAlchemy URL)")
        if "\x00" in self.path:
            raise ValueError("data.path: holds a NUL byte, which no file name can")
        if self.delimiter is not None and self.delimiter in "\"'\r\n":
            raise ValueError(f"data.delimiter: {self.delimiter!r} cannot delimit columns; one character such as ',', ';', '|' or a tab")
        try:
            fmt, _ = formats.format_of(self.path, self.format)
        except UserError as e:
            raise ValueError(str(e)) from None
        if self.sheet is not None and fmt not in ("excel", "ods"):
            raise ValueError(f"data.sheet: for spreadsheets (excel, ods) only; {self.path} is read as {fmt}")
        if self.delimiter is not None and fmt not in formats.DELIMITED:
            raise ValueError(f"data.delimiter: for delimited text (csv, tsv) only; {self.path} is read as {fmt}")
        if self.object is not None and fmt != "rdata":
            raise ValueError(f"data.object: for R's .RData files only; {self.path} is read as {fmt}")
        for key in ("table", "query"):
            if getattr(self, key) is not None and fmt != "sqlite":
                raise ValueError(f"data.{key}: for databases only (an SQLite file, or data.url); {self.path} is read as {fmt}")
        self._check_table()

    def _check_url(self) -> None:

        if self.path is not None:
            raise ValueError("data.url: not with data.path; give one, a file's path or a database's URL")
        for key in ("format", "delimiter", "sheet", "object"):
            if getattr(self, key) is not None:
                raise ValueError(f"data.{key}: not with data.url, a database (data.table or data.query says what to read)")
        try:
            urls.parse_url(self.url or "")
        except UserError as e:
            raise ValueError(str(e)) from None
        self._check_table()

    def _check_table(self) -> None:

        if self.table is not None and self.query is not None:
            raise ValueError("data.query: not with data.table; give one, a table's name or one SELECT")
        if self.query is not None:
            try:
                urls.check_query(self.query)
            except UserError as e:
                raise ValueError(str(e)) from None

    @field_serializer("url")
    def _url_without_password(self, url: str | None) -> str | None:

        return None if url is None else urls.without_password(url)

    def describe(self) -> str:

        return urls.shown(self.url) if self.url is not None else str(self.path)


CsvData = FileData  # the source's older name


class StatsmodelsData(DataSource):
    """One of the datasets statsmodels ships, by its module name (spector, star98, ...)."""

    source: Literal["statsmodels"] = "statsmodels"
    """statsmodels"""
    dataset: str
    """a dataset that ships with statsmodels, by its module name (spector, star98, ...)"""

    def describe(self) -> str:
        return f"statsmodels dataset '{self.dataset}'"


class SyntheticData(DataSource):
    """A table drawn by a generator (generators.py), its parameters beside it (data.n_rows, ...)."""

    source: Literal["synthetic"] = "synthetic"
    """synthetic"""
    generator: Literal["gaussian_bernoulli", "balloons", "four_points", "glm", "softmax"]
    """the generator that draws the table; its parameters (below, and in the generator table) sit beside it in data"""
    n_rows: Annotated[int, Field(ge=1)] | None = None
    """generator parameter: the rows drawn"""
    n_features: Annotated[int, Field(ge=1)] | None = None
    """generator parameter: the feature columns drawn"""
    feature_mean: float | None = None
    """generator parameter: the features' mean"""
    feature_sd: PositiveFloat | None = None
    """generator parameter: the features' standard deviation"""
    p: Annotated[float, Field(gt=0, lt=1)] | None = None
    """generator parameter (gaussian_bernoulli): the probability of a 1"""
    coefficients: list[float] | None = None
    """generator parameter (glm): one coefficient per feature"""
    intercept: float | None = None
    """generator parameter (glm): the intercept"""
    scale: PositiveFloat | None = None
    """generator parameter (glm): the family's dispersion (Gaussian variance, Gamma 1/shape)"""
    n_classes: Annotated[int, Field(ge=2)] | None = None
    """generator parameter (softmax): the classes"""
    coef_sd: PositiveFloat | None = None
    """generator parameter (softmax): the standard deviation of the multinomial logit's coefficients"""

    # a generator's own target may be named beside a formula
    formula_replaces: ClassVar[tuple[str, ...]] = ("features",)

    @model_validator(mode="before")
    @classmethod
    def _fill_generator(cls, raw: Any) -> Any:
        """The generator's parameters checked and its defaults filled in; its target, where it makes one."""
        name = raw.get("generator") if isinstance(raw, dict) else None
        if not isinstance(name, str) or name not in GENERATORS:
            return raw  # the field check reports a missing or unknown generator
        if raw.get("categorical"):
            raise ValueError("data.categorical: not used when data.source is synthetic")
        params = GENERATORS[name]
        for p in GENERATOR_PARAMS:
            if raw.get(p) is not None and p not in params:
                raise ValueError(f"data.{p}: not a parameter of generator '{name}' (its parameters: {', '.join(params) or 'none'})")
        raw = dict(raw)
        for p, default in params.items():
            if raw.get(p) is None:
                if default is REQUIRED:
                    raise ValueError(f"data.{p}: required by generator '{name}'")
                raw[p] = default
        targets = GENERATOR_TARGETS[name]
        if raw.get("formula") is None and raw.get("target") is None and len(targets) == 1:
            raw["target"] = targets[0]
        return raw

    def _check_source(self) -> None:
        targets = self.target_columns()
        if self.formula is None and self.target is None:
            raise ValueError(f"data.target: required for generator '{self.generator}'; one of {', '.join(targets)}")
        if self.formula is None and self.target not in targets:
            raise ValueError(f"data.target: generator '{self.generator}' makes the target {' or '.join(targets)}, not {self.target!r}")
        if self.coefficients is not None and len(self.coefficients) != self.n_features:
            raise ValueError(
                f"data.coefficients: {len(self.coefficients)} values given, but data.n_features is {self.n_features} "
                "(one coefficient per feature)"
            )

    def target_columns(self) -> list[str]:
        """The columns the generator makes as targets; the others are its features."""
        return GENERATOR_TARGETS[self.generator]

    def check_family(self, family: families.Family) -> None:
        if self.generator == "glm" and family.multiclass:
            raise ValueError("data.generator: glm draws one mean per row; for model.family multinomial use generator softmax")
        if self.generator == "softmax" and not family.multiclass and not family.takes_trials:
            raise ValueError(f"data.generator: softmax draws class labels, which model.family {family.family} cannot fit")

    def describe(self) -> str:
        return f"generator '{self.generator}'"

    def generator_params(self) -> dict[str, Any]:
        return {p: getattr(self, p) for p in GENERATORS[self.generator]}

    def generator_spec(self) -> generators.Generator:
        """The synthetic source, as the generator that draws it."""
        return generators.of(self.generator, self.generator_params())


class DataFrameData(DataSource):
    """A pandas DataFrame given to the Python API: nnglm.run(config, data=df). The run records the
    frame's content hash (sha256) and keeps a Parquet copy in its folder (path, relative to the working
    directory as a CSV's path is), which a rerun of the folder's config.yaml reads instead."""

    source: Literal["dataframe"] = "dataframe"
    """dataframe: nnglm.run(config, data=df), where it may be left out"""
    path: str | None = None
    """filled in by the run in its folder's config.yaml: the frame's Parquet copy (data.parquet), which a rerun reads"""
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    """filled in by the run: the frame's content hash; a copy whose hash differs is refused"""
    # the frame given to nnglm.run, handed down with the config that names it (frames.hand): no key,
    # never written, dumped or hashed; a frames.Given, which compares by identity, not by value
    _given: Any = PrivateAttr(default=None)

    def describe(self) -> str:
        return "the DataFrame"


# the data section: one model per source, picked by data.source
DataConfig = Annotated[SyntheticData | FileData | StatsmodelsData | DataFrameData, Field(discriminator="source")]
SOURCES: dict[str, type[DataSource]] = {
    name: cls
    for cls in (SyntheticData, FileData, StatsmodelsData, DataFrameData)
    for name in get_args(cls.model_fields["source"].annotation)
}
DATA_KEYS = {key for cls in SOURCES.values() for key in cls.model_fields}  # every key some source takes


class Penalty(Section):
    """statsmodels' fit_regularized(method="elastic_net", alpha, L1_wt): the mean negative
    log-likelihood at scale 1 plus alpha * ((1 - l1_wt) / 2 * |b|^2 + l1_wt * |b|_1), intercept free."""

    alpha: Annotated[float, Field(ge=0)]
    """the penalty's weight A (0 or more)"""
    l1_wt: Annotated[float, Field(ge=0, le=1)] = 0.0
    """the L1 share W, 0 (ridge) to 1 (lasso)"""


class ModelConfig(Section):
    family: str = families.DEFAULT_FAMILY
    """gaussian | binomial | poisson | gamma | inverse_gaussian | negative_binomial | tweedie | quasipoisson | quasibinomial | quasi | multinomial (see Families and links), or as R writes it: binomial(link = "probit"), Gamma(link = "log"), quasi(link = "log", variance = "mu")"""
    link: str | None = None
    """one of the family's links; default: its first (see Families and links); another of statsmodels' links is fitted with check_link=False, its warning recorded"""
    use_bias: bool = True
    """bias = intercept"""
    kernel_initializer: Literal["zeros", "ones", "glorot_uniform", "glorot_normal", "random_normal"] = "zeros"
    """the kernel's start"""
    activation: str | None = None
    """optional: the family's link decides it; if given it must be the family's (sigmoid for binomial/logit, ...)"""
    hidden: list[Count] = []
    """widths of a second network with hidden layers, judged on held-out rows (needs data.validation_fraction or data.folds)"""
    hidden_activation: Literal["relu", "tanh", "sigmoid", "elu", "gelu", "softplus", "swish"] = "relu"
    """the hidden layers' activation"""
    # the defaults are left out of the config's dump (config.yaml, result.json's config): a run that does not
    # use them reads as before
    hidden_start: Literal["scratch", "glm"] = Field(default="scratch", exclude_if=lambda v: v == "scratch")
    """scratch: the network with hidden layers starts from Keras' initializers; glm: at the GLM's fit (the Combined Actuarial Neural Network: the GLM's linear predictor a skip connection, the hidden part's last layer at zero, so step 0 predicts the GLM's means; needs model.hidden)"""
    hidden_skip: Literal["trained", "fixed"] = Field(default="trained", exclude_if=lambda v: v == "trained")
    """with hidden_start: glm, the skip connection trained with the rest, or fixed at the GLM's coefficients"""
    alpha: Annotated[float, Field(gt=0)] | Literal["estimate"] | None = None
    """negative_binomial: Var = mu + alpha mu^2, fixed (a number > 0, default 1), or estimate: learned beside the coefficients (NB2 by maximum likelihood, as MASS::glm.nb)"""
    var_power: float | None = None
    """tweedie: Var = scale mu^p, p = 0 or p >= 1 (default 1.5)"""
    variance: Literal["constant", "mu(1-mu)", "mu", "mu^2", "mu^3"] | None = None
    """quasi: R's variance function, one statsmodels has a family for (default constant, as R's quasi())"""
    link_power: float | None = None
    """link: power: the exponent q of η = μ^q (statsmodels' Power(q), R's link.power); for tweedie the default is R's statmod::tweedie default, 1 - var_power"""
    penalty: Penalty | None = None
    """{alpha: A, l1_wt: W}: elastic net on every coefficient but the intercept, statsmodels' fit_regularized(method="elastic_net")"""

    @model_validator(mode="before")
    @classmethod
    def _check_family(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        raw = _from_r(dict(raw))
        family = raw.get("family", families.DEFAULT_FAMILY)
        if family not in families.family_names():
            close = difflib.get_close_matches(str(family), families.family_names(), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(
                f"model.family: unknown family {family!r}{hint}; allowed: {', '.join(families.family_names())}, "
                f"or as R writes it, e.g. {families.R_EXAMPLE}"
            )
        variance = _check_variance(raw, family)
        if raw.get("link") is None:
            raw["link"] = families.default_link(family, variance)
        elif not families.accepts(family, raw["link"], variance):  # statsmodels is asked only for the message
            links, others = families.links_of(family, variance), families.unlisted_links(family, variance)
            more = f" (and, with statsmodels' check_link=False and a recorded warning: {', '.join(others)})" if others else ""
            raise ValueError(f"model.link: {raw['link']!r} is not a link of family {family}; allowed: {', '.join(links)}{more}")
        for param in (p.name for p in families.PARAMETERS):
            if raw.get(param) is not None and families.DISTRIBUTIONS[family].parameter(param) is None:
                takes = [f for f, d in families.DISTRIBUTIONS.items() if d.parameter(param) is not None]
                raise ValueError(f"model.{param}: only for model.family {' or '.join(takes)}, not {family}")
        power = raw.get("var_power")
        if isinstance(power, (int, float)) and not isinstance(power, bool) and not families.VAR_POWER.ok(power):
            raise ValueError(f"model.var_power: {power!r} is not {families.VAR_POWER.rule}")
        if raw.get("penalty") is not None and families.DISTRIBUTIONS[family].multiclass:
            raise ValueError(f"model.penalty: not for model.family {family} (statsmodels' MNLogit has no elastic net to compare with)")
        _check_link_power(raw, family)
        row = families.lookup(family, raw["link"], link_power=raw.get("link_power"), variance=variance)
        activation = raw.get("activation")
        if activation is not None and activation != row.activation_name:
            raise ValueError(
                f"model.activation: {activation!r} contradicts model.family {family} with link {raw['link']}, "
                f"whose inverse link is the activation {row.activation_name!r}; leave model.activation out or set it to that"
            )
        return raw


def _from_r(raw: dict) -> dict:
    """model.family as R writes it (families.from_r) as nnglm's keys; a key also given must say the same."""
    text = raw.get("family")
    if not isinstance(text, str) or text in families.family_names():
        return raw
    parsed = families.from_r(text)
    if parsed is None:
        return raw
    for key, value in parsed.items():
        if key != "family" and raw.get(key) is not None and raw[key] != value:
            raise ValueError(f"model.{key}: {short(raw[key])} contradicts model.family: {text} ({key} {value!r}); give one of them")
    return raw | parsed


def _check_variance(raw: dict, family: str) -> str | None:
    variance = raw.get("variance")
    if variance is not None and family != "quasi":
        raise ValueError(f"model.variance: only for model.family quasi (R's quasi(link, variance)), not {family}")
    if variance is not None and variance not in families.QUASI_VARIANCES:
        raise ValueError(f"model.variance: {short(variance)} is not one of {', '.join(families.QUASI_VARIANCES)} (R's quasi variances)")
    return variance


def _check_link_power(raw: dict, family: str) -> None:
    """model.link_power: only with link: power, a finite exponent other than 0, required where no default is."""
    given = raw.get("link_power")
    if given is not None and raw["link"] != "power":
        raise ValueError("model.link_power: only with model.link: power (η = μ^link_power)")
    if raw["link"] != "power":
        return
    if isinstance(given, (int, float)) and not isinstance(given, bool) and (given == 0 or not math.isfinite(given)):
        raise ValueError(f"model.link_power: {given!r}: the exponent of η = μ^p is a finite number other than 0 (0 is model.link: log)")
    if given is None and family != "tweedie":
        raise ValueError("model.link_power: required with model.link: power (η = μ^link_power), e.g. 0.5")
    var_power = raw.get("var_power")
    if given is None and isinstance(var_power, (int, float)) and 1 - var_power == 0:
        raise ValueError("model.link_power: required here: its default, 1 - var_power, is 0 (that is model.link: log)")


class TrainConfig(Section):
    KERAS_LEARNING_RATE: ClassVar[float] = 0.001  # Adam's default in Keras

    learning_rate: PositiveFloat | None = None
    """Adam's; null: 0.001 (Keras' default) with fixed epochs, chosen from the data with epochs: auto (its starting rate)"""
    beta_1: Fraction = 0.9
    """Adam's (Keras' default)"""
    beta_2: Fraction = 0.999
    """Adam's (Keras' default)"""
    epsilon: PositiveFloat = 1e-7
    """Adam's (Keras' default)"""
    epochs: Literal["auto"] | Count = "auto"
    """auto: train until converged; or a fixed number of full-batch steps (passes over the data with an integer batch_size)"""
    batch_size: Literal["full"] | Count = "full"
    """full | an integer (falls back to Keras' fit; needs integer epochs)"""
    dtype: Literal["float32", "float64"] = "float32"
    """the network's float type"""
    log_every: Count = 10
    """history.csv gets a row every this many steps"""
    device: Literal["auto", "cpu", "gpu"] = "auto"
    """auto | cpu | gpu (gpu is an error where the backend sees none)"""
    backend: Literal["tensorflow", "jax", "torch"] = "tensorflow"
    """the Keras backend"""
    standardize: bool = False
    """train on standardized features, report weights on the original scale (precondition: standardize)"""
    precondition: Literal["none", "standardize", "whiten"] | None = None
    """none | standardize | whiten; null: whiten with epochs: auto, else as train.standardize says"""
    grad_tol: PositiveFloat | None = None
    """also stop once the largest absolute gradient is below this"""
    rtol: PositiveFloat | None = None
    """epochs: auto stops once the network's own estimate of its distance to its optimum is below this, relative to each coefficient's size or standard error; null: compare.rtol / 100"""
    max_steps: Count = 200_000
    """epochs: auto gives up here ..."""
    max_seconds: PositiveFloat = 300.0
    """... or after this long, whichever comes first"""

    @property
    def rate(self) -> float:
        """Adam's learning rate as given, or Keras' default where none is."""
        return self.learning_rate or self.KERAS_LEARNING_RATE

    @field_validator("epochs", mode="before")
    @classmethod
    def _check_epochs(cls, value: Any) -> Any:
        if value == "auto" or (type(value) is int and 1 <= value <= INT32_MAX):
            return value
        raise ValueError(
            f"train.epochs: 'auto' (train until converged) or a whole number of steps, 1 to {INT32_MAX:,} (got {short(value)})"
        )

    @model_validator(mode="after")
    def _check_modes(self) -> "TrainConfig":
        if self.standardize and self.precondition not in (None, "standardize"):
            raise ValueError(
                f"train.standardize: true contradicts train.precondition: {self.precondition}; "
                "set one of them (train.precondition: none | standardize | whiten)"
            )
        if self.auto and self.batch_size != "full":
            raise ValueError(
                "train.epochs: auto trains full-batch until converged; with an integer train.batch_size, "
                "set an integer train.epochs (passes over the data)"
            )
        return self

    @property
    def auto(self) -> bool:
        return self.epochs == "auto"

    @property
    def inputs(self) -> str:
        """How the network's inputs are preconditioned (see precondition.py)."""
        if self.precondition:
            return self.precondition
        return "whiten" if self.auto else ("standardize" if self.standardize else "none")

    @property
    def fixed_steps(self) -> int:
        """The step count of a run that does not train until converged (epochs is a number)."""
        if self.epochs == "auto":
            raise ValueError("train.epochs is auto: there is no fixed step count")
        return self.epochs

    @property
    def step_cap(self) -> int:
        return self.max_steps if self.epochs == "auto" else self.epochs


class GlmConfig(Section):
    maxiter: Count = 100
    """statsmodels' iterations at most"""
    tol: PositiveFloat = 1e-10
    """on the change in the coefficients (statsmodels' tol_criterion="params")"""


class CompareConfig(Section):
    rtol: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    """the verdict: every |weight - coefficient| within rtol of max(|coefficient|, its GLM standard error); null: 1e-6 in float64, 1e-4 in float32, 1e-3 under an L1 penalty"""
    max_abs: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    """set it to judge absolute differences instead: every |weight - coefficient| within max_abs"""
    reference: bool | None = None
    """also run Adam from scratch in NumPy (full batch, zero start only); null: yes, except for a float32 run of more than 10 million design cells (rows x design columns, train/reference.REFERENCE_CELLS), where its float64 steps cost more than the network's training"""


COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")
SCALES = ("family", "X2", "dev")


class InferenceConfig(Section):
    """Which standard errors both fits report, in statsmodels' words (GLM.fit's cov_type, cov_kwds and scale):
    each fit computes them from its own estimates (inference.py for the network)."""

    cov_type: Literal["nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster"] = "nonrobust"
    """statsmodels' cov_type: which standard errors both fits report (see Standard errors)"""
    groups: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    """cluster: the column naming each row's cluster (labels or numbers)"""
    information: Literal["observed", "expected"] = "observed"
    """the network's information matrix: observed (its Hessian) | expected (its family's Fisher information, as IRLS)"""
    scale: Literal["family", "X2", "dev"] | Annotated[float, Field(gt=0)] = "family"
    """nonrobust's dispersion: family (1, or Pearson chi^2 / df where the family has a scale) | X2 (Pearson chi^2 / df) | dev (deviance / df) | a number greater than 0"""
    use_t: Literal["auto"] | bool = "auto"
    """p-values and intervals from t on the residual df or from z (statsmodels' use_t): auto is R's summary.glm, t where the dispersion is estimated (gaussian, gamma, inverse Gaussian, Tweedie, the quasi families, scale X2 or dev) with model-based errors, else z; true: t; false: z"""

    @field_validator("cov_type", mode="before")
    @classmethod
    def _check_cov_type(cls, value: Any) -> Any:
        if value not in COV_TYPES or isinstance(value, bool):
            raise ValueError(f"inference.cov_type: {short(value)} is not one of {', '.join(COV_TYPES)} (statsmodels' cov_type)")
        return value

    @field_validator("use_t", mode="before")
    @classmethod
    def _check_use_t(cls, value: Any) -> Any:
        if value == "auto" or isinstance(value, bool):
            return value
        raise ValueError(
            f"inference.use_t: {short(value)} is not auto (t where the dispersion is estimated, as R's summary.glm), "
            "true (t tests on the residual df) or false (z tests)"
        )

    @field_validator("scale", mode="before")
    @classmethod
    def _check_scale(cls, value: Any) -> Any:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if value in SCALES or (number and 0 < value < float("inf")):
            return float(value) if number else value
        raise ValueError(
            f"inference.scale: {short(value)} is not family (the family's rule), X2 (Pearson chi^2 / df), "
            "dev (deviance / df) or a number greater than 0 (a fixed dispersion)"
        )

    @model_validator(mode="after")
    def _check_groups(self) -> "InferenceConfig":
        if self.cov_type == "cluster" and self.groups is None:
            raise ValueError("inference.groups: required with inference.cov_type: cluster (the column that names each row's cluster)")
        if self.cov_type != "cluster" and self.groups is not None:
            raise ValueError(f"inference.groups: only with inference.cov_type: cluster, not {self.cov_type}")
        return self

    @property
    def default(self) -> bool:
        """Today's errors: the network's Hessian, the GLM's IRLS, the family's scale (whichever test reads them)."""
        return self.model_copy(update={"use_t": "auto"}) == InferenceConfig()

    def describe(self) -> str:
        """The errors in a few words, as the summary and `nnglm compare` name them."""
        kind = {"nonrobust": "model-based", "cluster": f"cluster-robust by {self.groups}"}.get(self.cov_type, f"robust {self.cov_type}")
        scale = "" if self.cov_type != "nonrobust" or self.scale == "family" else f", scale {self.scale}"
        return f"{kind}, {self.information} information{scale}"


class Config(Section):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)]
    """required; the run folder's name (letters, digits, _ . -; at most 100 characters)"""
    description: str = ""
    """free text, kept with the run"""
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0  # NumPy's and TensorFlow's seeds are 32-bit
    """data generation and Keras' initializers"""
    data: DataConfig
    """where the data come from and which columns play which part"""
    model: ModelConfig = ModelConfig()
    """the family, its link and the network's layer"""
    train: TrainConfig = TrainConfig()
    """how the network is trained"""
    glm: GlmConfig = GlmConfig()
    """statsmodels' fit"""
    compare: CompareConfig = CompareConfig()
    """the verdict"""
    inference: InferenceConfig = InferenceConfig()
    """which standard errors both fits report"""

    @model_validator(mode="after")
    def _check_data_fits_model(self) -> "Config":
        self.data.check_family(self.family)
        self._check_folds()
        if self.model.hidden and self.data.validation_fraction == 0 and self.data.folds is None:
            raise ValueError(
                "model.hidden: a hidden-layer network is compared with the GLM on held-out rows; set data.validation_fraction (e.g. 0.2)"
            )
        self._check_hidden_start()
        self._check_glm_options()
        self._check_inference()
        self._check_tweedie_sample()
        self._check_estimated()
        return self

    def _check_hidden_start(self) -> None:
        model = self.model
        if model.hidden_start == "glm" and not model.hidden:
            raise ValueError("model.hidden_start: glm starts the network with hidden layers at the GLM; set model.hidden (e.g. [16])")
        if model.hidden_skip == "fixed" and model.hidden_start != "glm" and self.data.folds is None:  # folds train both
            raise ValueError(
                "model.hidden_skip: fixed holds the skip connection of the network started at the GLM; set model.hidden_start: glm (or data.folds, which trains it beside the network from scratch)"
            )

    def _check_folds(self) -> None:
        if self.data.folds is None:
            return
        if not self.model.hidden:
            raise ValueError("data.folds: cross-validates the GLM against hidden-layer networks; set model.hidden too (e.g. [16])")
        if self.data.validation_fraction:
            raise ValueError(
                "data.folds: not with data.validation_fraction; each fold holds its own rows out (leave data.validation_fraction at 0)"
            )

    def _check_estimated(self) -> None:
        """model.alpha: estimate is fitted by statsmodels' NegativeBinomial count model (NB2, maximum
        likelihood): what it cannot fit, or what nnglm does not learn alpha for, is refused here."""
        if not self.family.estimated:
            return
        why = "model.alpha: estimate is fitted by statsmodels' NegativeBinomial count model (NB2)"
        data = self.data
        if self.family.link != "log":
            raise ValueError(f"{why}, whose link is log only, not {self.family.link}; fix model.alpha for another link")
        if data.weights is not None:
            raise ValueError(f"{why}, which takes no weights; leave data.weights out or fix model.alpha")
        if self.model.penalty is not None:
            raise ValueError(f"{why}; nnglm compares no penalized fit of it: leave model.penalty out or fix model.alpha")
        if self.model.hidden or data.validation_fraction:
            key = "model.hidden" if self.model.hidden else "data.validation_fraction"
            raise ValueError(f"{key}: not with model.alpha: estimate (held-out losses are scored at a fixed alpha only)")
        if not self.inference.default:
            raise ValueError(
                "inference: only the default errors with model.alpha: estimate (the observed information over the coefficients and log alpha)"
            )

    def _check_tweedie_sample(self) -> None:
        family = self.family
        if family.family != "tweedie" or not isinstance(self.data, SyntheticData) or self.data.generator != "glm":
            return
        if not families.tweedie_drawn(family.param("var_power")):
            raise ValueError(
                f"model.var_power: generator glm draws Tweedie samples at p = {families.DRAWN_POWERS}, not {family.param('var_power'):g}; "
                "fit that power on a data file"
            )

    def _check_inference(self) -> None:
        if self.inference.default:
            return
        if self.family.multiclass:
            raise ValueError(f"inference: only the default errors for model.family {self.family.family} (MNLogit's)")
        if self.model.penalty is not None:
            raise ValueError("inference: only the default errors with model.penalty (the penalized fit's own)")
        if isinstance(self.data, SyntheticData) and self.inference.groups is not None:
            raise ValueError("inference.groups: names a column of a data file or statsmodels dataset; a generator makes none")

    def _check_glm_options(self) -> None:
        family, data = self.family, self.data
        if family.multiclass:
            for key in ("trials", "weights", "offset", "exposure"):
                if getattr(data, key) is not None:
                    hint = "; for frequency weights, repeat each row that many times" if key == "weights" else ""
                    raise ValueError(f"data.{key}: not for model.family {family.family} (statsmodels' MNLogit takes none){hint}")
        if data.trials is not None and not family.takes_trials:
            raise ValueError(f"data.trials: for model.family binomial only (successes out of trials), not {family.family}")
        if data.success is not None and not family.takes_trials:
            raise ValueError(f"data.success: for model.family binomial only (the level that counts as success), not {family.family}")
        if data.success is not None and data.trials is not None:
            raise ValueError("data.success: not with data.trials, where the target counts the successes")
        if data.reference_class is not None and not family.multiclass:
            raise ValueError(f"data.reference_class: for model.family multinomial only, not {family.family}")
        parsed = data.parsed_formula()
        if parsed is not None and parsed.failures is not None:
            if not family.takes_trials:
                raise ValueError(f"data.formula: cbind(successes, failures) is for model.family binomial, not {family.family}")
            if data.trials is not None or data.success is not None:
                key = "trials" if data.trials is not None else "success"
                raise ValueError(f"data.{key}: not with cbind(successes, failures) in data.formula, which gives the trials")
        if parsed is not None and parsed.offsets and family.multiclass:
            raise ValueError(f"data.formula: offset() is not for model.family {family.family} (statsmodels' MNLogit takes none)")
        if data.exposure is not None and family.link != "log":
            raise ValueError(
                f"data.exposure: needs model.link log (the offset is log exposure), not {family.link}; give data.offset instead"
            )

    @property
    def lasso(self) -> bool:
        """model.penalty has an L1 part: the loss has kinks at zero."""
        penalty = self.model.penalty
        return penalty is not None and penalty.alpha * penalty.l1_wt > 0

    @property
    def compare_rtol(self) -> float:
        """The verdict's relative tolerance: compare.rtol, or its default for the dtype and penalty (tolerance.py)."""
        return self.compare.rtol or tolerance.verdict_rtol(self.train.dtype, self.lasso)

    @property
    def stop_rtol(self) -> float:
        """Where `epochs: auto` stops: train.rtol, or its default from the verdict's tolerance (tolerance.py)."""
        return self.train.rtol or tolerance.stop_rtol(self.compare_rtol)

    @property
    def precondition(self) -> str:
        """The network's inputs (precondition.py): train.inputs, except that under an L1 penalty `auto`
        standardizes instead of whitening, so that each weight's kink at zero stays on its own axis."""
        if self.train.precondition is None and self.train.auto and self.lasso:
            return "standardize"
        return self.train.inputs

    @property
    def use_t(self) -> bool:
        """t tests on the residual df (inference.use_t; auto: R's summary.glm, t where the dispersion is estimated and
        the errors are model-based; a sandwich's dispersion cancels, and lmtest's coeftest tests a glm's with z)."""
        chosen = self.inference.use_t
        if isinstance(chosen, bool):
            return chosen
        return self.inference.cov_type == "nonrobust" and self.family.estimates_dispersion(self.inference.scale)

    @property
    def family(self) -> families.Family:
        model = self.model
        return families.lookup(
            model.family, model.link, link_power=model.link_power, variance=model.variance, alpha=model.alpha, var_power=model.var_power
        )

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)
