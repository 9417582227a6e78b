import pandas as pd

from metrics.moves import movers, rank_moves


def test_rank_moves_and_movers_on_a_small_ranking():
    now = pd.DataFrame({"code": ["a", "b", "c", "d", "e"], "name": list("ABCDE"),
                        "index": [90.0, 80.0, 70.0, 60.0, None], "rank": [1, 2, 3, 4, None]})
    before = pd.DataFrame({"code": ["a", "b", "c", "d", "e"], "index": [70.0, 85.0, 90.0, 50.0, 40.0],
                           "rank": [2, 1, 3, 4, 5]}).assign(rank=[3, 2, 1, 4, 5])
    m = rank_moves(now, before)
    assert list(m["code"]) == ["a", "d", "b", "c"]          # e has no rank now: left out
    assert dict(zip(m["code"], m["rank_change"])) == {"a": 2, "d": 0, "b": 0, "c": -2}
    assert m.set_index("code").loc["a", "index_change"] == 20.0
    up, down = movers(m, n=3)
    assert list(up["code"]) == ["a"] and list(down["code"]) == ["c"]
    assert rank_moves(now, None).empty and list(movers(rank_moves(now, None))[0].columns) == list(m.columns)
