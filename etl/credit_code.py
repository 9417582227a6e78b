"""GB 32100 unified social credit codes (统一社会信用代码): check character and construction."""
from __future__ import annotations

from etl.validate import CREDIT_CHARS, CREDIT_WEIGHTS


def check_char(first17: str) -> str:
    total = sum(CREDIT_CHARS.index(ch) * w for ch, w in zip(first17, CREDIT_WEIGHTS))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    code = code.strip().upper()
    return (len(code) == 18 and all(ch in CREDIT_CHARS for ch in code)
            and code[17] == check_char(code[:17]))


def make(county_code: str, serial: int) -> str:
    """A well-formed code for an enterprise (登记管理部门 9, 类别 1) registered in `county_code`.

    The organisation-code part (9 characters) is the serial in base 31 over the code alphabet.
    """
    body = []
    n = serial
    for _ in range(9):
        n, r = divmod(n, 31)
        body.append(CREDIT_CHARS[r])
    first17 = "91" + county_code + "".join(reversed(body))
    return first17 + check_char(first17)
