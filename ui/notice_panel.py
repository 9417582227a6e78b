"""提醒敦促函 on the 季度考评 page: the notice settings, preview, issue one unit or all after a
confirmation that lists what will be numbered, download each or all (ZIP with the Excel score
sheet), the notice log (reply received, close, void a number), and how the previous quarter's
warned units did this quarter.

The page calls ``notice_section(sel, quarter, sheet)``. Everything here goes through
official.notice (documents), official.issue (numbering), official.log (the log) and
official.config (the settings set here). The log, the settings and the audit trail live in the
operational store beside the warehouse (ops.store): issuing, recording a reply, closing or voiding
never rewrites the warehouse, so no cached figure is cleared — only this section reruns.

Access: the settings, issuing, recording replies, closing and voiding need the ``notices``
permission (notice staff, province) and are done in the signed-in user's name. Everyone else reads
only the notices of the units in their scope that have been issued (a city: its own and its
counties'), without the score-sheet annex or the ZIP of every unit's letters.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from etl import warehouse
from metrics import warned as W
from metrics.periods import Period
from official import config, issue as I, log as notice_log, notice as N, writer
from ui import auth, data, display
from ui.cache import memo  # not st.cache_data: out of reach of the clear-cache message

STATUS_ICON = {"待回复": "🔴 待回复", "已回复": "🟡 已回复", "已办结": "🟢 已办结", "已作废": "⚪ 已作废"}
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONFIRM = "_notice_confirm"     # session_state: the unit codes waiting for the 确认编号 click


def _actor() -> str:
    acc = data.access()
    if acc.user is not None:
        return acc.user.username
    return os.environ.get("ENFORCEMENT_USER") or st.session_state.get("user") or "网页操作"


def _may_issue() -> bool:
    return data.access().can("notices")


def _db() -> Path:
    return warehouse.db_path(data.key()[0])


# --- reads ----------------------------------------------------------------------------------------
def notice_data(k: data.Key, quarter: str, level: str, province: str, skey, stamp: tuple) -> list[N.NoticeData]:
    """The notices of the quarter's warned units inside the user's scope."""
    scope = data.scope()
    return [d for d in _notice_data(k, quarter, level, province, skey, stamp) if scope.sees(d.unit_code)]


def log_table(k: data.Key) -> pd.DataFrame:
    """The notice log (operational store, not cached: a reply shows at once and clears nothing):
    every notice for notice staff and the province, else the scope's own."""
    return auth.only_units(notice_log.notices(k[0]), data.scope(), code="unit_code")


def follow_up(k: data.Key, quarter: str, level: str, province: str, skey) -> pd.DataFrame:
    f = notice_log.with_log(_follow_up(k, quarter, level, province, skey), k[0], quarter, level)
    return auth.only_units(f, data.scope())


@memo(max_entries=32, show_spinner="正在准备提醒敦促函…")
def _notice_data(k: data.Key, quarter: str, level: str, province: str, skey, stamp: tuple) -> list[N.NoticeData]:
    sheet = data._score(k, quarter, level, province, skey)  # every unit's (cached for everyone)
    with data._cursor(k) as cur:
        return N.build_notices(cur, Period.parse(quarter), level, province, data.scheme(skey),
                               N.load_settings(), sheet)


@memo(max_entries=16, show_spinner="正在对比下一季度…")
def _follow_up(k: data.Key, quarter: str, level: str, province: str, skey) -> pd.DataFrame:
    with data._cursor(k) as cur:
        return W.follow_up(cur, Period.parse(quarter), level, province, data.scheme(skey))


@memo(max_entries=8, show_spinner=False)
def level_noun(k: data.Key, province: str, level: str) -> str:
    with data._cursor(k) as cur:
        return W.level_noun(cur, province, level)


def warm(k: data.Key, quarter: str, level: str, province: str, skey) -> None:
    """What the notices' first view computes (ui.warmup, before anyone asks): the quarter's notices,
    the previous quarter's warned units followed into this one and the preview of the first warned unit, as the tab would make
    them (its number and date from the log if it has been issued, else unnumbered and dated today)."""
    notices = _notice_data(k, quarter, level, province, skey, _files_stamp())
    _follow_up(k, str(Period.parse(quarter).previous()), level, province, skey)  # 上季度被提醒单位
    level_noun(k, province, level)
    if not notices:
        return
    d = notices[0]
    log = notice_log.notices(k[0])
    issued = log[(log["quarter"] == quarter) & (log["level"] == level) & (log["status"] != "已作废")
                 & (log["unit_code"] == d.unit_code)]
    number, when = ((issued["number"].iloc[0], pd.Timestamp(issued["issued_on"].iloc[0]).date()) if len(issued)
                    else (None, dt.date.today()))
    preview = _preview_bytes(d, (k, skey, d.unit_code, quarter, level), when, number, _files_stamp())
    _paragraphs(preview)


