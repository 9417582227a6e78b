"""Scheme files: the defaults load; a file with an error is refused with its file and line."""
import textwrap

import pytest

from metrics.scheme import DEFAULT_SCHEME, SchemeError, load_scheme


def write(tmp_path, text, name="province.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


def refused(path) -> str:
    with pytest.raises(SchemeError) as e:
        load_scheme(path)
    return str(e.value)


def test_the_default_scheme_is_the_methodology():
    s = load_scheme()
    assert s.path == DEFAULT_SCHEME.resolve()
    assert [g.code for g in s.index.groups] == list("ABCDEF")
    assert [g.weight for g in s.index.groups] == [20, 20, 20, 15, 15, 10]
    assert len(s.index.leaves) == 9
    assert {i.indicator: i.points for i in s.score.items} == {
        "plan_completion": 20, "key_coverage": 15, "rectification_due": 20, "penalty_rate": 15,
        "major_filing": 10, "dual_penalty": 10, "mobile_share": 10}
    assert (s.warning.threshold, s.warning.last, s.warning.min_peers, s.commendation.top) == (80, 3, 4, 3)
    assert s.score.max == 105 and s.indicators["overdue_major"].direction == "-"
    base = ["coverage", "key_coverage", "rectification", "major_on_time", "penalty_rate", "avg_fine",
            "major_filing", "dual_penalty", "review_score", "plan_completion", "mobile_share", "transfers",
            "reported_cases", "overdue_major", "key_matter_findings", "fines_total"]
    assert list(s.indicators)[:16] == base


def test_weights_that_do_not_add_up_name_the_line(tmp_path):
    p = write(tmp_path, '''
        extends = "default"
        [index]
        nodes = [
          { code = "A", name = "覆盖", weight = 50 },
          { code = "coverage", parent = "A", weight = 30, normalise = "minmax" },
          { code = "key_coverage", parent = "A", weight = 30, normalise = "target", target = 1 },
          { code = "B", name = "治理", weight = 50 },
          { code = "rectification", parent = "B", weight = 50, normalise = "target", target = 1 },
        ]
    ''')
    msg = refused(p)
    assert f"{p.resolve()}:4: weights do not add up: A has weight 50 but its indicators add up to 60" in msg


def test_first_level_weights_must_add_up_to_the_total(tmp_path):
    p = write(tmp_path, '''
        extends = "default"
        [index]
        nodes = [
          { code = "A", name = "覆盖", weight = 40 },
          { code = "coverage", parent = "A", weight = 40, normalise = "minmax" },
        ]
    ''')
    assert ":3: weights do not add up: the first-level weights add up to 40, not 100" in refused(p)


def test_unknown_indicator_names_the_line(tmp_path):
    p = write(tmp_path, '''
        extends = "default"
        [index]
        nodes = [
          { code = "A", name = "覆盖", weight = 100 },
          { code = "coverage", parent = "A", weight = 60, normalise = "minmax" },
          { code = "coverrage", parent = "A", weight = 40, normalise = "minmax" },
        ]
    ''')
    assert ":6: unknown indicator 'coverrage'" in refused(p)


@pytest.mark.parametrize("where, fragment", [
    ("rectified_date <== period_end", "expected a value"),
    ("rectifed_date <= period_end", "unknown column 'rectifed_date'"),
    ("deadline", "expected a condition (true/false), this is a date"),
    ("found_date > 3", "cannot compare a date with a number"),
    ("1 = 1; DROP TABLE hazards", "unexpected character ';'"),
    ("is_major = 'yes'", "cannot compare a condition (true/false) with a text"),
    ("deadline = NULL", "IS NULL"),
])
def test_bad_filter_names_the_line(tmp_path, where, fragment):
    p = write(tmp_path, f'''
        extends = "default"

        [indicators.rectification]
        name = "隐患整改率"
        unit = "%"
        numerator = {{ table = "hazards", where = "{where}" }}
        denominator = {{ table = "hazards" }}
    ''')
    msg = refused(p)
    assert f"{p.resolve()}:6: indicators.rectification.numerator.where" in msg and fragment in msg


def test_unknown_keys_tables_windows_and_columns(tmp_path):
    p = write(tmp_path, '''
        extends = "default"
        [indicators.x]
        name = "x"
        numerater = { table = "hazards" }
        [indicators.y]
        name = "y"
        numerator = { table = "hazard" }
        [indicators.z]
        name = "z"
        numerator = { table = "plans", window = "period" }
        [indicators.w]
        name = "w"
        numerator = { table = "inspections", distinct = "enterprise" }
        [indicators.v]
        name = "v"
        numerator = { table = "hazards", date = "found" }
    ''')
    msg = refused(p)
    assert ":4: unknown key 'numerater' in indicators.x" in msg
    assert ":2: indicators.x needs a numerator" in msg
    assert ":7: unknown table 'hazard'" in msg
    assert ":10: plans records have no date" in msg
    assert ":13: unknown column 'enterprise' in inspections" in msg
    assert ":16: date should be a date column of hazards" in msg


def test_score_points_and_rules_are_checked(tmp_path):
    p = write(tmp_path, '''
        extends = "default"
        [score]
        items = [
          { indicator = "plan_completion", points = 60 },
          { indicator = "mobile_share", points = 30, na = "half" },
        ]
        [warning]
        last = 0
        [bands]
        meets = 60
        attention = 70
    ''')
    msg = refused(p)
    assert ":3: points do not add up: the items give 90, total is 100" in msg
    assert ":5: na should be 'full'" in msg
    assert ":8: last should be at least 1" in msg
    assert ":11: attention (70) should be below meets (60)" in msg


def test_toml_syntax_errors_and_missing_files(tmp_path):
    p = write(tmp_path, '''
        extends = "default"
        [index
    ''')
    msg = refused(p)
    assert str(p.resolve()) in msg and "line 2" in msg
    assert "no such scheme file" in refused(tmp_path / "nope.toml")
    loop = write(tmp_path, 'extends = "loop.toml"\n', "loop.toml")
    assert "extends itself" in refused(loop)
    assert "neither beside it" in refused(write(tmp_path, 'extends = "nowhere"\n', "x.toml"))


def test_errors_in_an_inherited_file_name_that_file(tmp_path):
    base = write(tmp_path, '''
        extends = "default"
        [indicators.extra]
        name = "额外"
        numerator = { table = "penalties", where = "transferd" }
    ''', "base.toml")
    child = write(tmp_path, 'extends = "base.toml"\nname = "child"\n', "child.toml")
    assert f"{base.resolve()}:4: indicators.extra.numerator.where" in refused(child)


def test_a_section_key_overrides_only_that_key(tmp_path):
    p = write(tmp_path, '''
        extends = "default"
        [warning]
        threshold = 75
    ''')
    s = load_scheme(p)
    assert (s.warning.threshold, s.warning.last) == (75, 3)
    assert len(s.score.items) == 7 and len(s.index.leaves) == 9
