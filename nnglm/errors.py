"""The one error type a user can cause: bad config, bad data or bad arguments.

The command line prints its message on one line and exits with code 2;
anything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    pass
