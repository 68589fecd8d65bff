"""A config read from a run folder: untrusted, since run folders are made to be shared.

A received config.yaml may name any file of the machine as its data (`data.path: /proc/self/environ`)
or a database to connect to; a command that reads the folder would then read that file and quote
it back. So a run folder's config reads its data only from inside its folder, unless the user names
the data on the command line (`--set data.path=FILE`): the path as written when it lies inside the
folder, else the file of that name in the folder (a kept copy, data.parquet, is found wherever the
folder was moved to). Sources that read no file (a generator, a statsmodels dataset) are left as they are.
"""

from collections.abc import Sequence
from pathlib import Path

from nnglm.config.schema import Config
from nnglm.foundation import safe
from nnglm.foundation.errors import UserError, clip

# keys that, named on the command line, make the data the user's own choice
USER_NAMED = ("data.path", "data.url", "data.source")


def named_by_user(overrides: Sequence[str]) -> bool:
    return any(item.partition("=")[0].strip() in USER_NAMED for item in overrides)


def confine(config: Config, folder: Path) -> Config:
    """config with its data read from inside `folder`, or a UserError saying why it cannot be."""
    data = config.data
    url = getattr(data, "url", None)
    if url:
        raise UserError(
            f"{clip(str(folder), 200)}: its config reads data.url, a database; a run folder's config reads data only "
            "from inside its folder: name the data on the command line (--set data.url=URL)"
        )
    path = getattr(data, "path", None)
    if not path:
        return config
    try:
        inside = safe.inside(path, folder)
    except safe.Refused as e:
        raise UserError(
            f"{clip(str(folder), 200)}: its config's data.path {clip(path, 200)!r} is {e.what} in the run folder, not a plain file"
        ) from None
    if inside is None:
        raise UserError(
            f"{clip(str(folder), 200)}: its config's data.path {clip(path, 200)!r} lies outside the run folder; a run "
            "folder's config reads data only from inside its folder: name the data on the command line (--set data.path=FILE)"
        )
    return config.model_copy(update={"data": data.model_copy(update={"path": str(inside)})})
