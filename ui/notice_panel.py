"""提醒敦促函 on the 季度考评 page: preview, issue (numbered and logged), download each or all (ZIP
with the Excel score sheet), the notice log (reply received, close), and how the previous
quarter's warned units did this quarter.

The page calls ``notice_section(sel, quarter, sheet)``. Everything here goes through
official.notice (documents), official.issue (numbering) and official.log (the log).
After a write the app's cached connection is dropped (ui.data.clear): DuckDB would otherwise keep
serving the file it opened before the swap.

Access: issuing, recording replies and closing need the ``notices`` permission (notice staff,
province) and are done in the signed-in user's name. Everyone else reads only the notices of the
units in their scope that have been issued (a city: its own and its counties'), without the
score-sheet annex or the ZIP of every unit's letters.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from etl import warehouse
from official import issue as I, log as notice_log, notice as N, writer
from metrics.periods import Period
from ui import auth, data

STATUS_ICON = {"待回复": "🔴 待回复", "已回复": "🟡 已回复", "已办结": "🟢 已办结"}
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _actor() -> str:
    acc = data.access()
    if acc.user is not None:
        return acc.user.username
    return os.environ.get("ENFORCEMENT_USER") or st.session_state.get("user") or "网页操作"


def _may_issue() -> bool:
    return data.access().can("notices")


def notices_dir(quarter: str, level: str) -> Path:
    """Where issued notices are kept: data/notices/<quarter>-<level> beside the warehouse (gitignored)."""
    return warehouse.db_path().parent / "notices" / f"{quarter}-{level}"


# --- cached reads ---------------------------------------------------------------------------------
def notice_data(k: data.Key, quarter: str, level: str, province: str, skey, stamp: tuple) -> list[N.NoticeData]:
    """The notices of the quarter's warned units inside the user's scope."""
    scope = data.scope()
    return [d for d in _notice_data(k, quarter, level, province, skey, stamp) if scope.sees(d.unit_code)]


def log_table(k: data.Key) -> pd.DataFrame:
    """The notice log: every notice for notice staff and the province, else the scope's own."""
    return auth.only_units(_log_table(k), data.scope(), code="unit_code")


def follow_up(k: data.Key, quarter: str, level: str, province: str, skey) -> pd.DataFrame:
    return auth.only_units(_follow_up(k, quarter, level, province, skey), data.scope())


@st.cache_data(max_entries=32, show_spinner="正在准备提醒敦促函…")
def _notice_data(k: data.Key, quarter: str, level: str, province: str, skey, stamp: tuple) -> list[N.NoticeData]:
    sheet = data._score(k, quarter, level, province, skey)  # every unit's (cached for everyone)
    with data._cursor(k) as cur:
        return N.build_notices(cur, Period.parse(quarter), level, province, data.scheme(skey), _settings(), sheet)


@st.cache_data(max_entries=16, show_spinner=False)
def _log_table(k: data.Key) -> pd.DataFrame:
    with data._cursor(k) as cur:
        return notice_log.notices(cur)


@st.cache_data(max_entries=16, show_spinner="正在对比下一季度…")
def _follow_up(k: data.Key, quarter: str, level: str, province: str, skey) -> pd.DataFrame:
    with data._cursor(k) as cur:
        return notice_log.follow_up(cur, Period.parse(quarter), level, province, data.scheme(skey))


@st.cache_data(max_entries=8, show_spinner=False)
def level_noun(k: data.Key, province: str, level: str) -> str:
    with data._cursor(k) as cur:
        return N.level_noun(cur, province, level)


def _settings() -> N.NoticeSettings:
    return N.load_settings()


@st.cache_data(max_entries=64, show_spinner=False)
def _preview_bytes(_d: N.NoticeData, key: tuple, on: dt.date, number: str | None, stamp: tuple) -> bytes:
    return N.preview_notice(_d, N.load_settings(), N.load_template(), on, number)


def _files_stamp() -> tuple:
    """Changes when the settings or the wording template are edited (previews follow)."""
    return tuple(p.stat().st_mtime_ns for p in (N.DEFAULT_SETTINGS, N.DEFAULT_TEMPLATE))


