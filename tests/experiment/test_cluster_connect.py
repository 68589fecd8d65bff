"""Connecting to a Dask scheduler is bounded in time, and --cluster addresses and --jobs counts nnglm cannot use
are one message (experiment.cluster, cli)."""

import os
import time

import pytest
from support import ROOT, listener

from nnglm import cli
from nnglm.experiment import cluster
from nnglm.foundation.errors import UserError


def test_cluster_connect_is_bounded(monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1.0)
    silent, address = listener()
    start = time.monotonic()
    with pytest.raises(UserError) as e:
        cluster.connect(address)
    assert time.monotonic() - start < 5
    assert str(e.value) == (
        f"--cluster: no Dask scheduler answered at {address} within 1 s (the connection opened, but nothing was said on it); "
        "start one with `dask scheduler`, or check the address"
    )
    silent.close()
    for banner in (b"HTTP/1.1 400 Bad Request\r\n\r\n", b"SSH-2.0-OpenSSH_9.6\r\n"):
        server, address = listener(banner)
        with pytest.raises(UserError, match=f"answered, but not as a Dask scheduler \\(it began with {banner[:8]!r}"):
            cluster.connect(address)
        server.close()


def test_cluster_addresses_it_cannot_use(cli_error):
    message = cli_error("run", ROOT / "configs" / "seed000_four_points.yaml", "--cluster", "tls://10.0.0.5:8786")
    assert message == (
        "--cluster: 'tls://10.0.0.5:8786': nnglm speaks to a scheduler over tcp:// only (tls:// needs certificates or transports "
        "it does not set up); give tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
    )
    message = cli_error("run", ROOT / "configs" / "seed000_four_points.yaml", "--cluster", "tcp://10.0.0.5:99999")
    assert message == "--cluster: 'tcp://10.0.0.5:99999': port 99999 is not a TCP port (1 to 65535); Dask's default is 8786"


def test_jobs_past_what_the_machine_holds(cli_error):
    most = cli.MAX_JOBS_PER_CPU * (os.cpu_count() or 1)
    message = cli_error("run", ROOT / "configs" / "seed000_four_points.yaml", "--jobs", most + 1)
    assert message.startswith(f"--jobs: {most + 1} processes on a machine of {os.cpu_count()} CPUs; at most {most} ")
