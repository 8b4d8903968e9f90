"""Several processes, one ACD in Redis: no double booking, ever, and one view.

Four processes hammer the same queues with their own callers and agents; each checks
after every event that no agent holds two calls and no call two agents, and all four
must end with the same events, in the same order, and the same state.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

from tests.services import require_redis

NODE = Path(__file__).with_name("acd_cluster_node.py")


@pytest.mark.slow
def test_four_processes_share_one_acd_without_double_booking() -> None:
    url = require_redis()
    prefix = f"test:cluster:{uuid.uuid4().hex[:8]}"
    nodes, steps = 4, 1500
    root = Path(__file__).parents[2]
    try:
        procs = [
            subprocess.Popen(
                [sys.executable, str(NODE), url, prefix, str(i), str(nodes), str(steps)],
                cwd=root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(nodes)
        ]
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=240)
            assert proc.returncode == 0, err[-2000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        client = redis.from_url(url)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()

    for result in results:
        assert result["violations"] == 0, result["problems"]
    assert len({r["events_digest"] for r in results}) == 1, "the copies saw different events"
    assert len({r["state_digest"] for r in results}) == 1, "the copies ended in different states"
    assert len({r["applied"] for r in results}) == 1
    # The hammer did hammer: many offers, answers and refusals (answers that lost a race
    # with a ring timeout or another process's command are refused, not applied twice).
    assert results[0]["offers"] >= 200
    assert sum(r["refused"] for r in results) > 0