@st.cache_data(max_entries=16, show_spinner="正在排版预览（LibreOffice）…")
def _preview_pngs(docx_bytes: bytes) -> list[bytes]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="notice-preview-") as tmp:
        path = Path(tmp) / "preview.docx"
        path.write_bytes(docx_bytes)
        return [p.read_bytes() for p in writer.to_png(writer.to_pdf(path), dpi=80)]


def _paragraphs(docx_bytes: bytes) -> list[tuple[str, str]]:
    """(kind, text) of the document for a text preview: the mark, body paragraphs and tables in order."""
    import io

    import docx

    d = docx.Document(io.BytesIO(docx_bytes))
    out = [("mark", d.sections[0].first_page_header.paragraphs[0].text)]
    body = d.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[1]
        if tag == "p":
            text = "".join(t.text or "" for t in child.iter() if t.tag.endswith("}t"))
            align = child.find(".//{*}jc")
            kind = align.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val") if align is not None else "both"
            out.append((kind, text))
        elif tag == "tbl":
            rows = [["".join(t.text or "" for t in tc.iter() if t.tag.endswith("}t")) for tc in tr.iter("{*}tc")]
                    for tr in child.iter("{*}tr")]
            out.append(("table", rows))
    return out


def _show_text_preview(docx_bytes: bytes) -> None:
    parts = []
    for kind, text in _paragraphs(docx_bytes):
        if kind == "mark":
            st.markdown(f"<div style='text-align:center;color:#d00;font-size:1.8rem;font-weight:700;"
                        f"border-bottom:3px double #d00;padding-bottom:.3rem'>{_esc(text)}</div>", unsafe_allow_html=True)
        elif kind == "table":
            if parts:
                st.markdown("".join(parts), unsafe_allow_html=True)
                parts = []
            st.dataframe(pd.DataFrame(text[1:], columns=text[0]), hide_index=True, width="stretch")
        elif not text.strip():
            parts.append("<div style='height:.6rem'></div>")
        else:
            style = {"center": "text-align:center;font-size:1.3rem;font-weight:700",
                     "right": "text-align:right"}.get(kind, "text-indent:2em")
            parts.append(f"<div style='{style};line-height:1.9;font-family:FangSong,STFangsong,serif'>{_esc(text)}</div>")
    if parts:
        st.markdown("".join(parts), unsafe_allow_html=True)


def _esc(text: str) -> str:
    import html

    return html.escape(str(text)).replace("\n", "<br>")


# --- the section ----------------------------------------------------------------------------------
def notice_section(sel, quarter: str, sheet: pd.DataFrame) -> None:
    """The 提醒敦促函 section of the 季度考评 page for the selected province, level and quarter."""
    qp = Period.parse(quarter)
    try:
        settings = _settings()
        template = N.load_template()
    except N.NoticeError as e:
        st.error(f"发文设置或措辞模板有误，无法生成提醒敦促函：{e}", icon=":material/error:")
        return
    s = settings.resolved(sel.province_name, sel.province)
    log = log_table(sel.key)
    logged = log[(log["quarter"] == quarter) & (log["level"] == sel.level)] if len(log) else log
    try:
        notices = notice_data(sel.key, quarter, sel.level, sel.province, sel.skey, _files_stamp())
    except N.NoticeError as e:
        st.error(str(e), icon=":material/error:")
        notices = []

    tabs = st.tabs(["发函", "函件登记与回复", "上季度被提醒单位"])
    with tabs[0]:
        _issue_tab(sel, qp, notices, logged, settings, template, s, sheet)
    with tabs[1]:
        _log_tab(sel, log, quarter)
    with tabs[2]:
        _follow_up_tab(sel, qp)