def _settings() -> N.NoticeSettings:
    """The shipped settings file with what notice staff set here (official.config)."""
    return config.effective(_db())


@memo(max_entries=64, show_spinner=False)
def _preview_bytes(_d: N.NoticeData, key: tuple, on: dt.date, number: str | None, stamp: tuple) -> bytes:
    return N.preview_notice(_d, _settings(), N.load_template(), on, number)


def _files_stamp() -> tuple:
    """Changes when the settings file, the wording template or the settings set here change."""
    stored = tuple(sorted((k, str(v)) for k, v in config.stored(_db()).items()))
    return (*(p.stat().st_mtime_ns for p in (N.DEFAULT_SETTINGS, N.DEFAULT_TEMPLATE)), stored)


@memo(max_entries=16, show_spinner="正在排版预览（LibreOffice）…")
def _preview_pngs(docx_bytes: bytes) -> list[bytes]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="notice-preview-") as tmp:
        path = Path(tmp) / "preview.docx"
        path.write_bytes(docx_bytes)
        return [p.read_bytes() for p in writer.to_png(writer.to_pdf(path), dpi=80)]


@memo(max_entries=16, show_spinner=False)
def _paragraphs(docx_bytes: bytes) -> list[tuple[str, str]]:
    """(kind, text) of the document for a text preview: the mark, body paragraphs and tables in order
    (read once per document: parsing the .docx took a tenth of 季度考评's run)."""
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
    logged = log[(log["quarter"] == quarter) & (log["level"] == sel.level) & (log["status"] != "已作废")]
    try:
        notices = notice_data(sel.key, quarter, sel.level, sel.province, sel.skey, _files_stamp())
    except N.NoticeError as e:
        st.error(str(e), icon=":material/error:")
        notices = []

    names = ["发函", "函件登记与回复", "上季度被提醒单位"] + (["发文设置"] if _may_issue() else [])
    tabs = st.tabs(names)
    with tabs[0]:
        _issue_tab(sel, qp, notices, logged, settings, template, s, sheet)
    with tabs[1]:
        _log_tab(sel, log, quarter)
    with tabs[2]:
        _follow_up_tab(sel, qp)
    if len(tabs) > 3:
        with tabs[3]:
            _settings_tab(settings, s)


def _file_buttons(rows: pd.DataFrame, key: str) -> list[Path]:
    """A download button per logged notice whose file is kept beside the warehouse (whoever issued
    it: the app or the command line); returns the files."""
    files = [(n, p) for n, f in zip(rows["number"], rows["file_path"]) if (p := I.archived(_db(), f)) is not None]
    if files:
        cols = st.columns(min(len(files), 3))
        for k, (n, path) in enumerate(files):
            cols[k % len(cols)].download_button(f"{n}", path.read_bytes(), file_name=path.name, mime=DOCX_MIME,
                                                key=f"{key}_{k}", on_click="ignore")
    return [p for _, p in files]


def _issue_tab(sel, qp: Period, notices, logged, settings, template, s, sheet) -> None:
    quarter = str(qp)
    may_issue = _may_issue()
    numbers = dict(zip(logged["unit_code"], logged["number"]))
    if not may_issue:  # read only: the notices issued to the units of one's scope
        notices = [x for x in notices if x.unit_code in numbers]
        st.caption("提醒敦促函由省厅发函人员编号印发；此处只显示本单位已收到的函件。")
        if not notices:
            st.write("本季度没有发给本单位的提醒敦促函。")
            return
    else:
        st.caption(f"发文机关：{s.issuer} · 发文字号：{s.prefix}〔年份〕N号（N 为序号，本年自 {settings.start_seq} 号起）· "
                   f"回复期限：成文之日起 {settings.reply_days} 日 · 在“发文设置”中修改；措辞模板 "
                   f"`official/{N.DEFAULT_TEMPLATE.name}`")
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
    issued_row = logged[logged["unit_code"] == pick]
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
                       file_name=N.file_name(d, number), mime=DOCX_MIME, key="notice_preview_download",
                       on_click="ignore")
    if b2.button("查看版面（PDF 排版效果）", key="notice_layout"):
        try:
            pngs = _preview_pngs(preview)
            cols = st.columns(3)
            for k, png in enumerate(pngs, 1):
                cols[(k - 1) % 3].image(png, caption=f"第 {k} 页")
            st.caption("版面预览由 LibreOffice 排出，公文字体以相近字体代替。")
        except writer.DocumentError as e:
            st.info(f"本机无法排版预览：{e}")

    if not may_issue:
        return
    st.divider()
    _issue_controls(sel, qp, notices, numbers, settings, template, on)

    files = _file_buttons(logged, "notice_file") if len(logged) else []
    noun = level_noun(sel.key, sel.province, sel.level)
    title = N.annex_title(qp, sel.province_name, sel.level, s, noun)

    def annex() -> bytes:  # the downloads below are made when clicked, not on every run
        return N.score_sheet_xlsx(sheet, sel.scheme, title)

    annex_file = N.annex_name(qp, sel.level)
    z1, z2 = st.columns(2)
    if files:
        z1.download_button("下载全部函件及得分表（ZIP）", lambda: I.zip_notices(files, (annex_file, annex())),
                           file_name=f"{quarter}-提醒敦促函.zip", mime="application/zip", key="notice_zip",
                           on_click="ignore")
    else:
        z1.caption("发函后可在此下载全部函件（ZIP）。")
    z2.download_button("下载附件：考评得分表（Excel）", annex, file_name=annex_file, mime=XLSX_MIME, key="notice_annex",
                       on_click="ignore")


