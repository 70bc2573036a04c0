"""Names across romanisations: one phonetic key for pinyin, Wade-Giles and Cantonese spellings.

A Chinese name reaches the bureau romanised by whoever typed it: Hanyu Pinyin (``Zhang
Xiaoming``), Wade-Giles with its apostrophes dropped (``Chang Hsiao-ming``) or a Cantonese /
Hong Kong spelling of the surname (``Cheung``). The key built here folds those spellings
together, so that comparisons only have to tolerate typos:

1. whole tokens that are well-known non-pinyin surname spellings are replaced by their pinyin
   (``wong`` -> ``wang``, ``cheung`` -> ``zhang``); ambiguous ones get one reading;
2. Wade-Giles finals are rewritten to pinyin (``-ung`` -> ``-ong``, ``-ien`` -> ``-ian``);
3. initials that the two systems spell differently, or that lose their aspiration mark, fall
   into one class (``zh/ch/j/q`` -> ``j``, ``z/c/ts/tz`` -> ``z``, ``x/hs`` -> ``x``,
   ``b/p``, ``d/t``, ``g/k``, ``r``/Wade-Giles ``j``).

The key is coarser than the name (distinct names can share it): it is one comparison among
several, never a link on its own. Everything here is SQL text for DuckDB, built once.
"""

from __future__ import annotations

# Surname spellings from Cantonese (Hong Kong), Hokkien and older systems -> pinyin. The first
# reading wins for ambiguous spellings (``wong``: Wang or Huang). Sources: common usage.
SURNAME_SPELLINGS: dict[str, str] = {
    "wong": "wang",
    "lee": "li",
    "chan": "chen",
    "cheung": "zhang",
    "lau": "liu",
    "lew": "liu",
    "yeung": "yang",
    "hwang": "huang",
    "ng": "wu",
    "woo": "wu",
    "chow": "zhou",
    "chou": "zhou",
    "hui": "xu",
    "suen": "sun",
    "mah": "ma",
    "choo": "zhu",
    "kwok": "guo",
    "ho": "he",
    "lam": "lin",
    "lim": "lin",
    "law": "luo",
    "lo": "luo",
    "leung": "liang",
    "tse": "xie",
    "sung": "song",
    "tong": "tang",
    "hon": "han",
    "fung": "feng",
    "tsang": "zeng",
    "siu": "xiao",
    "poon": "pan",
    "yuen": "yuan",
    "choi": "cai",
    "keung": "jiang",
    "yue": "yu",
    "yip": "ye",
    "yeh": "ye",
    "wai": "wei",
    "soo": "su",
    "loh": "lu",
    "yam": "ren",
    "shum": "shen",
    "yiu": "yao",
    "tam": "tan",
    "faan": "fan",
    "sze": "shi",
    "kam": "jin",
    "ha": "xia",
    "foo": "fu",
    "fong": "fang",
    "chau": "zou",
    "pak": "bai",
    "mang": "meng",
    "yau": "qiu",
    "hau": "hou",
    "sit": "xue",
    "yim": "yan",
    "tuen": "duan",
    "lui": "lei",
    "tou": "tao",
    "mo": "mao",
    "koo": "gu",
    "shiu": "shao",
    "kong": "jiang",
    "tsoi": "cai",
    "kwan": "guan",
    "mak": "mai",
    "kwong": "kuang",
    "wan": "yun",
    "au": "ou",
    "kan": "jian",
    "chiu": "zhao",
    "cho": "cao",
    "tsui": "cui",
    "ching": "cheng",
    "hsieh": "xie",
    "tsao": "cao",
}

# Ordered rewrites on a name's letters (after the surname table). Finals first, so that the
# initials below see pinyin; then initials into their classes.
_REWRITES: tuple[tuple[str, str], ...] = (
    ("iung", "iong"),
    ("ung", "ong"),
    ("ien", "ian"),
    ("ieh", "ie"),
    ("ih\\b", "i"),
    ("tz|ts", "z"),
    ("zh|ch|q", "j"),
    ("hs", "x"),
    ("c", "z"),
    ("r", "j"),
    ("b", "p"),
    ("d", "t"),
    ("g", "k"),
)


def _sql_lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def surname_map_sql() -> str:
    """A DuckDB ``MAP`` literal of :data:`SURNAME_SPELLINGS`."""
    keys = ", ".join(_sql_lit(k) for k in SURNAME_SPELLINGS)
    values = ", ".join(_sql_lit(v) for v in SURNAME_SPELLINGS.values())
    return f"MAP([{keys}], [{values}])"


def phonetic_sql(expr: str) -> str:
    """DuckDB SQL folding the letters of ``expr`` (lower-case, pinyin-ish) into the key."""
    out = expr
    for pattern, replacement in _REWRITES:
        out = f"regexp_replace({out}, {_sql_lit(pattern)}, {_sql_lit(replacement)}, 'g')"
    return out


def name_tokens_sql(name: str) -> str:
    """DuckDB SQL: a name's tokens (hyphens join syllables), each mapped through the table."""
    tokens = (
        f"list_filter(string_split(regexp_replace(regexp_replace(lower({name}), '-', '', 'g'),"
        f" '[^a-z ]', ' ', 'g'), ' '), lambda t: t <> '')"
    )
    return f"list_transform({tokens}, lambda t: coalesce({surname_map_sql()}[t], t))"


__all__ = ["SURNAME_SPELLINGS", "name_tokens_sql", "phonetic_sql", "surname_map_sql"]