def _issue_tab(sel, qp: Period, notices, logged, settings, template, s, sheet) -> None:
    quarter = str(qp)
    may_issue = _may_issue()
    numbers = dict(zip(logged["unit_code"], logged["number"])) if len(logged) else {}
    if not may_issue:  # read only: the notices issued to the units of one's scope
        notices = [x for x in notices if x.unit_code in numbers]
        st.caption("提醒敦促函由省厅发函人员编号印发；此处只显示本单位已收到的函件。")
        if not notices:
            st.write("本季度没有发给本单位的提醒敦促函。")
            return
    else:
        st.caption(f"发文机关：{s.issuer} · 发文字号：{s.prefix}〔年份〕×号（× 为序号） · 回复期限：成文之日起 {settings.reply_days} 日 · "
                   f"发文设置 `official/{N.DEFAULT_SETTINGS.name}`，措辞模板 `official/{N.DEFAULT_TEMPLATE.name}`（改后即生效）")
    if not notices:
        st.write("本季度无预警单位，无需发函。")
        return
    c1, c2 = st.columns([1, 2])
    on = c1.date_input("成文日期", value=dt.date.today(), key="notice_date", format="YYYY-MM-DD",
                       help="已发过函的单位再次生成时沿用原文号和原成文日期") if may_issue else dt.date.today()
    names = {d.unit_code: d.unit_name for d in notices}
    pick = c2.selectbox("预览", list(names), key="notice_preview_unit",
                        format_func=lambda c: f"{names[c]}（{numbers.get(c, '未发函')}）", placeholder="请选择")
    d = next(x for x in notices if x.unit_code == pick)
    issued_row = logged[logged["unit_code"] == pick] if len(logged) else logged
    if len(issued_row):
        r = issued_row.iloc[0]
        number, when = r["number"], pd.Timestamp(r["issued_on"]).date()
    else:
        number, when = None, on
    preview = _preview_bytes(d, (sel.key, sel.skey, d.unit_code, quarter, sel.level), when, number, _files_stamp())
    with st.container(border=True, height=560, key="notice_preview"):
        _show_text_preview(preview)
    b1, b2 = st.columns(2)
    b1.download_button("下载此函（Word）" if number else "下载预览稿（Word，未编号）", preview,
                       file_name=N.file_name(d, number), mime=DOCX_MIME, key="notice_preview_download")
    if b2.button("查看版面（PDF 排版效果）", key="notice_layout"):
        try:
            pngs = _preview_pngs(preview)
            cols = st.columns(3)
            for k, png in enumerate(pngs, 1):
                cols[(k - 1) % 3].image(png, caption=f"第 {k} 页")
        except N.NoticeError as e:
            st.info(f"本机无法排版预览：{e}")

    if not may_issue:
        return
    st.divider()
    new = [x for x in notices if x.unit_code not in numbers]
    if new:
        st.write(f"待发函 {len(new)} 份：" + "、".join(x.unit_name for x in new)
                 + (f"；已发函 {len(numbers)} 份。" if numbers else "。"))
    label = f"编号并生成提醒敦促函（{len(notices)} 份）" if new else "重新生成全部函件（沿用原文号）"
    if st.button(label, type="primary" if new else "secondary", key="notice_issue"):
        try:
            issued = I.issue_notices(warehouse.db_path(), notices, notices_dir(quarter, sel.level),
                                     settings=settings, template=template, issued_on=on, actor=_actor())
        except (N.NoticeError, notice_log.NoticeLogError) as e:
            st.error(f"未能发函：{e}")
        else:
            data.clear()
            st.session_state["notice_issued_msg"] = "已生成：" + "；".join(f"{i.unit_name} {i.number}" for i in issued)
            st.rerun()
    if msg := st.session_state.pop("notice_issued_msg", None):
        st.success(msg, icon=":material/check_circle:")

    folder = notices_dir(quarter, sel.level)
    files = [(n, folder / f) for n, f in zip(logged["number"], logged["file_name"])
             if isinstance(f, str) and (folder / f).exists()] if len(logged) else []
    if files:
        st.write("**已发函件**")
        cols = st.columns(min(len(files), 3))
        for k, (n, path) in enumerate(files):
            cols[k % len(cols)].download_button(f"{n}", path.read_bytes(), file_name=path.name, mime=DOCX_MIME,
                                                key=f"notice_file_{k}")
    noun = level_noun(sel.key, sel.province, sel.level)
    annex = N.score_sheet_xlsx(sheet, sel.scheme, N.annex_title(qp, sel.province_name, sel.level, s, noun))
    annex_file = N.annex_name(qp, sel.level)
    z1, z2 = st.columns(2)
    if files:
        z1.download_button("下载全部函件及得分表（ZIP）", I.zip_notices([p for _, p in files], (annex_file, annex)),
                           file_name=f"{quarter}-提醒敦促函.zip", mime="application/zip", key="notice_zip")
    else:
        z1.caption("发函后可在此下载全部函件（ZIP）。")
    z2.download_button("下载附件：考评得分表（Excel）", annex, file_name=annex_file, mime=XLSX_MIME, key="notice_annex")


