"""Champions score a few records through the compiled scorer with the general path's answers.

For each task's trained champion: the records of several test and training instances,
one at a time, through ``ModelBundle.score_records`` (which must take the compiled scorer)
and through the general path (``feature_matrix`` then ``score_matrix``): the same
probability to the last bit, the same score, band and reason codes.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import WORLD_TASKS
from tests.serving.conftest import predictions, records_of

N = 8


@pytest.mark.parametrize("task", WORLD_TASKS)
def test_compiled_scorer_gives_the_general_paths_answers(task, serving_world, world_dataset, bundles):
    bundle = bundles[task]
    ids = predictions(serving_world.model(task).run_id).index[:N]
    for record in records_of(world_dataset, bundle, ids):
        assert bundle.scorer.feature_block([record]) is not None, "the record left the compiled path"
        (got,) = bundle.score_records([record])
        want = bundle.score_matrix(bundle.feature_matrix([record])).iloc[0]
        assert got["instance_id"] == want["instance_id"]
        assert float(got["probability"]) == float(want["probability"])
        assert (float(got["score"]), str(got["band"])) == (float(want["score"]), str(want["band"]))
        assert got["reason_codes"] == json.loads(want["reason_codes"])