def _issue_controls(sel, qp: Period, notices, numbers: dict, settings, template, on: dt.date) -> None:
    """Issue all or one unit: refused (and the button disabled) while a placeholder is left;
    a first click lists what will be numbered, a second confirms."""
    quarter = str(qp)
    ss = st.session_state
    if msg := ss.pop("notice_issued_msg", None):
        st.success(msg, icon=":material/check_circle:")
    blocked = N.placeholders(settings, template, N.DEFAULT_TEMPLATE.name)
    if blocked:
        st.error("尚不能编号印发（预览不受影响）：\n\n" + "\n".join(f"- {b}" for b in blocked)
                 + "\n\n请在“发文设置”中填写。", icon=":material/block:")
    new = [x for x in notices if x.unit_code not in numbers]
    st.write(f"预警单位 {len(notices)} 个：待发函 {len(new)} 份" + (f"，已发函 {len(numbers)} 份" if numbers else "") + "。")
    names = {x.unit_code: x.unit_name for x in notices}
    c1, c2 = st.columns([2, 1])
    choice = c1.selectbox("发函范围", ["__all__", *names], key="notice_scope",
                          format_func=lambda c: f"全部预警单位（{len(notices)} 份）" if c == "__all__"
                          else f"{names[c]}（{numbers.get(c, '未发函')}）", placeholder="请选择")
    chosen = notices if choice == "__all__" else [x for x in notices if x.unit_code == choice]
    fresh = [x for x in chosen if x.unit_code not in numbers]
    label = f"编号并生成提醒敦促函（{len(chosen)} 份）" if fresh else "重新生成所选函件（沿用原文号）"
    if c2.button(label, type="primary" if fresh else "secondary", key="notice_issue", disabled=bool(blocked)):
        ss[CONFIRM] = [x.unit_code for x in chosen]
    pending = ss.get(CONFIRM)
    if not pending or blocked:
        return
    todo = [x for x in notices if x.unit_code in pending]
    s = settings.resolved(sel.province_name, sel.province)
    with st.container(border=True, key="notice_confirm_box"):
        st.write("**请确认以下函件：**")
        lines = []
        for x in todo:
            if x.unit_code in numbers:
                lines.append(f"- {x.unit_name}：重新生成，沿用 {numbers[x.unit_code]}")
            else:
                lines.append(f"- {x.unit_name}：新编号（{s.prefix}〔{on.year}〕…号，按登记簿顺延），成文日期 {N.fmt_date(on)}")
        st.markdown("\n".join(lines))
        k1, k2 = st.columns(2)
        go = k1.button("确认编号印发", type="primary", key="notice_issue_confirm")
        if k2.button("取消", key="notice_issue_cancel"):
            ss.pop(CONFIRM, None)
            st.rerun()
    if go:
        ss.pop(CONFIRM, None)
        try:
            issued = I.issue_notices(_db(), todo, settings=settings, template=template, issued_on=on, actor=_actor())
        except (N.NoticeError, notice_log.NoticeLogError) as e:
            st.error(f"未能发函：{e}")
        else:
            ss["notice_issued_msg"] = "已生成：" + "；".join(f"{i.unit_name} {i.number}" for i in issued)
            st.rerun()


