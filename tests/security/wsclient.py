"""A minimal Streamlit client over the websocket, speaking the frontend's protocol (BackMsg /
ForwardMsg protobufs on ``/_stcore/stream``): what an attacker's script can do without a browser.

Used to drive a real server: sign in by sending the form's widget values as the frontend does,
read what each run drew, and send back-messages such as ``clear_cache``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect


@dataclass
class Run:
    """What one script run sent: its elements (type, proto) in order, and how it ended."""
    elements: list = field(default_factory=list)
    status: str = ""

    def of(self, kind: str) -> list:
        return [p for t, p in self.elements if t == kind]

    def text(self) -> str:
        out = []
        for t, p in self.elements:
            for attr in ("body", "label", "message"):
                v = getattr(p, attr, None)
                if isinstance(v, str) and v:
                    out.append(v)
        return "\n".join(out)


class Client:
    def __init__(self, url: str, timeout: float = 120, headers: dict | None = None, ssl=None,
                 open_timeout: float = 10):
        """`ssl`: an SSLContext for an https:// URL (a server behind the TLS proxy)."""
        ws_url = url.replace("https://", "wss://").replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self._conn = connect(ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=open_timeout,
                             additional_headers=headers, **({"ssl": ssl} if ssl is not None else {}))
        self.ws = self._conn.__enter__()
        self.timeout = timeout

    def close(self) -> None:
        self._conn.__exit__(None, None, None)

    def send(self, msg: BackMsg) -> None:
        self.ws.send(msg.SerializeToString())

    def clear_cache(self) -> None:
        """Streamlit's own "Clear caches" message (the frontend's menu sends it)."""
        msg = BackMsg()
        msg.clear_cache = True
        self.send(msg)

    def rerun(self, widgets: list[tuple[str, str, object]] = (), page_name: str = "", query: str = "") -> Run:
        """Ask for a script run with these widget values ((id, kind, value): kind is a WidgetState
        field such as string_value or trigger_value) and collect what it draws until it ends."""
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = query
        cs.page_name = page_name
        for wid, kind, value in widgets:
            w = cs.widget_states.widgets.add()
            w.id = wid
            setattr(w, kind, value)
        self.send(msg)
        return self.collect()

    def collect(self) -> Run:
        run = Run()
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            raw = self.ws.recv(timeout=max(0.1, deadline - time.time()))
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            kind = fm.WhichOneof("type")
            if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                t = el.WhichOneof("type")
                run.elements.append((t, getattr(el, t)))
            elif kind == "script_finished":
                run.status = ForwardMsg.ScriptFinishedStatus.Name(fm.script_finished)
                if run.status != "FINISHED_EARLY_FOR_RERUN":
                    return run
                run = Run()  # a rerun follows (st.rerun): collect that one
        raise TimeoutError("the script run did not finish")


def widget_ids(run: Run) -> dict[str, str]:
    """User key → element id of the run's widgets (the id ends in the key Streamlit was given)."""
    out = {}
    for _, p in run.elements:
        wid = getattr(p, "id", "")
        if isinstance(wid, str) and wid.startswith("$$ID-"):
            out[wid.rsplit("-", 1)[-1]] = wid
    return out


def sign_in(client: Client, username: str, password: str) -> Run:
    """Fill the sign-in form and press 登录, as the frontend sends it (one rerun with the form's values)."""
    form = client.rerun()
    ids = widget_ids(form)
    assert "login_username" in ids, f"no sign-in form: {form.text()[:300]}"
    return client.rerun([(ids["login_username"], "string_value", username),
                         (ids["login_password"], "string_value", password),
                         (ids["login_go"], "trigger_value", True)])
