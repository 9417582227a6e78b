"""追溯记录 show names where people read them (enterprise, agency, county) and keep the codes."""
from etl import warehouse
from metrics.explain import records, with_names
from metrics.scheme import load_scheme


def test_records_get_names_beside_their_codes(demo_db):
    con = warehouse.connect_read(demo_db)
    try:
        sc = load_scheme()
        ind = next(c for c, i in sc.indicators.items() if i.numerator is not None and not i.growth_of)
        raw = records(con, "2025Q4", "330700", ind, "numerator", sc)
        named = with_names(con, raw)
        regions = dict(con.execute("SELECT code, name FROM regions").fetchall())
        ents = dict(con.execute("SELECT enterprise_id, name FROM mart_enterprises").fetchall())
    finally:
        con.close()
    assert len(named) == len(raw) > 0
    for col in raw.columns:                                   # every code column kept as it was
        assert named[col].equals(raw[col])
    if "agency_code" in raw:
        assert list(named.columns).index("agency") == list(named.columns).index("agency_code") - 1
        assert (named["agency"] == named["agency_code"].map(regions)).all()
    if "enterprise_id" in raw:
        assert (named["enterprise"] == named["enterprise_id"].map(ents)).all() and named["enterprise"].ne("").all()
    if "enterprise_county" in raw:
        assert (named["enterprise_county_name"] == named["enterprise_county"].map(regions)).all()
    assert "武义县" in set(named.get("agency", [])) | set(named.get("enterprise_county_name", []))
