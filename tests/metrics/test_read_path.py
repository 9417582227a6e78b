"""Issue 11's one read path: what metrics reads for a page comes from the marts the ETL builds
(etl.marts), not from the record tables — shown here by editing a mart behind the records' back
and seeing the edit come through."""
import shutil

import duckdb
import pytest

from metrics.explain import records
from metrics.warned import overdue_hazards

Q = "2025Q4"


@pytest.fixture(scope="module")
def db(demo_db, tmp_path_factory):
    p = tmp_path_factory.mktemp("read-path") / "warehouse.duckdb"
    shutil.copyfile(demo_db, p)
    return p


def test_the_overdue_hazards_of_a_notice_name_their_enterprises_from_the_mart(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        codes = [c for (c,) in con.execute("SELECT code FROM regions WHERE level = '市' ORDER BY code").fetchall()]
        code, df = next((c, d) for c in codes if len(d := records(con, Q, c, "overdue_major")))
        firms = sorted(set(df["enterprise_id"]))
    finally:
        con.close()
    # the register's names as the mart holds them, changed there only (the records keep theirs)
    w = duckdb.connect(str(db))
    try:
        w.execute("UPDATE mart_enterprises SET name = '汇总表：' || name WHERE enterprise_id IN "
                  "(SELECT unnest(?::VARCHAR[]))", [firms])
    finally:
        w.close()
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = overdue_hazards(con, Q, code)
        raw = dict(con.execute("SELECT enterprise_id, name FROM enterprises WHERE enterprise_id IN "
                               "(SELECT unnest(?::VARCHAR[]))", [firms]).fetchall())
    finally:
        con.close()
    assert len(got) == len(df) > 0
    assert set(got["enterprise"]) == {"汇总表：" + raw[e] for e in firms}