def _log_tab(sel, log: pd.DataFrame, quarter: str) -> None:
    if log.empty:
        st.write("尚未发出提醒敦促函。")
        return
    only = st.toggle("只看未办结", value=False, key="notice_log_open")
    view = log[log["closed_on"].isna()] if only else log
    table = pd.DataFrame({
        "文号": view["number"], "单位": view["unit_name"], "季度": view["quarter"].map(lambda q: Period.parse(q).label),
        "得分": view["score"], "排名": view["rank"], "成文日期": view["issued_on"], "回复期限": view["reply_due"],
        "收到回复": view["reply_received"], "办结日期": view["closed_on"], "状态": view["status"].map(STATUS_ICON),
        "备注": view["note"]})
    st.dataframe(table, hide_index=True, width="stretch", key="notice_log_table",
                 column_config={"得分": st.column_config.NumberColumn(format="%.1f"),
                                "排名": st.column_config.NumberColumn(format="%d")})
    open_ = log[log["closed_on"].isna()]
    if open_.empty or not _may_issue():
        return
    labels = {n: f"{n} {u}（{s}）" for n, u, s in zip(open_["number"], open_["unit_name"], open_["status"])}
    with st.form("notice_log_form", border=True):
        st.write("**登记回复 / 办结**")
        number = st.selectbox("函件", list(labels), format_func=labels.get, key="notice_log_number", placeholder="请选择")
        c1, c2 = st.columns(2)
        when = c1.date_input("日期", value=dt.date.today(), key="notice_log_date", format="YYYY-MM-DD")
        action = c2.radio("操作", ["登记已收到书面回复", "办结"], key="notice_log_action", horizontal=True)
        note = st.text_input("备注（未回复而办结时必填，说明原因）", key="notice_log_note")
        go = st.form_submit_button("保存", type="primary")
    if go:
        try:
            if action == "办结":
                notice_log.close(warehouse.db_path(), number, when, actor=_actor(), note=note or None)
            else:
                notice_log.mark_reply(warehouse.db_path(), number, when, actor=_actor(), note=note or None)
        except notice_log.NoticeLogError as e:
            st.error(str(e))
        else:
            data.clear()
            st.rerun()


def _follow_up_tab(sel, qp: Period) -> None:
    prev = str(qp.previous())
    if prev not in sel.status.get("quarters", []):
        st.write(f"没有{qp.previous().label}的数据。")
        return
    f = follow_up(sel.key, prev, sel.level, sel.province, sel.skey)
    if f.empty:
        st.write(f"{qp.previous().label}没有被提醒的单位。")
        return
    improved = int(f["improved"].fillna(False).sum())
    left = int(f["left_list"].fillna(False).sum())
    st.write(f"{qp.previous().label}被提醒的 {len(f)} 个单位中，本季度 **{left}** 个已退出预警名单，"
             f"**{improved}** 个得分提高或退出名单。")
    yes = lambda x: "—" if pd.isna(x) else ("是" if x else "否")  # noqa: E731
    table = pd.DataFrame({
        "单位": f["name"], "文号": f["number"].fillna("未登记"), "函件状态": f["status"].map(STATUS_ICON).fillna("—"),
        f"{qp.previous().label}得分": f["score"], "排名": f["rank"], f"{qp.label}得分": f["next_score"],
        "本季排名": f["next_rank"], "变化": f["change"], "退出预警名单": f["left_list"].map(yes),
        "有进步": f["improved"].map(yes)})
    st.dataframe(table, hide_index=True, width="stretch", key="notice_follow_up",
                 column_config={c: st.column_config.NumberColumn(format="%.1f")
                                for c in (f"{qp.previous().label}得分", f"{qp.label}得分", "变化")})
