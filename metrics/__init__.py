"""Metrics: indicators, the effectiveness index, the quarterly score, warnings and commendations.

Implements ../shared/spec/indicators.md §1–5. The methodology is data — scheme files under
metrics/schemes/ (format: metrics/schemes/README.md); a province's own scheme is a new file.
Everything is computed for all units of a level at once (DuckDB SQL, then vectorised pandas) and
returned as tidy DataFrames. Every function takes an open DuckDB connection (read-only is what
callers pass; nothing here writes to a warehouse file) and runs its queries on their own cursor.

Records are read from the marts only (etl/marts.py: every record stamped at load time with the
county, city and province it counts for), through one compiler (metrics/query.py) that takes a
list of periods: a unit's records are a WHERE on a stamped column, never a join. The KPI tiles
(metrics.kpis), the drill-down lists (metrics.drill), the records behind a number
(metrics.explain) and the data-quality panel take their numbers from the same definitions.

Public API (keep these names; pages and notices build on them)::

    from metrics.periods import Period
        Period.parse('2024' | '2024Q3' | '2024-03') → .start .end (dates, inclusive) .kind
        ('year'|'quarter'|'month') .number .months .months_elapsed .previous() .year_ago()
        .quarters() .label ('2024年第3季度') str(p) ('2024Q3')
    from metrics.scheme import load_scheme, SchemeError
        load_scheme(path=None) → Scheme (default: metrics/schemes/default.toml); SchemeError names
        file:line. Scheme.indicators[code] → Indicator(name, unit, direction, decimals, numerator,
        denominator), .index (IndexSpec: .groups, .leaves), .score, .warning, .commendation,
        .bands, .yoy
    from metrics.indicators import compute_indicators, published
        compute_indicators(con, period, level='city', province=None, scheme=None, indicators=None)
        → code, name, indicator, value, numerator, denominator, indicator_name, unit, assessed
        (values unrounded, NA where a denominator is 0); published(df, scheme) rounds for display
    from metrics.index import compute_index, index_detail, index_frames
        compute_index(con, period, level='city', province=None, scheme=None)
        → code, name, index, rank, A…F (the scheme's first-level codes), na_count, assessed
        index_detail(...) → code, name, indicator, group, weight, value, score (0–100), band,
        assessed; index_frames(...) → (index, detail) in one computation
    from metrics.score import compute_score, warnings, commendations
        compute_score(con, quarter, level='city', province=None, scheme=None)
        → code, name, score, rank, bonus, deduction, warned, assessed, reason, group, peers,
        <indicator>_value/_points (published, one decimal)/_points_exact/_na per item, items (Σ
        published item points), raw_score (full precision, not published), flags; score = items +
        bonus − deduction, clipped (§3)
        warnings(...) → the warned rows; commendations(con, year, level, province, scheme)
        → code, name, mean_score, quarters, rank, commended, group, Q1…Q4
    from metrics.warning import WarningRule     # scheme.warning: the rule, once
        rule.apply(frame) (rank, peers, warned, reason), rule.evaluate_draws(scores, group),
        rule.condition() '低于80分且位列后3名', .describe(), .describe_full(), .no_list_reason(n),
        .warned_reason(score, from_bottom, peers), .none_warned(noun)
    from metrics.yoy import year_on_year
        year_on_year(con, period, level='city', province=None, scheme=None)
        → code, name, indicator, indicator_name, unit, value, previous, growth
    from metrics.bands import band, band_series       # 达标 / 关注 / 需改进 of a 0–100 score
    from metrics.explain import records
        records(con, period, code, indicator, part='numerator'|'denominator', scheme=None)
        → the rows behind the number (a sum adds an ``amount`` column)
    from metrics.provinces import default_province, resolve_province, ProvinceError
        default_province(con) → the province whose agencies have records (error if none/several)
    from metrics.rounding import round_half_away       # published rounding (90.95 → 91.0)

The bulletin (执法情况通报, issue 13; content as data, laid out by official/bulletin.py)::

    from metrics.bulletin import build_bulletin       # sections, sentences, tables, annexes
        build_bulletin(con, period ('2025Q4' | '2025'), level='city', province=None, scheme=None,
        requirements=None, numbers=None) → Bulletin(.sections, .annexes, .frames, .paragraphs())
    from metrics.priorities import unit_priorities, province_priorities, summary
        SRF-style strengths (达标) and priority issues (需改进, most index points lost), at most 3 each

Analysts' tools (§5–6; pure functions and small estimators over the frames above)::

    from metrics.panel import indicator_panel, score_panel     # many periods in one query
    from metrics.weights import EntropyWeights, PCAWeights, CRITICWeights, compare_weights
    from metrics.uncertainty import rank_uncertainty, warning_robustness   # Monte Carlo intervals
    from metrics.quality import quality_report                 # data-quality panel and review flags
    from metrics.early_warning import early_warning, backtest  # next quarter's warning list
    from metrics.whatif import whatif_index, whatif_score      # rankings under other weights/targets

Conventions: ``level`` is 'city' or 'county' ('province' works for indicators); ``province``
None means default_province(con); ``scheme`` None means the default scheme. Ratios are
fractions, money 万元. A unit with no inspection, hazard or case in the period is not assessed
(无数据): it has a row but no index, score, rank or warning, and is no one's peer.

Command line: ``python -m metrics index|score|warnings|indicators`` (metrics/__main__.py); the
``notices`` command plugs in from official/issue.py (see PLUGINS there). The figures a notice
states come from metrics/warned.py; documents are official/'s, never metrics'.
"""