def _log_tab(sel, log: pd.DataFrame, quarter: str) -> None:
    if log.empty:
        st.write("尚未发出提醒敦促函。")
        return
    only = st.toggle("只看未办结", value=False, key="notice_log_open")
    view = log[log["closed_on"].isna() & (log["status"] != "已作废")] if only else log
    table = pd.DataFrame({
        "文号": view["number"], "单位": view["unit_name"], "季度": view["quarter"].map(lambda q: Period.parse(q).label),
        "得分": view["score"], "排名": view["rank"], "成文日期": view["issued_on"], "回复期限": view["reply_due"],
        "收到回复": view["reply_received"], "办结日期": view["closed_on"], "状态": view["status"].map(STATUS_ICON),
        "备注": [f"作废：{r}" if isinstance(r, str) and r else (n if isinstance(n, str) else "")
               for r, n in zip(view["void_reason"], view["note"])]})
    st.dataframe(display.table(table, {"得分": "{:.1f}"}), hide_index=True, width="stretch", key="notice_log_table")
    kept = view[view["status"] != "已作废"]
    if len(kept) and kept["file_path"].notna().any():
        st.caption("函件文件（网页或命令行印发的均在此下载）：")
        _file_buttons(kept, "notice_log_file")
    if not _may_issue():
        return
    open_ = log[log["closed_on"].isna() & (log["status"] != "已作废")]
    if len(open_):
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
                    notice_log.close(_db(), number, when, actor=_actor(), note=note or None)
                else:
                    notice_log.mark_reply(_db(), number, when, actor=_actor(), note=note or None)
            except notice_log.NoticeLogError as e:
                st.error(str(e))
            else:
                st.rerun()   # the log is read from the operational store: nothing cached to clear
    live = log[log["status"] != "已作废"]
    if len(live):
        labels = {n: f"{n} {u}" for n, u in zip(live["number"], live["unit_name"])}
        with st.form("notice_void_form", border=True):
            st.write("**作废文号**（文号作废后不再使用；该单位可重新编号发函）")
            number = st.selectbox("函件", list(labels), format_func=labels.get, key="notice_void_number", placeholder="请选择")
            reason = st.text_input("作废原因（必填）", key="notice_void_reason")
            go = st.form_submit_button("作废", type="secondary")
        if go:
            try:
                notice_log.void(_db(), number, reason, actor=_actor())
            except notice_log.NoticeLogError as e:
                st.error(str(e))
            else:
                st.session_state["notice_void_msg"] = f"已作废 {number}"
                st.rerun()
        if msg := st.session_state.pop("notice_void_msg", None):
            st.success(msg, icon=":material/check_circle:")


def _settings_tab(settings: N.NoticeSettings, s: N.NoticeSettings) -> None:
    """Issuing authority, prefix, first number of the year and contact, set by notice staff;
    each change is audited (official.config)."""
    st.caption("在此修改后立即生效（命令行印发同样使用），每次修改记入审计日志。{省}、{省简称} 会替换为本省名称和简称。"
               f"现在：{s.issuer} · {s.prefix}〔年份〕N号 · 附注（{s.note}）")
    with st.form("notice_settings_form", border=True):
        issuer = st.text_input("发文机关名称", value=settings.issuer, key="notice_set_issuer", max_chars=200)
        prefix = st.text_input("发文字号前缀", value=settings.prefix, key="notice_set_prefix", max_chars=200,
                               help="如 川应急函，文号为 川应急函〔2025〕3号")
        start = st.number_input("本年起始序号", min_value=1, value=int(settings.start_seq), step=1,
                                key="notice_set_start", help="本年度第一份提醒敦促函的序号；已用过的序号不会再用")
        note = st.text_input("联系人及电话（附注）", value=settings.note, key="notice_set_note", max_chars=200,
                             help="如 联系人：张明，电话：028-86630000")
        go = st.form_submit_button("保存发文设置", type="primary")
    if go:
        try:
            changed = config.save(_db(), {"issuer": issuer, "prefix": prefix, "start_seq": start, "note": note},
                                  actor=_actor())
        except N.NoticeError as e:
            st.error(str(e))
        else:
            st.session_state["notice_settings_msg"] = ("已保存：" + "、".join(config.EDITABLE[k][0] for k in changed)
                                                       if changed else "没有改动。")
            st.rerun()
    if msg := st.session_state.pop("notice_settings_msg", None):
        st.success(msg, icon=":material/check_circle:")


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
    st.dataframe(display.table(table, {c: "{:.1f}" for c in (f"{qp.previous().label}得分", f"{qp.label}得分", "变化")},
                               display.NO_DATA),
                 hide_index=True, width="stretch", key="notice_follow_up")
