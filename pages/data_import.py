"""数据导入: upload CSV/XLSX, see the validation report, download set-aside rows and templates,
see the load history and the audit trail. Loads go through etl.load (via ui.data.import_uploads),
in the signed-in user's name. Needs the import permission (data admin, province)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import data, display, gate

acc = gate.page(__file__)
RESULT = "import_result"
TABLES = dict(data.tables())

st.title("数据导入")
st.caption("上传执法系统导出的 CSV 或 Excel（.xlsx）文件。表头用中文或英文字段名均可，列的顺序不限；"
           "编码支持 UTF-8 与 GBK。系统逐行校验：合格的行导入，不合格的行单列并写明原因，其余行照常导入。"
           "同一文件重复导入不会产生重复记录；同一编号的新记录会替换旧记录。")

tab_up, tab_tpl, tab_hist, *tab_audit = st.tabs(["上传文件", "模板下载", "导入历史"]
                                                 + (["审计"] if acc.user and acc.can("audit") else []))

# --- upload -------------------------------------------------------------------------------------
with tab_up:
    with st.form("upload_form", clear_on_submit=False, border=True):
        files = st.file_uploader("选择文件（可多选；名录应先于检查、检查先于隐患导入，同一批上传时自动排序）",
                                 type=["csv", "xlsx", "xls", "txt"], accept_multiple_files=True,
                                 key="upload_files")  # size limit: server.maxUploadSize (.streamlit/config.toml)
        st.caption(f"可拖放文件到上方框内，或点“选择文件”。每个文件不超过 {st.get_option('server.maxUploadSize')} MB；"
                   "格式：CSV、XLSX、XLS、TXT。")
        table = st.selectbox("数据表", [""] + list(TABLES), key="upload_table",
                             format_func=lambda t: "自动识别（按表头）" if not t else f"{TABLES[t]}（{t}）", placeholder="请选择")
        go = st.form_submit_button("开始导入", type="primary", key="upload_go")
    if go:
        if not files:
            st.warning("请先选择要导入的文件。")
        else:
            size = sum(f.size for f in files)
            bar = st.progress(0.0, text=f"正在读取与校验 {len(files)} 个文件（{size / 1e6:.1f} MB）…")

            def progress(name: str, done: int, total: int) -> None:
                frac = done / total if total else 1.0
                text = f"正在导入 {name}（{done + 1}/{total}）…" if name else "正在写入数据仓库…"
                bar.progress(min(frac, 1.0), text=text)

            with st.spinner("导入中，请稍候…"):
                result = data.import_uploads(files, table or None, progress=progress,
                                             user=acc.user.username if acc.user else None)
            bar.progress(1.0, text="导入完成")
            st.session_state[RESULT] = result
            st.rerun()  # the warehouse changed: the frame and every cached page see the new version

    result = st.session_state.get(RESULT)
    if result:
        st.subheader("校验报告")
        rows = []
        for f in result["files"]:
            rows.append({
                "文件": f["file"], "数据表": TABLES.get(f["table"], f["table"] or "—"),
                "读取行数": f["read"], "新增": f["loaded"], "更新": f["replaced"] - f["unchanged"],
                "未变": f["unchanged"], "单列（未导入）": f["set_aside"],
                "结果": ("拒收：" + f["refused"]) if f["refused"] else ("部分导入" if f["set_aside"] else "全部导入"),
                "未识别的列（已忽略）": "、".join(f["extra_columns"]),
            })
        report = pd.DataFrame(rows)
        total_set_aside = int(report["单列（未导入）"].sum())
        refused = [f for f in result["files"] if f["refused"]]
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("读取行数", f"{int(report['读取行数'].sum()):,}")
        c2.metric("新增", f"{int(report['新增'].sum()):,}")
        c3.metric("更新 / 未变", f"{int(report['更新'].sum()):,} / {int(report['未变'].sum()):,}")
        c4.metric("单列（未导入）", f"{total_set_aside:,}")
        st.dataframe(display.table(report), hide_index=True, width="stretch", key="import_report")
        for f in refused:
            st.error(f"文件 {f['file']} 被整体拒收：{f['refused']}", icon=":material/block:")
        if total_set_aside:
            st.warning(f"{total_set_aside} 行未通过校验，已单列、未导入。请按原因修改后重新导入这些行。", icon=":material/warning:")
            sa = result["set_aside"].rename(columns={"file": "文件", "row": "行号", "column": "列", "value": "值",
                                                     "reason": "原因", "raw": "原始行"})
            st.dataframe(display.table(sa, {"行号": lambda v: f"{int(v)}"}), hide_index=True, width="stretch", key="import_set_aside")
            if result["report_bytes"]:
                st.download_button("下载未导入的行及原因（CSV）", result["report_bytes"],
                                   file_name=f"未导入行-{result['run_id']}.csv", mime="text/csv",
                                   key="download_set_aside", on_click="ignore")
        elif not refused:
            st.success("全部行已通过校验并导入。", icon=":material/check_circle:")

# --- templates ----------------------------------------------------------------------------------
with tab_tpl:
    st.write("每张表的空白模板：第一行是表头（红色为必填列），Excel 模板另附“填写说明”工作表。")
    t = st.selectbox("数据表", list(TABLES), key="template_table", format_func=lambda x: f"{TABLES[x]}（{x}）", placeholder="请选择")
    c1, c2, _ = st.columns([1, 1, 3])
    c1.download_button("下载 Excel 模板", data.template_bytes(t, ".xlsx"), file_name=f"{TABLES[t]}模板.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="download_template_xlsx", on_click="ignore")
    c2.download_button("下载 CSV 模板", data.template_bytes(t, ".csv"), file_name=f"{TABLES[t]}模板.csv",
                       mime="text/csv", key="download_template_csv", on_click="ignore")

# --- history ------------------------------------------------------------------------------------
with tab_hist:
    hist = data.load_history(data.key())
    if hist.empty:
        st.info("还没有导入记录。")
    else:
        view = hist.assign(
            table_name=hist.table_name.map(lambda t: TABLES.get(t, t or "—")),
            refused=hist.refused.fillna(""),
            extra_columns=hist.extra_columns.fillna("").str.replace("|", "、"),
        ).rename(columns={
            "load_id": "批次号", "run_id": "导入批", "loaded_at": "导入时间", "loaded_by": "操作人", "file_name": "文件",
            "table_name": "数据表", "rows_read": "读取", "loaded": "新增", "replaced": "替换", "unchanged": "未变",
            "set_aside": "单列", "refused": "拒收原因", "extra_columns": "未识别的列",
        })
        st.dataframe(display.table(view), hide_index=True, width="stretch", key="history_table",
                     column_config={"导入时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})
        with_rows = hist[hist.set_aside > 0]
        if not with_rows.empty:
            pick = st.selectbox("查看某次导入未通过校验的行", with_rows.load_id.tolist(), key="history_load",
                                format_func=lambda i: f"批次 {i}：{hist.set_index('load_id').loc[i, 'file_name']}", placeholder="请选择")
            rows = data.set_aside(data.key(), int(pick))
            st.dataframe(display.table(rows.rename(columns={"file_name": "文件", "row_number": "行号", "column_name": "列",
                                                            "value": "值", "reason": "原因", "raw": "原始行"})),
                         hide_index=True, width="stretch", key="history_set_aside")

# --- audit trail --------------------------------------------------------------------------------
if tab_audit:
    with tab_audit[0]:
        from ops.audit import ACTIONS
        from etl.safe import csv_bytes

        st.caption("谁在何时导入了哪个文件、印发或办结了哪份提醒敦促函、登录与退出（最近 1000 条，最新在前）。"
                   "登录记录先写入数据仓库旁的审计日志，下次导入或发函时并入数据仓库。")
        trail = data.audit_trail(limit=1000)
        c1, c2 = st.columns([1, 2])
        who = c1.text_input("操作人", key="audit_who", placeholder="用户名")
        kinds = c2.multiselect("操作", list(ACTIONS), key="audit_actions", format_func=ACTIONS.get,
                               placeholder="全部操作")
        if who.strip():
            trail = trail[trail["who"].astype(str).str.contains(who.strip(), regex=False)]
        if kinds:
            trail = trail[trail["action"].isin(kinds)]
        view = pd.DataFrame({"时间": trail["when"], "操作人": trail["who"], "操作": trail["action"].map(lambda a: ACTIONS.get(a, a)),
                             "详情": trail["detail"], "编号": trail["ref"]})
        if view.empty:
            st.info("没有符合条件的审计记录。")
        else:
            st.dataframe(display.table(view), hide_index=True, width="stretch", key="audit_table",
                         column_config={"时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
                                        "详情": st.column_config.TextColumn(width="large")})
            st.download_button("下载审计记录（CSV）", csv_bytes(view), file_name="审计记录.csv", mime="text/csv",
                               key="audit_download", on_click="ignore")
